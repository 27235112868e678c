# Doc test (docs/doc_test.go, issue 14): the console examples of README.md and docs/ run in bash
# and call curl and grep, as a reader would. Installed here when missing, so `make test` runs
# them everywhere.
.PHONY: docs-prereqs

test-prereqs:: docs-prereqs

docs-prereqs: ## install curl for the doc test when missing (Debian, apt)
	@if command -v curl >/dev/null && command -v grep >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null; then SUDO=sudo; \
	else echo "docs-prereqs: need root or sudo to install curl" >&2; exit 1; fi; \
	$$SUDO apt-get update && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl grep
