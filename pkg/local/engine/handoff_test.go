package engine_test

import (
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
)

// A message handed off in memory is received once, with the semantics of a table receive:
// in flight (not visible) while it is held, and, if its receiver dies without deleting it,
// visible again when the visibility timeout ends — received a second time from the table.
func TestHandOffKeepsQueueSemantics(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	path := filepath.Join(t.TempDir(), "hookline.db")
	e, clock := handOffEngine(t, path, 2)
	top := e.Topic("events")
	for _, id := range []string{"m1", "m2", "m3"} { // the line holds 2: m3 goes the table's way
		if err := top.Publish(ctx, enginetest.Message(id)); err != nil {
			t.Fatal(err)
		}
	}
	if visible, inflight, err := e.Depth(ctx, "q"); err != nil || visible != 1 || inflight != 2 {
		t.Fatalf("depth = %d visible, %d in flight (%v); want m3 visible, m1 and m2 in flight in the line", visible, inflight, err)
	}
	got, err := e.ReceiveWait(ctx, "q", 10, enginetest.Hang)
	if err != nil {
		t.Fatal(err)
	}
	// m3 waits in the table, so the table is looked at first; then the line.
	if len(got) != 1 || string(got[0].Body) != `{"id":"m3"}` {
		t.Fatalf("first receive = %v, want m3 from the table", bodies(got))
	}
	line, err := e.ReceiveWait(ctx, "q", 10, enginetest.Hang)
	if err != nil {
		t.Fatal(err)
	}
	if b := bodies(line); len(b) != 2 || b[0] != `{"id":"m1"}` || b[1] != `{"id":"m2"}` {
		t.Fatalf("second receive = %v, want m1 and m2 from the line", b)
	}
	for _, m := range line {
		if m.ReceiveCount != 1 || m.ReceiptHandle == "" {
			t.Errorf("%s: receive count %d, handle %q", m.Body, m.ReceiveCount, m.ReceiptHandle)
		}
	}
	// m1 is done; m2's receiver "dies" (the engine closes, its line with it).
	if err := e.Delete(ctx, "q", line[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if err := e.Delete(ctx, "q", got[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = enginetest.OpenWith(t, path, engine.Options{Clock: clock.Now, HandOff: 2})
	if again, err := e.Receive(ctx, "q", 10); err != nil || len(again) != 0 {
		t.Fatalf("before the visibility timeout: %v (%v), want nothing", bodies(again), err)
	}
	clock.Advance(time.Minute)
	again, err := e.Receive(ctx, "q", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || string(again[0].Body) != `{"id":"m2"}` || again[0].ReceiveCount != 2 {
		t.Fatalf("after the visibility timeout: %v, want m2 received a second time", bodies(again))
	}
	// The stale handle from the line deletes nothing; the fresh one does.
	if err := e.Delete(ctx, "q", line[1].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if visible, inflight, _ := e.Depth(ctx, "q"); visible+inflight != 1 {
		t.Errorf("a stale handle deleted the message")
	}
	if err := e.Delete(ctx, "q", again[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if visible, inflight, _ := e.Depth(ctx, "q"); visible+inflight != 0 {
		t.Errorf("queue not empty after deleting everything: %d visible, %d in flight", visible, inflight)
	}
}

func bodies(ms []engine.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Body))
	}
	return out
}

// A receiver whose last look found the table empty, with messages handed off in memory,
// reads the table again only when this process has made a message visible there (a publish
// the table's way, a visibility change) or when tableLookEvery has passed — which is when it
// finds what another process put there.
func TestHandOffLooksAtTheTableWhenSomethingChanged(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	path := filepath.Join(t.TempDir(), "hookline.db")
	e, clock := handOffEngine(t, path, 2)
	receive := func() []engine.Message {
		t.Helper()
		got, err := e.ReceiveWait(ctx, "q", 10, time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := receive(); len(got) != 0 {
		t.Fatalf("empty queue: received %v", bodies(got))
	}
	// Another process (a second engine on the file) publishes: this one is not told.
	other := enginetest.OpenWith(t, path, engine.Options{Clock: clock.Now})
	if err := other.Topic("events").Publish(ctx, enginetest.Message("m1")); err != nil {
		t.Fatal(err)
	}
	if got := receive(); len(got) != 0 {
		t.Fatalf("received %v right after a look found the table empty; want that look to stand until one is due", bodies(got))
	}
	clock.Advance(100 * time.Millisecond) // tableLookEvery
	got := receive()
	if len(got) != 1 || string(got[0].Body) != `{"id":"m1"}` {
		t.Fatalf("once a look was due: received %v, want m1 from the table", bodies(got))
	}
	if again := receive(); len(again) != 0 { // m1 is in flight: this look finds nothing
		t.Fatalf("m1 in flight: received %v", bodies(again))
	}
	// This process makes m1 visible again: the next receiver looks at once.
	if err := e.ChangeVisibility(ctx, "q", got[0].ReceiptHandle, 0); err != nil {
		t.Fatal(err)
	}
	if again := receive(); len(again) != 1 || again[0].ReceiveCount != 2 {
		t.Fatalf("after this process released m1: received %v, want m1 a second time", bodies(again))
	}
}

// TestHandOffTakesAtMostMax: a receive takes no more messages from the line than it asked for;
// the rest wait there for the next one.
func TestHandOffTakesAtMostMax(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e, _ := handOffEngine(t, "", 3)
	for _, id := range []string{"m1", "m2", "m3"} { // all three in the line
		if err := e.Topic("events").Publish(ctx, enginetest.Message(id)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range [][]string{{`{"id":"m1"}`, `{"id":"m2"}`}, {`{"id":"m3"}`}} {
		got, err := e.Receive(ctx, "q", 2)
		if err != nil || !slices.Equal(bodies(got), want) {
			t.Fatalf("Receive(max 2) = %v, %v; want %v", bodies(got), err, want)
		}
	}
}

// TestHandOffCountsWhatTheTableGave: messages that went the table's way because the line was
// full are counted; each receive that takes a full batch from the table counts its messages
// off, and until none is left the table is read before the line — the line cannot overtake
// them; once they are counted off, the next receive takes the line's without a write. (The
// clock stands still, so only that count sends a receive to the table.)
func TestHandOffCountsWhatTheTableGave(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e, _ := handOffEngine(t, "", 1)
	publish := func(ids ...string) {
		for _, id := range ids {
			if err := e.Topic("events").Publish(ctx, enginetest.Message(id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var order []string
	receive := func() {
		got, err := e.Receive(ctx, "q", 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("Receive = %v, %v; want one message", bodies(got), err)
		}
		order = append(order, string(got[0].Body))
	}
	publish("m1") // into the line; the first receive looks at the (empty) table, then takes it
	receive()
	publish("m2", "m3", "m4", "m5") // m2 into the line, which is then full: m3–m5 the table's way
	for range 3 {
		receive()
	}
	want := []string{`{"id":"m1"}`, `{"id":"m3"}`, `{"id":"m4"}`, `{"id":"m5"}`}
	if !slices.Equal(order, want) {
		t.Fatalf("received %v, want %v: the table's three before the line's m2", order, want)
	}
	// The three are counted off: m2 comes from the line, without a write (a table receive is
	// one, even when it finds nothing).
	var commits atomic.Int32
	e.SetCommitHook(func() { commits.Add(1) })
	receive()
	e.SetCommitHook(nil)
	if n := commits.Load(); n != 0 || order[4] != `{"id":"m2"}` {
		t.Errorf("last receive: %s with %d commits, want m2 from the line with none", order[4], n)
	}
}

// TestReceiveWaitWithoutHandOffLooksEveryTime: with hand-off off (HandOff 0) a long poll
// looks at the table each time, so a message whose visibility timeout ran out is received at
// once, even right after a poll that found the queue empty. (A line, even one of no room,
// would let that empty look stand until tableLookEvery passed.)
func TestReceiveWaitWithoutHandOffLooksEveryTime(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	clock := enginetest.NewClock()
	e := enginetest.OpenWith(t, "", engine.Options{Clock: clock.Now})
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{VisibilityTimeout: 10 * time.Millisecond})
	enginetest.Subscribe(t, e, "events", "q")
	if err := e.Topic("events").Publish(ctx, enginetest.Message("m1")); err != nil {
		t.Fatal(err)
	}
	if got, err := e.Receive(ctx, "q", 1); err != nil || len(got) != 1 {
		t.Fatalf("Receive = %v, %v", bodies(got), err)
	}
	if got, err := e.ReceiveWait(ctx, "q", 1, time.Millisecond); err != nil || len(got) != 0 {
		t.Fatalf("ReceiveWait while m1 is in flight = %v, %v; want nothing", bodies(got), err)
	}
	clock.Advance(20 * time.Millisecond) // m1's visibility timeout ran out
	got, err := e.ReceiveWait(ctx, "q", 1, enginetest.Hang)
	if err != nil || !slices.Equal(bodies(got), []string{`{"id":"m1"}`}) {
		t.Fatalf("ReceiveWait after m1's visibility timeout = %v, %v; want m1 again", bodies(got), err)
	}
}

// handOffEngine opens an engine at path ("" for a throwaway file) on a stopped clock, with a
// hand-off line of handOff messages and queue "q" (visibility one minute) subscribed to topic
// "events": the set-up every hand-off test starts from.
func handOffEngine(t *testing.T, path string, handOff int) (*engine.Engine, *enginetest.Clock) {
	t.Helper()
	clock := enginetest.NewClock()
	e := enginetest.OpenWith(t, path, engine.Options{Clock: clock.Now, HandOff: handOff})
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{VisibilityTimeout: time.Minute})
	enginetest.Subscribe(t, e, "events", "q")
	return e, clock
}

// TestHandOffReceiveFallsBackToTheTable: a receive that finds the line empty reads the table
// even when no look there is due, so a message whose visibility timeout ran out is received
// again at once.
func TestHandOffReceiveFallsBackToTheTable(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	clock := enginetest.NewClock()
	e := enginetest.OpenWith(t, "", engine.Options{Clock: clock.Now, HandOff: 1})
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{VisibilityTimeout: 10 * time.Millisecond})
	enginetest.Subscribe(t, e, "events", "q")
	if err := e.Topic("events").Publish(ctx, enginetest.Message("m1")); err != nil {
		t.Fatal(err)
	}
	if got, err := e.Receive(ctx, "q", 1); err != nil || len(got) != 1 || got[0].ReceiveCount != 1 {
		t.Fatalf("Receive = %v, %v; want m1 from the line", bodies(got), err)
	}
	clock.Advance(20 * time.Millisecond) // m1's visibility timeout ran out; the next look is not due
	got, err := e.Receive(ctx, "q", 1)
	if err != nil || !slices.Equal(bodies(got), []string{`{"id":"m1"}`}) || got[0].ReceiveCount != 2 {
		t.Fatalf("Receive after m1's visibility timeout = %v, %v; want m1 again from the table", bodies(got), err)
	}
}

// TestHandOffLongPollWaitsForAPublish: a long poll on a queue with a hand-off line waits while
// the line and the table are empty, and a publish (into the line) wakes it with the message.
func TestHandOffLongPollWaitsForAPublish(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e, _ := handOffEngine(t, "", 4)
	woken := waitingPoll(t, ctx, e, "q")
	if err := e.Topic("events").Publish(ctx, enginetest.Message("m1")); err != nil {
		t.Fatal(err)
	}
	if msgs := woken("the publish"); !slices.Equal(bodies(msgs), []string{`{"id":"m1"}`}) {
		t.Fatalf("long poll returned %v, want m1", bodies(msgs))
	}
}

// TestHandOffBoundsBytes: the line takes a message only while the bodies waiting in it stay
// within HandOffBytes, however many places it has; the next goes the table's way, and the
// bytes a receive takes out of the line are free again.
func TestHandOffBoundsBytes(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	clock := enginetest.NewClock()
	body := int64(len(enginetest.Message("m1").Body))
	e := enginetest.OpenWith(t, "", engine.Options{Clock: clock.Now, HandOff: 100, HandOffBytes: 2*body + body/2})
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{VisibilityTimeout: time.Minute})
	enginetest.Subscribe(t, e, "events", "q")
	top := e.Topic("events")
	for _, id := range []string{"m1", "m2", "m3"} { // two bodies fit: m3 goes the table's way
		if err := top.Publish(ctx, enginetest.Message(id)); err != nil {
			t.Fatal(err)
		}
	}
	if visible, inflight, err := e.Depth(ctx, "q"); err != nil || visible != 1 || inflight != 2 {
		t.Fatalf("depth = %d visible, %d in flight (%v); want m3 visible, m1 and m2 in flight in the line", visible, inflight, err)
	}
	var ids []string
	for len(ids) < 3 {
		got, err := e.Receive(ctx, "q", 10)
		if err != nil || len(got) == 0 {
			t.Fatalf("receive = %v, %v after %v; want m1, m2 and m3", got, err, ids)
		}
		for _, m := range got {
			ids = append(ids, string(m.Body))
		}
	}
	if err := top.Publish(ctx, enginetest.Message("m4")); err != nil {
		t.Fatal(err)
	}
	if visible, inflight, err := e.Depth(ctx, "q"); err != nil || visible != 0 || inflight != 4 {
		t.Fatalf("after the line emptied: depth = %d visible, %d in flight (%v); want m4 in flight in the line", visible, inflight, err)
	}
}
