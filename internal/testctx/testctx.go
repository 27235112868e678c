// Package testctx gives a test the context its calls run under, so that every suite bounds a
// stuck call the same way: the contract suites of the ports (storetest, rejectedtest,
// publishertest, mailertest, dlqtest) and the engine's (enginetest.Context) each had a copy.
package testctx

import (
	"context"
	"testing"
	"time"
)

// Hang is how long a test's calls may take in all: far beyond what they need on a loaded
// machine, so reaching it means a hang, which then fails the test instead of blocking it.
const Hang = 20 * time.Second

// New returns a context cancelled when t ends or after Hang, whichever comes first. It is not
// t.Context(): that one is cancelled before t's cleanups run, and cleanups use this context.
func New(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Hang)
	t.Cleanup(cancel)
	return ctx
}
