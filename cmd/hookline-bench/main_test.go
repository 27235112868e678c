package main

import (
	"bytes"
	"context"
	"testing"
)

// TestRefusesABadHistorySize: a --history entry that is not a positive count ends the command
// with status 2 and names the entry, before any run starts.
func TestRefusesABadHistorySize(t *testing.T) {
	for _, sizes := range []string{"1000,x", "0", "100,-5"} {
		var stdout, stderr bytes.Buffer
		if got := command.Call(context.Background(), []string{"-bin", "/nonexistent/hookline", "-history", sizes}, &stdout, &stderr); got != 2 || !bytes.Contains(stderr.Bytes(), []byte("is not a positive count")) || stdout.Len() != 0 {
			t.Errorf("--history %s: status %d, stderr %q, stdout %q; want 2 and the entry named", sizes, got, stderr.String(), stdout.String())
		}
	}
}
