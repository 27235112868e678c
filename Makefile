# hookline — every target works offline on a fresh clone once `go mod download` and
# `npm ci --prefix .tools` have run (make test and make run do both).

SHELL := /bin/bash
GO ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: help deps tools run test vet lambdas bench fuzz clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

deps: ## download Go modules
	$(GO) mod download

tools: .tools/node_modules/.package-lock.json ## install pinned npm test tools into .tools/

.tools/node_modules/.package-lock.json: .tools/package.json .tools/package-lock.json
	npm ci --prefix .tools --no-audit --no-fund
	@touch $@

run: deps ## run the whole pipeline locally on 127.0.0.1:8080 (state in .hookline/)
	$(GO) run ./cmd/hookline local $(ARGS)

test: deps tools vet ## install what tests need, vet, and run every test
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

lambdas: ## cross-build every function to build/<fn>/bootstrap (linux/arm64)
	@for fn in $(FUNCTIONS); do \
	  echo "build/$$fn/bootstrap"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o build/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

bench: ## run the Go benchmarks (see BENCHMARKS.md)
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./pkg/... | tee build/bench.txt

clean:
	rm -rf build cdk.out
