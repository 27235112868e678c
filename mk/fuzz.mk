# Fuzzing (issue 7, item 5). Every fuzz target in pkg/ (found with `go test -list`, so a new
# target is fuzzed without editing this file) runs from its checked-in corpus (f.Add seeds and
# testdata/fuzz/) for a fixed budget. `make test` runs FUZZ_BUDGET per target; `make fuzz` runs
# FUZZ_TIME per target for longer local runs. A crasher is written to the package's
# testdata/fuzz/<Target>/: commit it, it becomes a regression test of plain `go test`.
#
# The CI budget is an execution count, not a duration: `-fuzztime` with a short duration is
# flaky in Go's fuzz coordinator (it can fail with "context deadline exceeded" while workers
# start), a count is not, and it makes runs comparable across machines. 50000 executions per
# target take 2–5 s each here (2-core VM), building the instrumented test binary included.
FUZZ_PKGS ?= ./pkg/...
FUZZ_BUDGET ?= 50000x
FUZZ_TIME ?= 1m
# Lines "<package> <FuzzTarget>": names print before their package's "ok" line.
FUZZ_LIST = $(GO) test -list '^Fuzz' $(FUZZ_PKGS) | awk '/^Fuzz/ { n[++c] = $$1; next } /^ok/ { for (i = 1; i <= c; i++) print $$2, n[i]; c = 0 }'

# $(call fuzz-all,<fuzztime>): each target in turn, stopping at the first failure.
define fuzz-all
	@set -eo pipefail; targets="$$($(FUZZ_LIST))"; \
	test -n "$$targets" || { echo "no fuzz targets found in $(FUZZ_PKGS)" >&2; exit 1; }; \
	start=$$SECONDS; \
	while read -r pkg fn; do \
	  echo "fuzz $$pkg $$fn ($(1))"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(1) $$pkg | grep -v '^fuzz: elapsed' ; \
	done <<< "$$targets"; \
	echo "fuzzed $$(wc -l <<< "$$targets") targets in $$((SECONDS - start)) s"
endef

.PHONY: fuzz
test-prereqs::
	$(call fuzz-all,$(FUZZ_BUDGET))

fuzz: deps ## run every fuzz target for FUZZ_TIME (default 1m) each; crashers land in testdata/fuzz/
	$(call fuzz-all,$(FUZZ_TIME))
