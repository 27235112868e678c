package email

import (
	"context"
	"testing"
	"time"

	"hookline/pkg/pipeline"
)

// TestOutboxSyncOncePerEnd: syncTo fsyncs when the file is not yet durable up to the end asked
// for and does nothing when an earlier fsync already covered it (how concurrent Sends share one
// fsync). The file is closed before each syncTo, so an fsync shows as an error.
func TestOutboxSyncOncePerEnd(t *testing.T) {
	t.Parallel()
	for _, sync := range []bool{false, true} {
		o := &Outbox{Dir: t.TempDir(), Sync: sync, Now: func() time.Time { return time.Unix(0, 0) }}
		if err := o.Send(context.Background(), pipeline.Email{EventID: "e1", Source: "s", Type: "t", Subject: "s", Text: "x"}); err != nil {
			t.Fatal(err)
		}
		end := o.scanned
		if err := o.f.Close(); err != nil {
			t.Fatal(err)
		}
		err := o.syncTo(end)
		switch {
		case sync && err != nil:
			t.Errorf("Sync: Send's fsync covered the end, yet syncTo fsynced again: %v", err)
		case !sync && err == nil:
			t.Errorf("no Sync: nothing was fsynced, yet syncTo(%d) did not fsync (synced = %d)", end, o.synced)
		}
	}
}

func TestIsFromLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line string
		min  int
		want bool
	}{
		{"From x\r\n", 0, true},
		{"From x\r\n", 1, false},
		{">From x\r\n", 1, true},
		{">>From x\r\n", 1, true},
		{">From x\r\n", 0, true},
		{"From: x\r\n", 0, false},
		{" From x\r\n", 0, false},
		{">>", 0, false},
		{"", 0, false},
	} {
		if got := isFromLine([]byte(tc.line), tc.min); got != tc.want {
			t.Errorf("isFromLine(%q, %d) = %v, want %v", tc.line, tc.min, got, tc.want)
		}
	}
}
