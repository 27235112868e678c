# Mutation testing (issue 17): gremlins (pinned; `go run` like staticcheck in mk/lint.mk) changes
# the product code one operator at a time (a + for a -, a < for a <=, a condition negated) and
# runs the package's tests against each mutant. A mutant the tests still pass "lived": the tests
# cannot tell that code from the right one. Efficacy = killed / (killed + lived), per package.
# docs/mutation/ holds the dated reports: per package what was reached, and each mutant that
# lives with the reason it cannot change behaviour (an equivalent mutant).
#
# - One package at a time, each with its own tests (every package listed has them: a mutant is
#   tested by `go test <its package>`, so no --coverpkg/--integration run of the whole suite).
#   Test-support subpackages (verifytest, storetest, enginetest, and pipeline's digesttest,
#   mailertest, publishertest, rejectedtest) are excluded: not product code.
# - GOFLAGS=-count=1: with cached results gremlins measures a near-zero test time, derives its
#   per-mutant timeouts from it, and reports almost every mutant "timed out".
# - --timeout-coefficient 10 (default 3): the timeout is that coefficient × the coverage run's
#   time; on a shared 2-core machine 3× turns slow-but-passing runs into false "timed out".
# - A failing package stops `make mutate` only after every package ran: see build/mutation/.
# - gremlins copies the module into a work directory per worker, regular files and directories
#   only: a symbolic link .tools/node_modules (a worktree's) is left out, so the tests that start
#   dynalite or maildev skip under every mutant (pkg/ddbhistory in such a worktree: 34 killed,
#   48 lived). The recipe refuses to start with that link.
#
# - The efficacy gate is this file's, not gremlins': v0.6.0 ignores --threshold-efficacy given
#   as a flag (viper hands the float flag back as the string "90", gremlins type-asserts a
#   float64 or int, gets neither, and its threshold is 0: exit 0 at any efficacy -- CI passed
#   pkg/ddbhistory at 85.19 %, 2026-12-02; docs/mutation/2026-12-02-round-11.md). So the recipe
#   reads killed and lived from gremlins' JSON report and fails a package whose killed / (killed
#   + lived) is below MUTATE_EFFICACY (at it passes), or with no mutant killed or lived, or whose
#   gremlins run failed (exit status not 0: its tests fail unmutated, say).
#
# CI (.ci/run, after make test): `make mutate-changed MUTATE_BUDGET=2700`, with the efficacy
# gate: every listed package that a Go file of the change touches (git diff
# against MUTATE_BASE: the merge base with origin/main; on main itself the previous commit, so CI
# on main checks the packages of its last commit). A change with no Go file in them runs nothing.
# So a change of several commits is mutated whole only by hand: `make mutate-changed
# MUTATE_BASE=<the commit before it>` (round 15 found a package below the gate that way:
# docs/mutation/2026-12-03-round-15.md).
# The whole set does not fit next to make test (~7 min) in CI's 90 minutes on a 2-core machine
# (docs/mutation/2026-12-02.md: one whole `make mutate` took 2 h 41 min on a shared machine,
# ddbstore 33 min, the engine 36, event 17 to 36), so
# CI caps it at 45 minutes: packages run quickest first, and the one still running when that is
# spent is stopped and, with those after it, listed "not run or stopped" -- it does not fail CI;
# run `make mutate-changed` (no budget) by hand for those. In practice ddbstore, pipeline and the
# engine are not finished in CI. Worst case: make test + 46 min (timeout -k 60), inside CI's 90
# minutes even with make test at the 35 min it took once on a loaded machine.
# The package selection is done here rather than with gremlins' --diff: the previous engineer
# found that from a package directory v0.6.0 compares package-relative mutant paths with the
# repository-relative paths of the diff and skips every mutant (not re-checked).
GREMLINS := github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
# In the order they run: the quickest first (docs/mutation/ has the run times), so a budgeted
# run (MUTATE_BUDGET) gets through as many as it can.
MUTATE_PKGS ?= pkg/ddbjson pkg/ddbkeep pkg/ddbput pkg/snsbus pkg/awsjson pkg/ddbnotify pkg/ddbhistory pkg/ddbitem pkg/problem pkg/local/localdlq \
	pkg/kmsseal pkg/lambdaio pkg/event \
	pkg/verify pkg/source pkg/local/gateway pkg/email pkg/local/runner pkg/ddbstore pkg/pipeline \
	pkg/local/engine
MUTATE_EFFICACY ?= 90
# Seconds the whole run may take; 0: no limit (see mutate-pkgs).
MUTATE_BUDGET ?= 0
# Mutants tested at once. More than the cores (gremlins' default): a mutant's test run spends
# much of its time waiting, not computing -- the engine's suite on fsync (8 s wall, 3.2 s CPU
# under load), ddbstore's on dynalite -- and three engine suites at once took 11.2 s against
# 7.3 s for one (2026-12-02, load ~7): about twice the throughput.
MUTATE_WORKERS ?= 4
MUTATE_FLAGS ?= --workers $(MUTATE_WORKERS) --timeout-coefficient 10 \
	--exclude-files '^verifytest/' --exclude-files '^storetest/' --exclude-files '^enginetest/' \
	--exclude-files '^digesttest/' --exclude-files '^mailertest/' --exclude-files '^publishertest/' \
	--exclude-files '^rejectedtest/'
