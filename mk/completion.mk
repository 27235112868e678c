# Shell completion test (cmd/hookline TestBashCompletion, issue 14): cobra's bash script needs
# bash-completion's helpers (_get_comp_words_by_ref). Installed here when missing, so `make test`
# runs the test everywhere (in CI it fails rather than skips without it).
.PHONY: completion-prereqs

test-prereqs:: completion-prereqs

completion-prereqs: ## install bash-completion for the shell completion test (Debian, apt)
	@if [ -f /usr/share/bash-completion/bash_completion ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null; then SUDO=sudo; \
	else echo "completion-prereqs: need root or sudo to install bash-completion" >&2; exit 1; fi; \
	$$SUDO apt-get update && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bash-completion
