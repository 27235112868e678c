// Package ci holds the one rule for tests whose peer (node and its modules, dynalite, maildev,
// Chromium, newman) is missing: skip with a hint on a developer's machine, fail under CI=true,
// where `make test` installs every peer and nothing may be skipped silently. It imports only
// the standard library, so any test can use it without linking the peers' clients.
package ci

import (
	"fmt"
	"os"
	"testing"
)

// On reports whether the tests run in CI (CI=true, as .ci/run and most CI systems set it).
func On() bool { return os.Getenv("CI") == "true" }

// Missing stops t because a peer it needs is missing: t.Fatal in CI, t.Skip elsewhere. The
// message should say what is missing and how to install it.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if On() {
		t.Fatalf("required in CI: %s", msg)
	}
	t.Skip(msg)
}
