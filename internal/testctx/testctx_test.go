package testctx_test

import (
	"context"
	"testing"
	"time"

	"hookline/internal/testctx"
)

// TestNew: the context has a deadline no later than Hang from now, is live while the test
// runs and in its cleanups, and is cancelled once the test has ended.
func TestNew(t *testing.T) {
	var ctx context.Context
	var inCleanup error
	t.Run("user", func(t *testing.T) {
		start := time.Now()
		ctx = testctx.New(t)
		t.Cleanup(func() { inCleanup = ctx.Err() })
		deadline, ok := ctx.Deadline()
		if !ok || deadline.Before(start) || deadline.After(time.Now().Add(testctx.Hang)) {
			t.Errorf("deadline %v (set: %v), want within %v of %v", deadline, ok, testctx.Hang, start)
		}
		if err := ctx.Err(); err != nil {
			t.Errorf("while the test runs: %v", err)
		}
	})
	if inCleanup != nil {
		t.Errorf("in the test's own cleanup: %v, want it still live", inCleanup)
	}
	if err := ctx.Err(); err != context.Canceled {
		t.Errorf("after the test: %v, want %v", err, context.Canceled)
	}
}
