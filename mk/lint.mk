# Static analysis, pinned: staticcheck v0.8.2 (what the module proxy serves here) on top of
# go vet. Zero findings is the bar; a suppression needs a //lint:ignore with its reason.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# gofmt of the toolchain that builds the module, over the tracked Go files only (.tools/ holds
# the CDK's Go templates, which are not Go until rendered).
GOFMT_CHECK = unformatted=$$("$$($(GO) env GOROOT)/bin/gofmt" -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: not formatted (run gofmt -w on them):"; echo "$$unformatted"; exit 1; fi

.PHONY: lint
lint: ## go vet, staticcheck and gofmt over the whole module
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@$(GOFMT_CHECK)

test-prereqs::
	$(GO) run $(STATICCHECK) ./...
	@$(GOFMT_CHECK)
