package email

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
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

// TestOutboxReusesItsRecordBuffer: Send renders each record into a buffer it reuses, so an
// email costs less than its record's buffer (sizeHint), and a record rendered into a buffer
// that held a longer one is exactly the record mboxRecord makes afresh.
func TestOutboxReusesItsRecordBuffer(t *testing.T) {
	date := time.Date(2026, 12, 3, 3, 0, 0, 0, time.UTC)
	o := &Outbox{Dir: t.TempDir(), Now: func() time.Time { return date }}
	long := strings.Repeat("  \"message\": \"fix the build\",\n", 200)
	mail := func(i int, text string) pipeline.Email {
		return pipeline.Email{EventID: fmt.Sprint("e", i), Source: "github", Type: "push", Subject: "s", Text: text}
	}
	for i, text := range []string{long, "short\n", long[:300], "From here\n"} {
		m := mail(i, text)
		if err := o.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		want, err := mboxRecord(nil, m, DefaultFrom, DefaultTo, date)
		if err != nil {
			t.Fatal(err)
		}
		got, err := o.Email(m.EventID)
		if err != nil {
			t.Fatal(err)
		}
		// Email returns the message without its "From " line and blank line, unquoted.
		if msg := unquoteFrom(want[bytes.IndexByte(want, '\n')+1 : len(want)-1]); !bytes.Equal(got, msg) {
			t.Errorf("email %d:\n%q\nwant\n%q", i, got, msg)
		}
	}
	const runs = 50
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range runs {
		if err := o.Send(context.Background(), mail(100+i, long)); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per, hint := (after.TotalAlloc-before.TotalAlloc)/runs, uint64(sizeHint(mail(0, long))); per >= hint {
		t.Errorf("Send allocated %d bytes per email, want under the %d of a record buffer of its own", per, hint)
	}
}