MUTATE_OUT := build/mutation
# The merge base with main (origin/main in a CI clone); on main itself, the previous commit.
MUTATE_BASE ?= $(shell b=$$(git merge-base HEAD origin/main 2>/dev/null || git merge-base HEAD main 2>/dev/null); \
	if [ -z "$$b" ] || [ "$$b" = "$$(git rev-parse HEAD)" ]; then b=$$(git rev-parse HEAD~1 2>/dev/null); fi; echo $$b)

.PHONY: mutate mutate-changed

# $(call mutate-pkgs,<packages>): each package in turn; a summary line each, in
# $(MUTATE_OUT)/summary.txt, and a FAIL line for each package below MUTATE_EFFICACY (or whose
# run failed); exits 1 at the end if there was one. With MUTATE_BUDGET > 0 (seconds), a package
# still running when the budget is spent is stopped (timeout signals gremlins' whole process
# group; gremlins mutates copies in a temporary work directory, never the checkout) and it and
# the packages after it are listed as not run: they do not fail the run.
define mutate-pkgs
	@if [ -L .tools/node_modules ]; then echo "mutate: .tools/node_modules is a symbolic link (a worktree's?), which gremlins does not copy into its work directories: the tests that start dynalite or maildev would skip under every mutant, and its mutants live. Make it a copy (cp -a), or run in a clone." >&2; exit 1; fi
	@mkdir -p $(MUTATE_OUT); : > $(MUTATE_OUT)/summary.txt; failed=; unrun=; t0=$$SECONDS; \
	for p in $(1); do \
	  out=$(MUTATE_OUT)/$$(echo $$p | tr / _); start=$$SECONDS; limit=; \
	  if [ $(MUTATE_BUDGET) -gt 0 ]; then \
	    left=$$(( $(MUTATE_BUDGET) - (SECONDS - t0) )); \
	    if [ $$left -le 0 ]; then unrun="$$unrun $$p"; continue; fi; \
	    limit="timeout -k 60 $$left"; \
	  fi; \
	  echo "mutate $$p"; rm -f $$out.json; \
	  GOFLAGS=-count=1 $$limit $(GO) run $(GREMLINS) unleash $(MUTATE_FLAGS) -o $$out.json ./$$p > $$out.txt 2>&1; rc=$$?; \
	  if [ -n "$$limit" ] && [ $$rc -eq 124 ]; then unrun="$$unrun $$p"; continue; fi; \
	  printf '%-20s %s (%d s)\n' $$p "$$(grep -E 'Killed:|Timed out:|Test efficacy:|Mutator coverage:' $$out.txt | tr '\n' ' ')" $$((SECONDS - start)) | tee -a $(MUTATE_OUT)/summary.txt; \
	  k=$$(grep -oE '"mutants_killed":[0-9]+' $$out.json 2>/dev/null | cut -d: -f2); \
	  l=$$(grep -oE '"mutants_lived":[0-9]+' $$out.json 2>/dev/null | cut -d: -f2); \
	  if [ $$rc -ne 0 ]; then why="gremlins exited $$rc"; \
	  elif [ -z "$$k" ] || [ -z "$$l" ]; then why="no killed/lived counts in $$out.json"; \
	  elif [ $$((k + l)) -eq 0 ]; then why="no mutant killed or lived (all timed out or not covered?)"; \
	  else why=$$(awk -v k=$$k -v l=$$l -v min=$(MUTATE_EFFICACY) 'BEGIN { e = 100 * k / (k + l); \
	    if (e < min) printf "efficacy %.2f %% is below MUTATE_EFFICACY %s %% (%d killed, %d lived)", e, min, k, l }'); fi; \
	  if [ -n "$$why" ]; then failed="$$failed $$p"; echo "FAIL $$p: $$why; see $$out.txt" | tee -a $(MUTATE_OUT)/summary.txt >&2; fi; \
	done; \
	if [ -n "$$unrun" ]; then echo "not run or stopped, MUTATE_BUDGET=$(MUTATE_BUDGET) s spent (not failed):$$unrun" | tee -a $(MUTATE_OUT)/summary.txt; fi; \
	if [ -n "$$failed" ]; then echo "mutation testing failed (below $(MUTATE_EFFICACY) % efficacy, or the run failed):$$failed" >&2; exit 1; fi
endef

mutate: deps tools ## mutation-test every product package (gremlins; long: see docs/mutation/)
	$(call mutate-pkgs,$(MUTATE_PKGS))

mutate-changed: deps tools ## mutation-test the product packages the change touches
	$(eval MUTATE_CHANGED := $(filter $(sort $(patsubst %/,%,$(dir $(shell git diff --name-only $(MUTATE_BASE) -- '*.go' 2>/dev/null)))),$(MUTATE_PKGS)))
	@echo "mutate-changed: against $(MUTATE_BASE): $(or $(MUTATE_CHANGED),no product package changed)"
	$(if $(MUTATE_CHANGED),$(call mutate-pkgs,$(MUTATE_CHANGED)))
