package engine_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hookline/pkg/ddbitem"
	"hookline/pkg/event"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/publishertest"
	"hookline/pkg/pipeline/storetest"
)

func TestFanOutToTwoQueues(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	enginetest.CreateQueue(t, e, "a", engine.QueueConfig{})
	enginetest.CreateQueue(t, e, "b", engine.QueueConfig{})
	enginetest.Subscribe(t, e, "events", "a", "b", "b") // b twice: subscribing is idempotent
	if err := e.Topic("events").Publish(ctx, enginetest.Message("m1")); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"a", "b"} {
		got, err := e.Receive(ctx, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("queue %s: got %d messages, want 1", q, len(got))
		}
		m := got[0]
		if string(m.Body) != `{"id":"m1"}` || m.Attributes["type"] != "push" || m.Attributes["source"] != "github" || m.ReceiveCount != 1 {
			t.Errorf("queue %s: got %+v", q, m)
		}
		if m.SentAt.IsZero() || m.FirstReceivedAt.IsZero() || m.ID == "" || m.ReceiptHandle == "" {
			t.Errorf("queue %s: missing fields in %+v", q, m)
		}
	}
}

func TestVisibilityTimeoutRedelivers(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	clock := enginetest.NewClock()
	e := enginetest.OpenWith(t, "", engine.Options{Clock: clock.Now})
	const vt = 30 * time.Second
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{VisibilityTimeout: vt})
	enginetest.Subscribe(t, e, "t", "q")
	if err := e.Topic("t").Publish(ctx, enginetest.Message("m1")); err != nil {
		t.Fatal(err)
	}
	first, err := e.Receive(ctx, "q", 10)
	if err != nil || len(first) != 1 {
		t.Fatalf("first receive: %v, %d messages", err, len(first))
	}
	if !first[0].SentAt.Equal(clock.Now()) || !first[0].FirstReceivedAt.Equal(clock.Now()) {
		t.Errorf("sent %v, first received %v; want the engine clock's %v", first[0].SentAt, first[0].FirstReceivedAt, clock.Now())
	}
	clock.Advance(vt - time.Nanosecond)
	if again, _ := e.Receive(ctx, "q", 10); len(again) != 0 {
		t.Fatalf("message visible a nanosecond before its visibility timeout ends")
	}
	if vis, inflight, err := e.Depth(ctx, "q"); err != nil || vis != 0 || inflight != 1 {
		t.Fatalf("Depth = %d, %d, %v; want 0, 1", vis, inflight, err)
	}
	clock.Advance(time.Nanosecond)
	if vis, inflight, err := e.Depth(ctx, "q"); err != nil || vis != 1 || inflight != 0 {
		t.Fatalf("Depth as the timeout ends = %d, %d, %v; want 1, 0", vis, inflight, err)
	}
	// Nothing signals a timeout running out: ReceiveWait finds the message by looking.
	second, err := e.ReceiveWait(ctx, "q", 10, enginetest.Hang)
	if err != nil || len(second) != 1 {
		t.Fatalf("receive as the timeout ends: %v, %d messages", err, len(second))
	}
	if second[0].ID != first[0].ID || second[0].ReceiveCount != 2 || second[0].ReceiptHandle == first[0].ReceiptHandle {
		t.Fatalf("redelivery = %+v, first = %+v", second[0], first[0])
	}
	if !second[0].FirstReceivedAt.Equal(first[0].FirstReceivedAt) {
		t.Errorf("FirstReceivedAt changed on redelivery")
	}
	// The stale handle deletes nothing (SQS semantics); the fresh one deletes.
	if err := e.Delete(ctx, "q", first[0].ReceiptHandle); err != nil {
		t.Fatalf("stale delete: %v", err)
	}
	if _, inflight, _ := e.Depth(ctx, "q"); inflight != 1 {
		t.Fatalf("stale handle deleted the message")
	}
	if err := e.ChangeVisibility(ctx, "q", first[0].ReceiptHandle, 0); !errors.Is(err, engine.ErrMessageNotInflight) {
		t.Errorf("ChangeVisibility with stale handle: %v, want ErrMessageNotInflight", err)
	}
	if err := e.Delete(ctx, "q", second[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if vis, inflight, _ := e.Depth(ctx, "q"); vis+inflight != 0 {
		t.Fatalf("message still there after delete: %d, %d", vis, inflight)
	}
	if err := e.Delete(ctx, "q", "garbage"); err == nil {
		t.Errorf("malformed receipt handle accepted")
	}
}

func TestChangeVisibilityReleases(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{VisibilityTimeout: time.Hour})
	enginetest.Subscribe(t, e, "t", "q")
	if err := e.Topic("t").Publish(ctx, enginetest.Message("m1")); err != nil {
		t.Fatal(err)
	}
	got, _ := e.Receive(ctx, "q", 1)
	if err := e.ChangeVisibility(ctx, "q", got[0].ReceiptHandle, 0); err != nil {
		t.Fatal(err)
	}
	again, err := e.Receive(ctx, "q", 1)
	if err != nil || len(again) != 1 || again[0].ReceiveCount != 2 {
		t.Fatalf("after ChangeVisibility(0): %v, %+v", err, again)
	}
}

