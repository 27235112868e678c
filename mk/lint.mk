# Static analysis, pinned: staticcheck v0.8.2 (what the module proxy serves here) on top of
# go vet. Zero findings is the bar; a suppression needs a //lint:ignore with its reason.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: lint
lint: ## go vet and staticcheck over the whole module
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

test-prereqs::
	$(GO) run $(STATICCHECK) ./...
