package dynalitetest_test

import (
	"context"
	"testing"
	"time"

	"hookline/pkg/dynalitetest"
)

func TestStart(t *testing.T) {
	start := time.Now()
	endpoint := dynalitetest.Start(t)
	t.Logf("dynalite at %s after %v", endpoint, time.Since(start))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := dynalitetest.Ping(ctx, dynalitetest.Client(t, endpoint)); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
}