func TestDLQAfterMaxReceiveCountAndRedrive(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	enginetest.CreateQueue(t, e, "dlq", engine.QueueConfig{})
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{VisibilityTimeout: time.Hour, MaxReceiveCount: 2, DeadLetterQueue: "dlq"})
	enginetest.Subscribe(t, e, "t", "q")
	for _, id := range []string{"poison", "fine"} {
		if err := e.Topic("t").Publish(ctx, enginetest.Message(id)); err != nil {
			t.Fatal(err)
		}
	}
	release := func(ms []engine.Message) {
		for _, m := range ms {
			if err := e.ChangeVisibility(ctx, "q", m.ReceiptHandle, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 1; i <= 2; i++ {
		got, err := e.Receive(ctx, "q", 10)
		if err != nil || len(got) != 2 {
			t.Fatalf("receive %d: %v, %d messages", i, err, len(got))
		}
		for _, m := range got {
			if m.ReceiveCount != i {
				t.Fatalf("receive %d: ReceiveCount = %d", i, m.ReceiveCount)
			}
			if strings.Contains(string(m.Body), "poison") {
				if err := e.SetFailureReason(ctx, "q", m.ID, fmt.Sprintf("bad envelope (try %d)", i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		release(got)
	}
	// Third receive: both reached maxReceiveCount 2, so both move to the DLQ.
	got, err := e.Receive(ctx, "q", 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("third receive delivered %d messages (err %v), want 0", len(got), err)
	}
	dead, err := e.ListDLQ(ctx, "dlq", 10)
	if err != nil || len(dead) != 2 {
		t.Fatalf("ListDLQ: %v, %d", err, len(dead))
	}
	reasons := map[string]string{}
	for _, d := range dead {
		if d.SourceQueue != "q" || d.ReceiveCount != 2 || d.DeadAt.IsZero() {
			t.Errorf("dead letter %+v", d)
		}
		reasons[string(d.Body)] = d.Reason
	}
	if r := reasons[`{"id":"poison"}`]; r != "bad envelope (try 2)" {
		t.Errorf("poison reason = %q", r)
	}
	if r := reasons[`{"id":"fine"}`]; !strings.Contains(r, "maxReceiveCount 2") {
		t.Errorf("default reason = %q", r)
	}
	n, err := e.Redrive(ctx, "dlq", "")
	if err != nil || n != 2 {
		t.Fatalf("Redrive = %d, %v", n, err)
	}
	if dead, _ := e.ListDLQ(ctx, "dlq", 10); len(dead) != 0 {
		t.Fatalf("DLQ not empty after redrive")
	}
	got, err = e.Receive(ctx, "q", 10)
	if err != nil || len(got) != 2 || got[0].ReceiveCount != 1 {
		t.Fatalf("after redrive: %v, %+v", err, got)
	}
	if _, err := e.Redrive(ctx, "dlq", "nope"); !errors.Is(err, engine.ErrUnknownQueue) {
		t.Errorf("redrive to unknown queue: %v", err)
	}
}

func TestPublishWithoutSubscribersAndLimits(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	if err := e.Topic("nobody").Publish(ctx, enginetest.Message("x")); err != nil {
		t.Fatalf("publish to a topic without subscribers: %v", err)
	}
	// SNS's limit, to the byte: body plus attributes.
	fits := pipeline.Message{ID: "fits", Source: "s", Type: "t"}
	fits.Body = make([]byte, pipeline.MaxMessageBytes-fits.Size())
	if err := e.Topic("nobody").Publish(ctx, fits); err != nil {
		t.Errorf("message of exactly %d bytes refused: %v", pipeline.MaxMessageBytes, err)
	}
	big := fits
	big.Body = append(big.Body, 'x')
	if err := e.Topic("nobody").Publish(ctx, big); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("message is %d bytes", pipeline.MaxMessageBytes+1)) {
		t.Errorf("message of %d bytes: %v; want it refused", pipeline.MaxMessageBytes+1, err)
	}
	if _, err := e.Receive(ctx, "missing", 1); !errors.Is(err, engine.ErrUnknownQueue) {
		t.Errorf("receive from unknown queue: %v", err)
	}
	if err := e.CreateQueue(ctx, "q", engine.QueueConfig{DeadLetterQueue: "missing", MaxReceiveCount: 1}); !errors.Is(err, engine.ErrUnknownQueue) {
		t.Errorf("queue with unknown DLQ: %v", err)
	}
}

func TestDurableAcrossReopen(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	path := filepath.Join(t.TempDir(), "hookline.db")
	e, err := engine.Open(path, engine.Options{Log: enginetest.QuietLog()})
	if err != nil {
		t.Fatal(err)
	}
	enginetest.CreateQueue(t, e, "dlq", engine.QueueConfig{})
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{MaxReceiveCount: 3, DeadLetterQueue: "dlq"})
	enginetest.Subscribe(t, e, "t", "q")
	if err := e.Topic("t").Publish(ctx, enginetest.Message("m1")); err != nil {
		t.Fatal(err)
	}
	rec := enginetest.Record(t, "ev-1", "github", "push", time.Now().UTC())
	if ok, err := e.Events().PutNew(ctx, rec); !ok || err != nil {
		t.Fatalf("PutNew = %v, %v", ok, err)
	}
	if err := e.Checkpoint(ctx, "notifier", 0); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Topic("t").Publish(ctx, enginetest.Message("late")); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("publish after Close: %v, want ErrClosed", err)
	}

	e2, err := engine.Open(path, engine.Options{Log: enginetest.QuietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	// Topology survives: publishing again fans out to q.
	if err := e2.Topic("t").Publish(ctx, enginetest.Message("m2")); err != nil {
		t.Fatal(err)
	}
	got, err := e2.Receive(ctx, "q", 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("after reopen: %v, %d messages, want 2", err, len(got))
	}
	if _, err := e2.Events().Get(ctx, "ev-1"); err != nil {
		t.Fatalf("event lost across reopen: %v", err)
	}
	recs, err := e2.ReadStream(ctx, "notifier", 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("stream after reopen: %v, %d", err, len(recs))
	}
}

func TestPutNewWritesStreamInSameTransaction(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	s := e.Events()
	now := time.Now().UTC()
	r1 := enginetest.Record(t, "ev-1", "github", "push", now)
	r2 := enginetest.Record(t, "ev-2", "stripe", "charge.succeeded", now.Add(time.Second))
	for _, r := range []*event.Record{r1, r2, r1} {
		if _, err := s.PutNew(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := e.ReadStream(ctx, "c", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("stream has %d records, want 2 (the duplicate must add none)", len(recs))
	}
	got, err := ddbitem.FromStreamImage(recs[0].NewImage)
	if err != nil {
		t.Fatal(err)
	}
	if got.Event.ID != "ev-1" || string(got.Event.Data) != `{"n":1}` || recs[0].EventName != "INSERT" {
		t.Errorf("first stream record: %+v", got.Event)
	}
	if k := recs[0].Keys[ddbitem.AttrID]; k.String() != "ev-1" {
		t.Errorf("keys = %v", recs[0].Keys)
	}
	// The stored image is DynamoDB JSON, what Lambda delivers.
	b, _ := json.Marshal(recs[1].NewImage)
	if !strings.Contains(string(b), `"source":{"S":"stripe"}`) {
		t.Errorf("image JSON = %s", b)
	}
	// Checkpointing: the consumer resumes after it, never goes backwards.
	if err := e.Checkpoint(ctx, "c", recs[0].Seq); err != nil {
		t.Fatal(err)
	}
	if err := e.Checkpoint(ctx, "c", 0); err != nil {
		t.Fatal(err)
	}
	rest, err := e.ReadStream(ctx, "c", 10)
	if err != nil || len(rest) != 1 || rest[0].Seq != recs[1].Seq {
		t.Fatalf("after checkpoint: %v, %+v", err, rest)
	}
	if other, _ := e.ReadStream(ctx, "other", 10); len(other) != 2 {
		t.Errorf("a second consumer sees %d records, want 2", len(other))
	}
	// Stream failures are kept for ops.
	if err := e.RecordStreamFailure(ctx, "c", rest[0], "boom"); err != nil {
		t.Fatal(err)
	}
	fails, err := e.ListStreamFailures(ctx, "c", 10)
	if err != nil || len(fails) != 1 || fails[0].Reason != "boom" || fails[0].Record.Seq != rest[0].Seq {
		t.Fatalf("ListStreamFailures = %+v, %v", fails, err)
	}
	if err := s.MarkNotified(ctx, "missing", now); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("MarkNotified(missing) = %v", err)
	}
}

func TestSweepDeletesExpired(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	enginetest.Put(t, e, enginetest.Record(t, "old", "s", "t", time.Now().UTC()))
	if n, err := e.Sweep(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("sweep now = %d, %v", n, err)
	}
	n, err := e.Sweep(ctx, time.Now().Add(91*24*time.Hour))
	if err != nil || n != 2 { // the event and its stream record
		t.Fatalf("sweep later = %d, %v; want 2", n, err)
	}
	if _, err := e.Events().Get(ctx, "old"); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("expired event still there: %v", err)
	}
}

func TestGroupCommitIsolatesFailures(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := enginetest.OpenSubscribed(t, engine.DurabilityProcess)
	// Many concurrent writers, some failing: each outcome is its own.
	const n = 50
	errs := make(chan error, n)
	for i := range n {
		go func() {
			if i%5 == 0 {
				errs <- e.WriteThenFail(ctx, `INSERT INTO checkpoints (consumer, seq) VALUES ('x', 1)`)
				return
			}
			errs <- e.Topic("events").Publish(ctx, enginetest.Message(fmt.Sprint(i)))
		}()
	}
	failed := 0
	for range n {
		if err := <-errs; err != nil {
			failed++
		}
	}
	if failed != n/5 {
		t.Fatalf("%d ops failed, want %d", failed, n/5)
	}
	vis, _, _ := e.Depth(ctx, "q")
	if vis != n-n/5 {
		t.Fatalf("queue has %d messages, want %d", vis, n-n/5)
	}
	if recs, _ := e.ReadStream(ctx, "x", 1); len(recs) != 0 {
		t.Fatal("unexpected stream records")
	}
	var count int
	e.ReadDB().QueryRow(`SELECT count(*) FROM checkpoints`).Scan(&count)
	if count != 0 {
		t.Fatalf("failed ops left %d rows behind", count)
	}
}

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) pipeline.Store { return enginetest.Open(t, "").Events() })
}

// TestStoreExpiryContract: events past their TTL that the sweep has not deleted yet are gone to
// every read (the sweep is off, as if its hour had not come round).
func TestStoreExpiryContract(t *testing.T) {
	storetest.RunExpiry(t, func(t *testing.T, retention time.Duration) pipeline.Store {
		return enginetest.OpenWith(t, "", engine.Options{Durability: engine.DurabilityProcess, TTL: retention, SweepInterval: -1}).Events()
	})
}

// TestKill9LosesNothingAcknowledged runs a child process that publishes and prints each id
// once Publish returned, kills it with SIGKILL mid-stream, and checks every printed id is there.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if path := os.Getenv("HOOKLINE_KILL9_DB"); path != "" {
		e, err := engine.Open(path, engine.Options{Log: enginetest.QuietLog()})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		ctx := context.Background()
		e.CreateQueue(ctx, "q", engine.QueueConfig{})
		e.Subscribe(ctx, "t", "q")
		for i := 0; ; i++ {
			id := fmt.Sprintf("m%d", i)
			if err := e.Topic("t").Publish(ctx, enginetest.Message(id)); err != nil {
				fmt.Println("error:", err)
				os.Exit(1)
			}
			fmt.Println(id)
		}
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kill9.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9LosesNothingAcknowledged$")
	cmd.Env = append(os.Environ(), "HOOKLINE_KILL9_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A child that stops publishing (a hung writer) is killed after the hang bound, so the
	// scan below ends and the test fails instead of waiting for go test's timeout.
	stuck := time.AfterFunc(enginetest.Hang, func() { cmd.Process.Kill() })
	sc := bufio.NewScanner(out)
	var acked []string
	for len(acked) < 300 && sc.Scan() {
		if strings.HasPrefix(sc.Text(), "error:") {
			t.Fatal(sc.Text())
		}
		acked = append(acked, sc.Text())
	}
	if !stuck.Stop() || len(acked) < 300 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child acknowledged %d publishes, then stopped or hung", len(acked))
	}
	cmd.Process.Signal(syscall.SIGKILL)
	for sc.Scan() { // ids printed before the kill landed were acknowledged too
		acked = append(acked, sc.Text())
	}
	cmd.Wait()
	e := enginetest.Open(t, path)
	rows, err := e.ReadDB().Query(`SELECT body FROM messages WHERE queue = 'q'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var b []byte
		rows.Scan(&b)
		have[string(b)] = true
	}
	for _, id := range acked {
		if !have[`{"id":"`+id+`"}`] {
			t.Fatalf("acknowledged message %s lost after kill -9 (%d acknowledged, %d stored)", id, len(acked), len(have))
		}
	}
	t.Logf("%d acknowledged, %d stored", len(acked), len(have))
}

// TestReceiveWaitWakesOnPublish: a long poll that is already waiting returns the message as
// soon as it is published, not when its wait runs out (an hour here).
func TestReceiveWaitWakesOnPublish(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := enginetest.OpenSubscribed(t, engine.DurabilityProcess)
	woken := waitingPoll(t, ctx, e, "q")
	if err := e.Topic("events").Publish(ctx, enginetest.Message("m1")); err != nil {
		t.Fatal(err)
	}
	if msgs := woken("the publish"); len(msgs) != 1 || string(msgs[0].Body) != `{"id":"m1"}` {
		t.Fatalf("long poll returned %+v", msgs)
	}
}

// TestStreamWaitSignalsAppends: the channel from StreamWait is closed by the next INSERT once
// it has committed, and not by a duplicate, which appends nothing.
func TestStreamWaitSignalsAppends(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ch := e.StreamWait()
	enginetest.Put(t, e, enginetest.Record(t, "0190b4c2-0000-7000-8000-0000000000a1", "s", "t", at))
	select {
	case <-ch:
	default:
		t.Fatal("an INSERT did not signal the stream's waiters")
	}
	ch = e.StreamWait()
	if ins, err := e.Events().PutNew(ctx, enginetest.Record(t, "0190b4c2-0000-7000-8000-0000000000a1", "s", "t", at)); err != nil || ins {
		t.Fatalf("duplicate PutNew = %v, %v", ins, err)
	}
	select {
	case <-ch:
		t.Fatal("a duplicate, which appends nothing, signalled the stream's waiters")
	default:
	}
}

// TestPublisherContract: the engine's topic passes the contract every pipeline.Publisher
// adapter passes.
func TestPublisherContract(t *testing.T) {
	publishertest.Run(t, func(t *testing.T) publishertest.Harness {
		e := enginetest.Open(t, "")
		queues := [2]string{"first", "second"}
		for _, q := range queues {
			enginetest.CreateQueue(t, e, q, engine.QueueConfig{})
			enginetest.Subscribe(t, e, "events", q)
		}
		closed := enginetest.Open(t, "") // with a subscriber: a topic without one drops messages
		enginetest.CreateQueue(t, closed, "gone", engine.QueueConfig{})
		enginetest.Subscribe(t, closed, "events", "gone")
		closed.Close()
		return publishertest.Harness{
			Publisher: e.Topic("events"),
			Received: func(t *testing.T) (got [2][]publishertest.Received) {
				for i, q := range queues {
					msgs, err := e.ListDLQ(enginetest.Context(t), q, 100) // reads any queue without receiving
					if err != nil {
						t.Fatal(err)
					}
					for _, m := range msgs {
						got[i] = append(got[i], publishertest.Received{Body: m.Body, Source: m.Attributes["source"], Type: m.Attributes["type"]})
					}
				}
				return got
			},
			Broken: closed.Topic("events"),
		}
	})
}

// TestDurabilitySetsSynchronous: DurabilityProcess commits with synchronous=NORMAL,
// DurabilityPowerLoss with FULL (an fsync of the WAL on every commit).
func TestDurabilitySetsSynchronous(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    engine.Durability
		want int
	}{{engine.DurabilityProcess, 1}, {engine.DurabilityPowerLoss, 2}} {
		e := enginetest.OpenWith(t, "", engine.Options{Durability: c.d})
		if got, err := e.Synchronous(enginetest.Context(t)); err != nil || got != c.want {
			t.Errorf("durability %d: synchronous = %d, %v; want %d", c.d, got, err, c.want)
		}
	}
}

// waitingWriters counts the goroutines parked in a write request's hand-over to e's writer
// (the select in Engine.send, under write and writeSibling, whose receiver the dump prints),
// from a dump of every goroutine's stack: other tests' engines run in parallel.
func waitingWriters(e *engine.Engine) int {
	buf := make([]byte, 16<<20)
	buf = buf[:runtime.Stack(buf, true)]
	frame := fmt.Sprintf("engine.(*Engine).send(%p", e)
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if strings.Contains(header, "[select") && strings.Contains(g, frame) {
			n++
		}
	}
	return n
}

// holdFirstCommit makes e's first group commit from now on wait, after committing, until the
// returned release is called (also at the test's end, so a failed test does not leave the
// writer, and Close, waiting); commits counts the commits since.
func holdFirstCommit(t *testing.T, e *engine.Engine) (release func(), commits *atomic.Int32) {
	held := make(chan struct{})
	commits = &atomic.Int32{}
	e.SetCommitHook(func() {
		if commits.Add(1) == 1 {
			<-held
		}
	})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	t.Cleanup(release)
	return release, commits
}

// TestGroupCommitGathersWhatQueuedUp: the writes that queued up while a commit ran are
// committed together once it ends, at most MaxBatch in one commit.
func TestGroupCommitGathersWhatQueuedUp(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := enginetest.OpenSubscribed(t, engine.DurabilityProcess)
	release, commits := holdFirstCommit(t, e) // the first commit holds the writer until the others queued up
	const n = engine.MaxBatch + 1
	errs := make(chan error, n+1)
	publish := func(id string) { errs <- e.Topic("events").Publish(ctx, enginetest.Message(id)) }
	go publish("first")
	enginetest.WaitFor(t, enginetest.Hang, "the first commit", func() bool { return commits.Load() == 1 })
	for i := range n {
		go publish(fmt.Sprint("m", i))
	}
	enginetest.WaitFor(t, enginetest.Hang, fmt.Sprint(n, " writes waiting for the writer"), func() bool { return waitingWriters(e) == n })
	release()
	for range n + 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if c := commits.Load(); c != 3 {
		t.Fatalf("%d commits, want 3: the first, then the %d that queued up in two (%d and 1)", c, n, engine.MaxBatch)
	}
	if vis, _, err := e.Depth(ctx, "q"); err != nil || vis != n+1 {
		t.Fatalf("queue depth %d, %v; want %d", vis, err, n+1)
	}
}

// TestPutNewKeepsNotifiedAt: an event stored already notified (a replay of a marked event)
// reads as notified at once, and one stored unmarked reads as unmarked until marked.
func TestPutNewKeepsNotifiedAt(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	s := e.Events()
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	marked := enginetest.Record(t, "marked", "s", "t", at)
	marked.NotifiedAt = at.Add(time.Minute)
	enginetest.Put(t, e, marked, enginetest.Record(t, "unmarked", "s", "t", at))
	if got, err := s.NotifiedAt(ctx, "marked"); err != nil || !got.Equal(marked.NotifiedAt) {
		t.Errorf("NotifiedAt(marked) = %v, %v; want %v", got, err, marked.NotifiedAt)
	}
	if got, err := s.NotifiedAt(ctx, "unmarked"); err != nil || !got.IsZero() {
		t.Errorf("NotifiedAt(unmarked) = %v, %v; want zero", got, err)
	}
	if err := s.MarkNotified(ctx, "unmarked", at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.NotifiedAt(ctx, "unmarked"); err != nil || !got.Equal(at.Add(2*time.Minute)) {
		t.Errorf("NotifiedAt after MarkNotified = %v, %v", got, err)
	}
}

// TestGroupCommitRollsBackOnlyTheFailedOp: a write that fails inside a group commit is rolled
// back to its savepoint; the others in the same commit stand.
func TestGroupCommitRollsBackOnlyTheFailedOp(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := enginetest.OpenSubscribed(t, engine.DurabilityProcess)
	release, commits := holdFirstCommit(t, e) // the first commit holds the writer until the others queued up
	publishes := make(chan error, 3)
	publish := func(id string) { publishes <- e.Topic("events").Publish(ctx, enginetest.Message(id)) }
	go publish("first")
	enginetest.WaitFor(t, enginetest.Hang, "the first commit", func() bool { return commits.Load() == 1 })
	failed := make(chan error, 1)
	go publish("a")
	go func() { failed <- e.WriteThenFail(ctx, `INSERT INTO checkpoints (consumer, seq) VALUES ('x', 1)`) }()
	go publish("b")
	enginetest.WaitFor(t, enginetest.Hang, "3 writes waiting for the writer", func() bool { return waitingWriters(e) == 3 })
	release()
	for range 3 {
		if err := <-publishes; err != nil {
			t.Fatalf("a publish in the commit with the failed write: %v", err)
		}
	}
	if err := <-failed; err == nil {
		t.Fatal("the failing write succeeded")
	}
	if c := commits.Load(); c != 2 {
		t.Fatalf("%d commits, want 2: the three that queued up went in one", c)
	}
	var rows int
	if err := e.ReadDB().QueryRow(`SELECT count(*) FROM checkpoints`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("the failed write left %d rows (%v)", rows, err)
	}
	if vis, _, err := e.Depth(ctx, "q"); err != nil || vis != 3 {
		t.Fatalf("queue depth %d, %v; want 3", vis, err)
	}
}

// TestLonePutNewWaitsForItsSiblings: a PutNew that finds the writer idle shares its commit
// with the writes whose goroutines were ready to run when it came (the rest of a subscriber
// batch), instead of committing alone and leaving each of them a commit of its own; a lone
// publish does not wait (a client waits for its 202). One processor makes "ready to run"
// exact: the other writers are runnable, not running, when the first reaches the writer.
// Not parallel: GOMAXPROCS is the process's.
func TestLonePutNewWaitsForItsSiblings(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ctx := enginetest.Context(t)
	e := enginetest.OpenSubscribed(t, engine.DurabilityProcess)
	var commits atomic.Int32
	e.SetCommitHook(func() { commits.Add(1) })
	const n = 10
	concurrently := func(write func(i int) error) int32 {
		commits.Store(0)
		errs := make(chan error, n)
		for i := range n {
			go func() { errs <- write(i) }()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		return commits.Load()
	}
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := concurrently(func(i int) error {
		_, err := e.Events().PutNew(ctx, enginetest.Record(t, fmt.Sprint("ev-", i), "github", "push", at))
		return err
	})
	if c > 2 {
		t.Errorf("%d PutNews ready at once took %d commits, want 1 (2 if the scheduler came between)", n, c)
	}
	c = concurrently(func(i int) error { return e.Topic("events").Publish(ctx, enginetest.Message(fmt.Sprint("m", i))) })
	if c < n/2 {
		t.Errorf("%d publishes ready at once took %d commits, want about one each: the first waited for the others", n, c)
	}
	if vis, _, err := e.Depth(ctx, "q"); err != nil || vis != n {
		t.Fatalf("queue depth %d, %v; want %d", vis, err, n)
	}
}

// TestCloseRemovesTheWAL: the writer holds the write connection while it runs and gives it
// back when it stops, so Close closes it last, which checkpoints the WAL and removes it.
func TestCloseRemovesTheWAL(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	e, err := engine.Open(path, engine.Options{Log: enginetest.QuietLog()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := enginetest.Context(t)
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{})
	enginetest.Subscribe(t, e, "events", "q")
	if err := e.Topic("events").Publish(ctx, enginetest.Message("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL while open: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after Close the WAL is still there (%v)", err)
	}
	e = enginetest.Open(t, path)
	if vis, _, err := e.Depth(ctx, "q"); err != nil || vis != 1 {
		t.Fatalf("reopened: %d visible, %v; want the message", vis, err)
	}
}

// TestOpenFailsWhenTheTopologyDoesNotLoad: a file whose subscriptions table is gone is refused
// by Open with the reason, rather than opened with no subscriptions.
func TestOpenFailsWhenTheTopologyDoesNotLoad(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	e, err := engine.Open(path, engine.Options{Log: enginetest.QuietLog()})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TABLE subscriptions`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	e, err = engine.Open(path, engine.Options{Log: enginetest.QuietLog()})
	if err == nil {
		e.Close()
		t.Fatal("Open succeeded without a subscriptions table")
	}
	if !strings.Contains(err.Error(), "load subscriptions") {
		t.Fatalf("Open: %v; want it to say the subscriptions did not load", err)
	}
}
