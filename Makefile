# hookline — every target works offline on a fresh clone once its downloads are done: `make run`
# and `make build` fetch only the modules the CLI links (go run/build do it themselves); targets
# that test, synth or deploy run `go mod download` (the CDK for Go is ~264 MB) and `npm ci
# --prefix .tools`.

SHELL := /bin/bash
GO ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: help deps tools build run test vet lambdas bench fuzz clean

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

deps: ## download Go modules
	$(GO) mod download

tools: .tools/node_modules/.package-lock.json ## install pinned npm test tools into .tools/

.tools/node_modules/.package-lock.json: .tools/package.json .tools/package-lock.json
	npm ci --prefix .tools --no-audit --no-fund
	@touch $@

# `hookline version` prints the commit. The build info has it only when Go stamps VCS data,
# which GOFLAGS=-buildvcs=false (set on some machines) turns off, so the commit is passed in.
# Recursive (=): git runs only for the targets that build the CLI.
VCS_REVISION = $(shell git rev-parse HEAD 2>/dev/null)
VCS_MODIFIED = $(shell test -n "$$(git status --porcelain 2>/dev/null)" && echo true)
CLI_LDFLAGS = -X main.vcsRevision=$(VCS_REVISION) -X main.vcsModified=$(VCS_MODIFIED)

build: ## build the CLI to bin/hookline, stamped with the commit (or: go install ./cmd/hookline)
	$(GO) build -ldflags '$(CLI_LDFLAGS)' -o bin/hookline ./cmd/hookline

# No `deps` here: go run fetches what the CLI links, and nothing of the CDK (infra/ only).
run: ## run the whole pipeline locally on 127.0.0.1:8080 (state in .hookline/)
	$(GO) run -ldflags '$(CLI_LDFLAGS)' ./cmd/hookline local $(ARGS)

test: deps tools test-prereqs vet ## install what tests need, vet, run every test (CDK assertions included), synth the stack
	$(GO) test -count=1 ./...
	$(MAKE) synth-check

# Fragments in mk/*.mk add install steps with their own `test-prereqs::` rules (double-colon:
# each fragment's recipe runs) and their own targets, without editing this file.
.PHONY: test-prereqs
test-prereqs::
	@true

vet:
	$(GO) vet ./...

lambdas: ## cross-build every function to build/<fn>/bootstrap (linux/arm64)
	@for fn in $(FUNCTIONS); do \
	  echo "build/$$fn/bootstrap"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o build/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

# benchstat pinned by pseudo-version (x/perf has no tags); it summarises -count runs.
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
BENCH_PKGS := ./pkg/lambdaio ./pkg/verify ./pkg/local/... ./pkg/ddbstore

# Each run is kept as docs/benchmarks/<date>-<time>-<commit>.md; BENCHMARKS.md keeps only the
# latest one (everything below its marker line is replaced), so it does not grow with every run.
BENCH_MARKER := <!-- latest run:
BENCH_RUN = docs/benchmarks/$(shell date -u +%Y-%m-%d-%H%M)-$(shell git rev-parse --short HEAD 2>/dev/null || echo nogit).md

bench: deps tools ## Go benchmarks (-count 6, benchstat), then the loopback load runs; the run goes to docs/benchmarks/ and BENCHMARKS.md's latest run
	@grep -q '^$(BENCH_MARKER)' BENCHMARKS.md || { echo "BENCHMARKS.md has no '$(BENCH_MARKER)' line to put the run after" >&2; exit 1; }
	@mkdir -p build
	$(GO) test -run '^$$' -bench . -benchmem -count 6 $(BENCH_PKGS) > build/bench.txt
	$(GO) build -o build/hookline ./cmd/hookline
	$(GO) run ./cmd/hookline-bench --bin build/hookline $(BENCH_ARGS) > build/bench-load.md
	{ cat build/bench-load.md; echo 'Go benchmarks (`$(GO) test -bench . -benchmem -count 6 $(BENCH_PKGS)`, summarised by benchstat):'; \
	  echo; echo '```'; $(GO) run $(BENCHSTAT) build/bench.txt; echo '```'; } > build/bench-run.md
	$(MAKE) --no-print-directory bench-publish BENCH_FILE=build/bench-run.md

# bench-publish: put a finished run (BENCH_FILE) into docs/benchmarks/ and in place of BENCHMARKS.md's latest run.
.PHONY: bench-publish
bench-publish:
	@test -s "$(BENCH_FILE)" || { echo "bench-publish: BENCH_FILE=$(BENCH_FILE) is empty or missing" >&2; exit 1; }
	@out=$(BENCH_RUN); cp $(BENCH_FILE) $$out && \
	  { sed '/^$(BENCH_MARKER)/q' BENCHMARKS.md; echo; cat $(BENCH_FILE); } > build/BENCHMARKS.md.new && \
	  mv build/BENCHMARKS.md.new BENCHMARKS.md && echo "wrote $$out; BENCHMARKS.md's latest run is now that run"

clean:
	rm -rf build bin cdk.out

# ── AWS: the CDK app in infra/ (issue 5) ──────────────────────────────────────────────────
# The CDK CLI is pinned in .tools/ (npm aws-cdk@2.1148.1) and runs with notices, telemetry and
# version checks off; `cdk synth` needs no credentials. CDK_ARGS passes anything else, e.g.
# CDK_ARGS='-c dev=true' for a disposable stack (see infra/doc.go for every context key).
CDK := .tools/node_modules/.bin/cdk
CDK_FLAGS := --no-notices
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: synth synth-check diff deploy destroy infra-test

synth: deps tools ## build the functions and print the stack's CloudFormation template (offline)
	$(MAKE) lambdas
	$(CDK) synth $(CDK_FLAGS) $(CDK_ARGS)

synth-check: deps tools ## synth through the CDK CLI and cdk.json, quietly: a broken stack fails make test
	$(MAKE) lambdas
	$(CDK) synth $(CDK_FLAGS) --quiet $(CDK_ARGS)

diff: deps tools ## show what deploy would change (needs AWS credentials)
	$(MAKE) lambdas
	$(CDK) diff $(CDK_FLAGS) $(CDK_ARGS)

deploy: deps tools ## deploy to AWS: make deploy EMAIL=you@example.com (EMAIL needed the first time)
	$(MAKE) lambdas
	$(CDK) deploy $(CDK_FLAGS) $(if $(EMAIL),--parameters NotifyEmail=$(EMAIL)) $(CDK_ARGS)

destroy: deps tools ## delete the stack; table, secret, key and logs are kept unless deployed with dev=true
	$(MAKE) lambdas
	$(CDK) destroy $(CDK_FLAGS) $(CDK_ARGS)

infra-test: deps tools ## CDK assertion tests, the cdk-nag AwsSolutions rules and the AWS rehearsal (no make lambdas needed)
	$(GO) test -count=1 ./infra

# Last, so no fragment's first rule becomes the default goal.
-include mk/*.mk
