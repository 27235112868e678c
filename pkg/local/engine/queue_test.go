package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
)

// TestCreateQueueSettings: a zero visibility timeout is SQS's default, kept across a reopen;
// a negative maxReceiveCount and a queue that is its own dead-letter queue are refused.
func TestCreateQueueSettings(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	path := t.TempDir() + "/hookline.db"
	e, err := engine.Open(path, engine.Options{Log: enginetest.QuietLog()})
	if err != nil {
		t.Fatal(err)
	}
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{})
	if cfg, err := e.Queue("q"); err != nil || cfg.VisibilityTimeout != engine.DefaultVisibilityTimeout {
		t.Errorf("Queue = %+v, %v; want the default visibility timeout %v", cfg, err, engine.DefaultVisibilityTimeout)
	}
	if err := e.CreateQueue(ctx, "bad", engine.QueueConfig{MaxReceiveCount: -1}); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative MaxReceiveCount: %v", err)
	}
	if err := e.CreateQueue(ctx, "self", engine.QueueConfig{MaxReceiveCount: 1, DeadLetterQueue: "self"}); err == nil || !strings.Contains(err.Error(), "its own dead-letter queue") {
		t.Errorf("own dead-letter queue: %v", err)
	}
	for _, name := range []string{"bad", "self"} {
		if _, err := e.Queue(name); !errors.Is(err, engine.ErrUnknownQueue) {
			t.Errorf("refused queue %s exists: %v", name, err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = enginetest.Open(t, path)
	if cfg, err := e.Queue("q"); err != nil || cfg.VisibilityTimeout != engine.DefaultVisibilityTimeout {
		t.Errorf("after a reopen Queue = %+v, %v; want the default visibility timeout", cfg, err)
	}
}

// TestReceiveAtLeastOne: a receive asking for 0 (or fewer) messages gets one, as SQS's
// MaxNumberOfMessages defaults to 1.
func TestReceiveAtLeastOne(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := enginetest.OpenSubscribed(t, engine.DurabilityProcess)
	for _, id := range []string{"a", "b"} {
		if err := e.Topic("events").Publish(ctx, enginetest.Message(id)); err != nil {
			t.Fatal(err)
		}
	}
	for _, max := range []int{0, -1} {
		if got, err := e.Receive(ctx, "q", max); err != nil || len(got) != 1 {
			t.Errorf("Receive(max %d) = %d messages, %v; want 1", max, len(got), err)
		}
	}
}

// TestDeadLetterQueueWithoutMaxReceiveCount: a dead-letter queue with maxReceiveCount 0 moves
// nothing — messages are redelivered however often they come back.
func TestDeadLetterQueueWithoutMaxReceiveCount(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	enginetest.CreateQueue(t, e, "dlq", engine.QueueConfig{})
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{VisibilityTimeout: time.Hour, DeadLetterQueue: "dlq"})
	enginetest.Subscribe(t, e, "t", "q")
	if err := e.Topic("t").Publish(ctx, enginetest.Message("m")); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		got, err := e.Receive(ctx, "q", 10)
		if err != nil || len(got) != 1 || got[0].ReceiveCount != i {
			t.Fatalf("receive %d: %v, %+v", i, err, got)
		}
		if err := e.ChangeVisibility(ctx, "q", got[0].ReceiptHandle, 0); err != nil {
			t.Fatal(err)
		}
	}
	if dead, err := e.ListDLQ(ctx, "dlq", 10); err != nil || len(dead) != 0 {
		t.Errorf("dead letters %+v, %v; want none", dead, err)
	}
}

// TestChangeVisibilityZeroWakesLongPoll: releasing a message (timeout 0) wakes a long poll
// already waiting on the queue, as a publish does; nothing else would until its hour is up.
func TestChangeVisibilityZeroWakesLongPoll(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := enginetest.OpenSubscribed(t, engine.DurabilityProcess)
	if err := e.Topic("events").Publish(ctx, enginetest.Message("m")); err != nil {
		t.Fatal(err)
	}
	first, err := e.Receive(ctx, "q", 1)
	if err != nil || len(first) != 1 {
		t.Fatalf("receive: %v, %d", err, len(first))
	}
	woken := waitingPoll(t, ctx, e, "q")
	if err := e.ChangeVisibility(ctx, "q", first[0].ReceiptHandle, 0); err != nil {
		t.Fatal(err)
	}
	if msgs := woken("releasing the message"); len(msgs) != 1 || msgs[0].ID != first[0].ID || msgs[0].ReceiveCount != 2 {
		t.Fatalf("long poll returned %+v", msgs)
	}
}

