# ── Browser test for the web view (pkg/webui, issue 6) ─────────────────────────────────────
# TestBrowser drives Debian's headless Chromium through chromedriver. Installed here when
# missing, so `make test` runs it everywhere (in CI it fails rather than skips without it).
# fonts-dejavu-core gives the screenshots legible text on minimal images.
BROWSER_PACKAGES := chromium chromium-driver fonts-dejavu-core

.PHONY: browser-prereqs screenshots

test-prereqs:: browser-prereqs

browser-prereqs: ## install headless Chromium + chromedriver for the browser test (Debian, apt)
	@if [ -x /usr/bin/chromium ] && command -v chromedriver >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null; then SUDO=sudo; \
	else echo "browser-prereqs: need root or sudo to install $(BROWSER_PACKAGES)" >&2; exit 1; fi; \
	$$SUDO apt-get update && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(BROWSER_PACKAGES)

screenshots: browser-prereqs ## run the browser test; screenshots land in build/screenshots/
	$(GO) test -count=1 -run '^TestBrowser$$' -v ./pkg/webui
