package testenv_test

import (
	"context"
	"testing"
	"time"

	"hookline/internal/testenv"
)

func TestStartDynalite(t *testing.T) {
	start := time.Now()
	endpoint := testenv.StartDynalite(t)
	t.Logf("dynalite at %s after %v", endpoint, time.Since(start))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := testenv.PingDynamoDB(ctx, testenv.DynamoDB(t, endpoint)); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
}