// waitingPoll starts a long poll of queue (up to 10 messages, an hour) and returns once it
// waits. woken returns what the poll received, or fails the test when what (the step after)
// did not wake it.
func waitingPoll(t *testing.T, ctx context.Context, e *engine.Engine, queue string) (woken func(what string) []engine.Message) {
	t.Helper()
	got := make(chan []engine.Message, 1)
	go func() {
		msgs, _ := e.ReceiveWait(ctx, queue, 10, time.Hour)
		got <- msgs
	}()
	enginetest.WaitFor(t, enginetest.Hang, "the long poll to wait", func() bool { return e.Waiting(queue) })
	return func(what string) []engine.Message {
		t.Helper()
		return enginetest.Await(t, got, what+" did not wake the waiting long poll")
	}
}

// TestListDLQ lists oldest first, up to max (0 means 100), without receiving; a message never
// received has no first-receive time, and one not dead-lettered no dead time.
func TestListDLQ(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := enginetest.OpenSubscribed(t, engine.DurabilityProcess)
	for _, id := range []string{"a", "b", "c"} {
		if err := e.Topic("events").Publish(ctx, enginetest.Message(id)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := e.ListDLQ(ctx, "q", 0)
	if err != nil || len(all) != 3 || string(all[0].Body) != `{"id":"a"}` || string(all[2].Body) != `{"id":"c"}` {
		t.Fatalf("ListDLQ(max 0) = %+v, %v; want a, b, c", all, err)
	}
	for _, d := range all {
		if !d.FirstReceivedAt.IsZero() || !d.DeadAt.IsZero() || d.SentAt.IsZero() || d.ReceiveCount != 0 {
			t.Errorf("%s: %+v; want only a send time", d.Body, d)
		}
	}
	if two, err := e.ListDLQ(ctx, "q", 2); err != nil || len(two) != 2 {
		t.Errorf("ListDLQ(max 2) = %d, %v", len(two), err)
	}
	if vis, inflight, _ := e.Depth(ctx, "q"); vis != 3 || inflight != 0 {
		t.Errorf("listing received messages: %d visible, %d in flight", vis, inflight)
	}
}

// TestRedriveNeedsATargetForMessagesWithoutSource: messages that were sent to a dead-letter
// queue directly (not moved there) have no queue to go back to: redriving them without a target
// is refused and moves nothing; with a target they go there.
func TestRedriveNeedsATargetForMessagesWithoutSource(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	enginetest.CreateQueue(t, e, "dlq", engine.QueueConfig{})
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{})
	enginetest.Subscribe(t, e, "straight-to-dlq", "dlq")
	if err := e.Topic("straight-to-dlq").Publish(ctx, enginetest.Message("m")); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Redrive(ctx, "dlq", ""); err == nil || n != 0 || !strings.Contains(err.Error(), "no source queue") {
		t.Errorf("Redrive without a target = %d, %v; want refused", n, err)
	}
	if n, err := e.Redrive(ctx, "dlq", "q"); err != nil || n != 1 {
		t.Fatalf("Redrive to q = %d, %v", n, err)
	}
	if got, err := e.Receive(ctx, "q", 10); err != nil || len(got) != 1 || string(got[0].Body) != `{"id":"m"}` {
		t.Errorf("q after the redrive: %+v, %v", got, err)
	}
	if _, err := e.Redrive(context.Background(), "nowhere", ""); !errors.Is(err, engine.ErrUnknownQueue) {
		t.Errorf("redrive of an unknown queue: %v", err)
	}
}

// TestReceiveTakesAtMostMaxPastTheDLQ: a receive that moves messages to the dead-letter queue
// reads more to fill the batch, but never returns more than max.
func TestReceiveTakesAtMostMaxPastTheDLQ(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	clock := enginetest.NewClock()
	e := enginetest.OpenWith(t, "", engine.Options{Clock: clock.Now})
	enginetest.CreateQueue(t, e, "dlq", engine.QueueConfig{})
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{VisibilityTimeout: time.Hour, MaxReceiveCount: 1, DeadLetterQueue: "dlq"})
	enginetest.Subscribe(t, e, "t", "q")
	publish := func(id string) {
		if err := e.Topic("t").Publish(ctx, enginetest.Message(id)); err != nil {
			t.Fatal(err)
		}
	}
	publish("poison")
	got, err := e.Receive(ctx, "q", 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("first receive: %v, %v", bodies(got), err)
	}
	if err := e.ChangeVisibility(ctx, "q", got[0].ReceiptHandle, 0); err != nil { // received once: dead on the next receive
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	for _, id := range []string{"a", "b", "c"} {
		publish(id)
	}
	got, err = e.Receive(ctx, "q", 2)
	if want := []string{`{"id":"a"}`, `{"id":"b"}`}; err != nil || !slices.Equal(bodies(got), want) {
		t.Fatalf("Receive(max 2) past the poison message = %v, %v; want %v", bodies(got), err, want)
	}
	if dead, _, err := e.Depth(ctx, "dlq"); err != nil || dead != 1 {
		t.Fatalf("dlq depth %d, %v; want the poison message", dead, err)
	}
}

// TestAReusedSeqLeavesOldReceiptsStale: messages have no AUTOINCREMENT (schema 9), so the seq
// of a deleted newest message is given to the next one; a receipt handle of the old message
// carries that seq but not the new message's token, and settles, deletes or hides nothing.
func TestAReusedSeqLeavesOldReceiptsStale(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := enginetest.OpenSubscribed(t, engine.DurabilityProcess)
	publishAndReceive := func(id string) engine.Message {
		t.Helper()
		if err := e.Topic("events").Publish(ctx, enginetest.Message(id)); err != nil {
			t.Fatal(err)
		}
		msgs, err := e.Receive(ctx, "q", 1)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("Receive = %v, %v", msgs, err)
		}
		return msgs[0]
	}
	old := publishAndReceive("old")
	if err := e.Delete(ctx, "q", old.ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	cur := publishAndReceive("new")
	oldSeq, _, _ := strings.Cut(old.ReceiptHandle, "-")
	if curSeq, _, _ := strings.Cut(cur.ReceiptHandle, "-"); curSeq != oldSeq {
		t.Fatalf("receipts %s then %s: the seq was not used again, the test shows nothing", old.ReceiptHandle, cur.ReceiptHandle)
	}
	if err := e.Settle(ctx, "q", []string{old.ReceiptHandle}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.ChangeVisibility(ctx, "q", old.ReceiptHandle, 0); !errors.Is(err, engine.ErrMessageNotInflight) {
		t.Fatalf("ChangeVisibility with the old receipt = %v, want ErrMessageNotInflight", err)
	}
	if vis, inflight, err := e.Depth(ctx, "q"); err != nil || vis != 0 || inflight != 1 {
		t.Fatalf("depth %d visible, %d in flight, %v; want the new message still in flight", vis, inflight, err)
	}
	if err := e.Delete(ctx, "q", cur.ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if vis, inflight, _ := e.Depth(ctx, "q"); vis+inflight != 0 {
		t.Fatalf("the new message's own receipt left %d messages", vis+inflight)
	}
}

// TestABatchIsHiddenAndSettledMessageByMessage: one receive hides every message of its batch
// (one statement for all), counts the receive of each and gives each a handle that settles it
// alone; the next receive makes every handle of the first stale, and a settle deletes exactly
// the messages whose handles are fresh, also when a stale and a fresh handle of one message
// come in one call.
func TestABatchIsHiddenAndSettledMessageByMessage(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	clock := enginetest.NewClock()
	e := enginetest.OpenWith(t, "", engine.Options{Clock: clock.Now})
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{VisibilityTimeout: time.Minute})
	enginetest.Subscribe(t, e, "t", "q")
	for _, id := range []string{"a", "b", "c"} {
		if err := e.Topic("t").Publish(ctx, enginetest.Message(id)); err != nil {
			t.Fatal(err)
		}
	}
	receive := func(want int, count int) []engine.Message {
		t.Helper()
		got, err := e.Receive(ctx, "q", 3)
		if err != nil || len(got) != want {
			t.Fatalf("Receive(3) = %v, %v; want %d messages", bodies(got), err, want)
		}
		for _, m := range got {
			if m.ReceiveCount != count || m.Attributes["type"] != "push" || m.Attributes["source"] != "github" {
				t.Fatalf("received %s: count %d, attributes %v; want count %d, type push, source github", m.Body, m.ReceiveCount, m.Attributes, count)
			}
		}
		return got
	}
	depth := func(wantVisible, wantInflight int) {
		t.Helper()
		if vis, inflight, err := e.Depth(ctx, "q"); err != nil || vis != wantVisible || inflight != wantInflight {
			t.Fatalf("depth %d visible, %d in flight, %v; want %d, %d", vis, inflight, err, wantVisible, wantInflight)
		}
	}
	first := receive(3, 1)
	if want := []string{`{"id":"a"}`, `{"id":"b"}`, `{"id":"c"}`}; !slices.Equal(bodies(first), want) {
		t.Fatalf("first batch %v, want %v", bodies(first), want)
	}
	depth(0, 3)
	clock.Advance(time.Minute) // the batch's visibility timeout ends
	second := receive(3, 2)
	if !slices.Equal(bodies(second), bodies(first)) {
		t.Fatalf("second batch %v, want %v", bodies(second), bodies(first))
	}
	depth(0, 3)
	for i := range second {
		if second[i].ReceiptHandle == first[i].ReceiptHandle {
			t.Fatalf("message %s kept its receipt handle %s across receives", second[i].Body, first[i].ReceiptHandle)
		}
		if !second[i].FirstReceivedAt.Equal(first[i].FirstReceivedAt) {
			t.Errorf("message %s: FirstReceivedAt %v, then %v", second[i].Body, first[i].FirstReceivedAt, second[i].FirstReceivedAt)
		}
	}
	stale := []string{first[0].ReceiptHandle, first[1].ReceiptHandle, first[2].ReceiptHandle}
	if err := e.Settle(ctx, "q", stale, nil); err != nil {
		t.Fatal(err)
	}
	depth(0, 3)
	// b's stale handle before its fresh one, a's fresh one, c's stale one alone.
	if err := e.Settle(ctx, "q", []string{first[1].ReceiptHandle, second[1].ReceiptHandle, second[0].ReceiptHandle, first[2].ReceiptHandle}, nil); err != nil {
		t.Fatal(err)
	}
	depth(0, 1)
	if err := e.ChangeVisibility(ctx, "q", second[2].ReceiptHandle, 0); err != nil {
		t.Fatalf("c's fresh handle after the settle: %v", err)
	}
	if got := receive(1, 3); !slices.Equal(bodies(got), []string{`{"id":"c"}`}) {
		t.Fatalf("what is left: %v, want c", bodies(got))
	}
}

// TestBatchesLongerThanOneStatement: a receive, a settle and a write of marks of more messages
// or events than one statement names (maxInList, 16) take several statements and leave none
// out.
func TestBatchesLongerThanOneStatement(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := enginetest.OpenSubscribed(t, engine.DurabilityProcess)
	const n = 40
	for i := range n {
		if err := e.Topic("events").Publish(ctx, enginetest.Message(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.Receive(ctx, "q", n)
	if err != nil || len(got) != n {
		t.Fatalf("Receive(%d) = %d messages, %v", n, len(got), err)
	}
	if vis, inflight, err := e.Depth(ctx, "q"); err != nil || vis != 0 || inflight != n {
		t.Fatalf("after the receive: %d visible, %d in flight, %v; want 0, %d", vis, inflight, err, n)
	}
	handles := make([]string, n)
	for i, m := range got {
		handles[i] = m.ReceiptHandle
	}
	if err := e.Settle(ctx, "q", handles, nil); err != nil {
		t.Fatal(err)
	}
	if vis, inflight, err := e.Depth(ctx, "q"); err != nil || vis+inflight != 0 {
		t.Fatalf("after the settle: %d visible, %d in flight, %v; want none", vis, inflight, err)
	}

	s := e.Events()
	received := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("0193a0a0-0000-7000-8000-%012d", i)
		enginetest.Put(t, e, enginetest.Record(t, ids[i], "github", "push", received))
	}
	release, err := e.HoldWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, n)
	for _, id := range ids {
		go func() { errs <- s.MarkNotified(ctx, id, received.Add(time.Minute)) }()
	}
	enginetest.WaitFor(t, enginetest.Hang, "the marks to queue", func() bool { return s.MarksPending() == n })
	release()
	for range ids {
		if err := enginetest.Await(t, errs, "MarkNotified did not return"); err != nil {
			t.Error(err)
		}
	}
	for _, id := range ids {
		if at, err := s.NotifiedAt(ctx, id); err != nil || at.IsZero() {
			t.Fatalf("%s: notified at %v, %v; want marked", id, at, err)
		}
	}
}
