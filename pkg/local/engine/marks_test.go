package engine_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/pipeline"
)

// TestMarkRightAfterTheInsertCommits: once an insert commits, its stream record is readable,
// so a notifier can send the email and mark the event before the writer has run the op's
// after-commit signals. NotifiedAt must then answer "marked", or a redelivery of the record
// (a retried batch, a crash) sends a second email. The hook holds the writer between the
// insert's commit and its signals until MarkNotified waits for its write; the old code
// learned the id as unmarked in those signals, after the mark had forgotten it.
func TestMarkRightAfterTheInsertCommits(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	s := e.Events()
	const id = "0193a0a0-0000-7000-8000-000000000001"
	rec := enginetest.Record(t, id, "github", "push", time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))

	marked, queued := make(chan error, 1), make(chan bool, 1)
	var once sync.Once
	e.SetCommitHook(func() {
		var n int
		if err := e.ReadDB().QueryRow(`SELECT count(*) FROM events WHERE id = ?`, id).Scan(&n); err != nil || n == 0 {
			return // another commit (or the read failed: the test then fails on marked)
		}
		once.Do(func() {
			go func() { marked <- s.MarkNotified(ctx, id, time.Now()) }()
			// The writer is held here, so the mark can only be queued, not written.
			deadline := time.Now().Add(enginetest.Hang)
			for !s.MarkQueued() && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			queued <- s.MarkQueued()
		})
	})
	t.Cleanup(func() { e.SetCommitHook(nil) })

	if ok, err := s.PutNew(ctx, rec); err != nil || !ok {
		t.Fatalf("PutNew = %v, %v; want stored", ok, err)
	}
	if !<-queued {
		t.Fatal("MarkNotified never queued its write while the writer was held after the insert's commit")
	}
	if err := enginetest.Await(t, marked, "MarkNotified did not return"); err != nil {
		t.Fatalf("MarkNotified: %v", err)
	}
	at, err := s.NotifiedAt(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if at.IsZero() {
		t.Fatal("NotifiedAt says the event is unmarked after its mark was written: a redelivered stream record would send a second email")
	}
}

// TestMarksOfOneWrite: marks that queue up while the writer is busy are written together;
// each keeps its own outcome and time. Of two marks of one event the first one's time stays,
// an event marked before keeps its time and its mark succeeds, and a mark of an event that
// is not there is ErrNotFound without failing the others.
func TestMarksOfOneWrite(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	s := e.Events()
	received := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ids := []string{"0193a0a0-0000-7000-8000-00000000000a", "0193a0a0-0000-7000-8000-00000000000b", "0193a0a0-0000-7000-8000-00000000000c"}
	for _, id := range ids {
		enginetest.Put(t, e, enginetest.Record(t, id, "github", "push", received))
	}
	at := func(minutes int) time.Time { return received.Add(time.Duration(minutes) * time.Minute) }
	if err := s.MarkNotified(ctx, ids[2], at(1)); err != nil {
		t.Fatal(err)
	}
	release, err := e.HoldWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	marks := []struct {
		id string
		at time.Time
	}{{ids[0], at(2)}, {ids[0], at(3)}, {"0193a0a0-0000-7000-8000-0000000000ff", at(4)}, {ids[1], at(5)}, {ids[2], at(6)}}
	errs := make([]chan error, len(marks))
	for i, m := range marks {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- s.MarkNotified(ctx, m.id, m.at) }()
		enginetest.WaitFor(t, enginetest.Hang, "the mark to queue", func() bool { return s.MarksPending() == i+1 })
	}
	release()
	for i, m := range marks {
		err := enginetest.Await(t, errs[i], "MarkNotified did not return")
		if wantMissing := i == 2; errors.Is(err, pipeline.ErrNotFound) != wantMissing || (err != nil && !wantMissing) {
			t.Errorf("mark %d of %s: %v", i, m.id, err)
		}
	}
	for id, want := range map[string]time.Time{ids[0]: at(2), ids[1]: at(5), ids[2]: at(1)} {
		r, err := s.Get(ctx, id)
		if err != nil || !r.NotifiedAt.Equal(want) {
			t.Errorf("%s: notified at %v (%v), want %v", id, r.NotifiedAt, err, want)
		}
	}
}
