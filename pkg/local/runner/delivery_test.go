package runner

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/wiring"
)

// configured returns r with its defaults applied, for tests that call one delivery directly.
func configured(t *testing.T, r *Runner) *Runner {
	t.Helper()
	if r.Log == nil {
		r.Log = enginetest.QuietLog()
	}
	c, err := r.defaults()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDeliverSQSUnknownIDFailsBatch: Lambda treats a batch item failure that names no message
// of the batch (or names none at all) as a failure of the whole batch. Every message stays on
// the queue with the reason; none is deleted.
func TestDeliverSQSUnknownIDFailsBatch(t *testing.T) {
	t.Parallel()
	for _, unknown := range []string{"no-such-message", ""} {
		ctx := enginetest.Context(t)
		e := queueSetup(t, engine.QueueConfig{VisibilityTimeout: time.Hour})
		publish(t, ctx, e, "a", "b")
		msgs := receiveAll(t, ctx, e, 2)
		calls := 0
		c := configured(t, &Runner{Engine: e, Queue: "q", Subscriber: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			calls++
			// The first item is real, the second is not: the real one must not excuse the batch.
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: msgs[0].ID}, {ItemIdentifier: unknown}}}, nil
		}})
		c.deliverSQS(ctx, msgs)
		left, err := e.ListDLQ(ctx, "q", 10) // lists the queue without receiving
		if err != nil {
			t.Fatal(err)
		}
		if calls != 1 || len(left) != 2 {
			t.Fatalf("unknown id %q: %d calls, %d messages left; want both kept", unknown, calls, len(left))
		}
		want := `subscriber response is invalid: batch item failure names unknown message id "` + unknown + `"`
		for _, m := range left {
			if m.Reason != want {
				t.Errorf("unknown id %q: %s reason %q, want %q", unknown, m.ID, m.Reason, want)
			}
		}
	}
}

// TestDeliverSQSSettles: reported messages stay with the reason, the rest are deleted, and a
// handler error or panic fails the whole batch with its text.
func TestDeliverSQSSettles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		handler func(msgs []engine.Message) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
		left    int
		reason  string
	}{
		{"partial", func(msgs []engine.Message) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
				return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: msgs[1].ID}}}, nil
			}
		}, 1, "reported in BatchItemFailures by the subscriber (see its log for the cause)"},
		{"error", func([]engine.Message) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
				return events.SQSEventResponse{}, errors.New("table gone")
			}
		}, 3, "subscriber returned an error: table gone"},
		{"panic", func([]engine.Message) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) { panic("nil map") }
		}, 3, "subscriber returned an error: handler panicked: nil map"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := enginetest.Context(t)
			e := queueSetup(t, engine.QueueConfig{VisibilityTimeout: time.Hour})
			publish(t, ctx, e, "a", "b", "c")
			msgs := receiveAll(t, ctx, e, 3)
			c := configured(t, &Runner{Engine: e, Queue: "q", Subscriber: tc.handler(msgs)})
			c.deliverSQS(ctx, msgs)
			left, _ := e.ListDLQ(ctx, "q", 10)
			if len(left) != tc.left {
				t.Fatalf("%d messages left, want %d", len(left), tc.left)
			}
			for _, m := range left {
				if m.Reason != tc.reason {
					t.Errorf("%s: reason %q, want %q", m.Body, m.Reason, tc.reason)
				}
			}
		})
	}
}

// streamRecs makes stream records with the given event names, seqs from 1.
func streamRecs(names ...string) []engine.StreamRecord {
	out := make([]engine.StreamRecord, len(names))
	for i, n := range names {
		out[i] = engine.StreamRecord{Seq: int64(i + 1), EventName: n}
	}
	return out
}

// notifierLog records the sequence numbers of every batch the notifier got.
type notifierLog struct {
	mu      sync.Mutex
	batches [][]string
}

func (l *notifierLog) add(ev events.DynamoDBEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var seqs []string
	for _, r := range ev.Records {
		seqs = append(seqs, r.Change.SequenceNumber)
	}
	l.batches = append(l.batches, seqs)
}

// TestDeliverStreamInsertFilter: only INSERTs reach the notifier (the CDK filter), in batches
// of StreamBatchSize, and the checkpoint still moves past the records filtered out, the
// trailing ones included.
func TestDeliverStreamInsertFilter(t *testing.T) {
	t.Parallel()
	var got notifierLog
	c := configured(t, &Runner{Engine: enginetest.Open(t, ""), StreamConsumer: "n", StreamBatchSize: 2,
		Notifier: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			got.add(ev)
			return events.DynamoDBEventResponse{}, nil
		}})
	var done []int64
	c.deliverStream(context.Background(), streamRecs("INSERT", "MODIFY", "INSERT", "REMOVE", "INSERT", "MODIFY"), func(seq int64) { done = append(done, seq) })
	want := [][]string{{"1", "3"}, {"5"}}
	if !slices.EqualFunc(got.batches, want, slices.Equal) {
		t.Errorf("notifier got batches %v, want %v", got.batches, want)
	}
	// Each batch covers the filtered records up to the next INSERT: the REMOVE (4) with the
	// first, the trailing MODIFY (6) with the last.
	if !slices.Equal(done, []int64{4, 6}) {
		t.Errorf("done through %v, want [4 6]", done)
	}
	// A window of nothing but filtered records is skipped without calling the notifier.
	got.batches, done = nil, nil
	c.deliverStream(context.Background(), streamRecs("MODIFY", "REMOVE"), func(seq int64) { done = append(done, seq) })
	if len(got.batches) != 0 || !slices.Equal(done, []int64{2}) {
		t.Errorf("filtered-only window: notifier got %v, done %v; want no call, done [2]", got.batches, done)
	}
}

// TestDeliverStreamRetriesCountPerRecord: each record gets StreamRetries retries of its own. A
// record that fails once and then goes through does not use up the retries of the one after
// it, which keeps failing: that one is retried once more before it is recorded and skipped.
func TestDeliverStreamRetriesCountPerRecord(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	var got notifierLog
	c := configured(t, &Runner{Engine: e, StreamConsumer: "n", StreamRetries: 1, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond,
		Notifier: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			got.add(ev)
			got.mu.Lock()
			first := len(got.batches) == 1
			got.mu.Unlock()
			var resp events.DynamoDBEventResponse
			for _, r := range ev.Records {
				// 1 fails on the first call only, 2 on every call.
				if seq := r.Change.SequenceNumber; seq == "2" || seq == "1" && first {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
				}
			}
			return resp, nil
		}})
	var done []int64
	c.deliverStream(ctx, streamRecs("INSERT", "INSERT"), func(seq int64) { done = append(done, seq) })
	if want := [][]string{{"1", "2"}, {"1", "2"}, {"2"}}; !slices.EqualFunc(got.batches, want, slices.Equal) {
		t.Errorf("notifier got batches %v, want %v: 2's one retry after its first failure", got.batches, want)
	}
	fails, err := e.ListStreamFailures(ctx, "n", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) != 1 || fails[0].Record.Seq != 2 || !slices.Equal(done, []int64{0, 1, 1, 2}) {
		t.Errorf("recorded failures %+v, done %v; want only 2's, done [0 1 1 2]", fails, done)
	}
}

// TestDeliverStreamUnknownSequenceFailsBatch: a batch item failure naming a sequence number
// that is not in the batch fails the whole batch, as Lambda does; with no retries left every
// record is recorded as failed with that reason and nothing is counted as done before it.
func TestDeliverStreamUnknownSequenceFailsBatch(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	calls := 0
	c := configured(t, &Runner{Engine: e, StreamConsumer: "n", StreamRetries: -1,
		Notifier: func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			calls++
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: "999"}}}, nil
		}})
	var done []int64
	c.deliverStream(ctx, streamRecs("INSERT", "INSERT"), func(seq int64) { done = append(done, seq) })
	fails, err := e.ListStreamFailures(ctx, "n", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) != 2 || fails[0].Record.Seq != 1 || fails[1].Record.Seq != 2 {
		t.Fatalf("recorded failures %+v, want both records", fails)
	}
	for _, f := range fails {
		if want := `notifier response names unknown sequence number "999"`; f.Reason != want {
			t.Errorf("reason %q, want %q", f.Reason, want)
		}
	}
	// Done only ever through what failed and was recorded: 0 (before the first), 1, then 1 and 2.
	if !slices.Equal(done, []int64{0, 1, 1, 2}) || calls != 2 {
		t.Errorf("done %v after %d calls, want [0 1 1 2] after 2", done, calls)
	}
}

// TestFirstStreamFailure picks the lowest failed record whatever order the reply lists them in.
func TestFirstStreamFailure(t *testing.T) {
	t.Parallel()
	batch := []engine.StreamRecord{{Seq: 7}, {Seq: 8}, {Seq: 9}}
	fail := func(seqs ...string) events.DynamoDBEventResponse {
		var r events.DynamoDBEventResponse
		for _, s := range seqs {
			r.BatchItemFailures = append(r.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: s})
		}
		return r
	}
	for _, tc := range []struct {
		resp   events.DynamoDBEventResponse
		idx    int
		reason string
	}{
		{fail(), -1, ""},
		{fail("9", "8"), 1, "reported in BatchItemFailures"},
		{fail("8", "9"), 1, "reported in BatchItemFailures"},
		{fail("7"), 0, "reported in BatchItemFailures"},
		{fail("7", "9"), 0, "reported in BatchItemFailures"},
		{fail("9", "6"), 0, `unknown sequence number "6"`},
	} {
		idx, reason := firstStreamFailure(batch, tc.resp)
		if idx != tc.idx || !strings.Contains(reason, tc.reason) || (tc.reason == "") != (reason == "") {
			t.Errorf("failures %v: %d %q, want %d %q", tc.resp.BatchItemFailures, idx, reason, tc.idx, tc.reason)
		}
	}
}

// TestRetryDelay doubles from RetryDelay per attempt up to MaxRetryDelay.
func TestRetryDelay(t *testing.T) {
	t.Parallel()
	c := configured(t, &Runner{Engine: enginetest.Open(t, ""), RetryDelay: 100 * time.Millisecond, MaxRetryDelay: time.Second})
	for attempt, want := range []time.Duration{100, 100, 200, 400, 800, 1000, 1000} {
		if got := c.retryDelay(attempt); got != want*time.Millisecond {
			t.Errorf("retryDelay(%d) = %v, want %v", attempt, got, want*time.Millisecond)
		}
	}
	d := configured(t, &Runner{Engine: enginetest.Open(t, "")})
	if d.retryDelay(1) != 100*time.Millisecond || d.retryDelay(20) != 30*time.Second || d.StreamRetries != 10 {
		t.Errorf("defaults: %v, %v, %d retries; want 100ms, 30s, 10", d.retryDelay(1), d.retryDelay(20), d.StreamRetries)
	}
}

// TestDefaults are the values the Runner documents, which match the CDK stack's event sources.
func TestDefaults(t *testing.T) {
	t.Parallel()
	c := configured(t, &Runner{Engine: enginetest.Open(t, "")})
	if c.BatchSize != wiring.SubscriberBatchSize || c.BatchWindow != wiring.SubscriberBatchWindow || c.Concurrency != 16 || c.StreamBatchSize != wiring.NotifierBatchSize ||
		c.ParallelizationFactor != 10 || c.StreamRetries != 10 || c.PollInterval != 100*time.Millisecond ||
		c.BusyConcurrency != 4 || c.MaxLag != wiring.SubscriberBatchWindow || c.Busy != nil {
		t.Errorf("defaults = %+v", c)
	}
	if n := configured(t, &Runner{Engine: enginetest.Open(t, ""), StreamRetries: -1}).StreamRetries; n != 0 {
		t.Errorf("StreamRetries -1 gives %d retries, want none", n)
	}
}

// TestStreamCrashDuringRetriesResumesAtFailedRecord: the process dies while the notifier is
// being retried on a failed record. After a restart on the same file, delivery resumes at the
// failed record: everything before it was checkpointed (not redelivered), and the failed record
// itself was not skipped.
func TestStreamCrashDuringRetriesResumesAtFailedRecord(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	e1, err := engine.Open(path, engine.Options{Log: enginetest.QuietLog()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := enginetest.Context(t)
	ids := []string{"a", "b", "bad", "c"}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range ids {
		enginetest.Put(t, e1, enginetest.Record(t, id, "s", "t", at.Add(time.Duration(i))))
	}
	idOf := func(rec events.DynamoDBEventRecord) string {
		r, err := ddbitem.FromStreamImage(rec.Change.NewImage)
		if err != nil {
			t.Errorf("image: %v", err)
			return ""
		}
		return r.Event.ID
	}
	var mu sync.Mutex
	badAttempts := 0
	retrying := make(chan struct{})
	r1 := &Runner{Engine: e1, StreamConsumer: "notifier", StreamRetries: 1000, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond,
		Log: enginetest.QuietLog(),
		Notifier: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			var resp events.DynamoDBEventResponse
			for _, rec := range ev.Records {
				if idOf(rec) != "bad" {
					continue
				}
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
				mu.Lock()
				if badAttempts++; badAttempts == 2 {
					close(retrying) // the first failure was handled (and checkpointed): now in the retries
				}
				mu.Unlock()
			}
			return resp, nil
		}}
	runCtx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- r1.Run(runCtx) }()
	enginetest.Await(t, retrying, "the failed record was never retried")
	// The crash: the database takes no more writes, then the goroutines stop.
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := enginetest.Await(t, ran, "Run did not return after the crash and cancel"); err != nil {
		t.Fatal(err)
	}

	e2 := enginetest.Open(t, path)
	var seen []string
	r2 := &Runner{Engine: e2, StreamConsumer: "notifier",
		Notifier: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, rec := range ev.Records {
				seen = append(seen, idOf(rec))
			}
			return events.DynamoDBEventResponse{}, nil
		}}
	startRunner(t, r2)
	enginetest.WaitFor(t, enginetest.Hang, "the stream consumed after the restart", func() bool {
		recs, _ := e2.ReadStream(ctx, "notifier", 10)
		return len(recs) == 0
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen, []string{"bad", "c"}) {
		t.Errorf("after the restart the notifier got %v, want [bad c]: resume at the failed record, redeliver nothing before it", seen)
	}
	if fails, _ := e2.ListStreamFailures(ctx, "notifier", 10); len(fails) != 0 {
		t.Errorf("%d records given up, want none", len(fails))
	}
}

// TestStreamFailureWriteFailingPausesTheReread: when the record whose retries ran out cannot
// be recorded as failed (the database refuses writes: disk full), it is not checkpointed, and
// the poller reads it again, but only after a pause, twice as long each time the write fails
// in a row (up to MaxRetryDelay), never in a tight loop of notifier calls and failed writes.
// Once the write goes through, the record is in the failure table and checkpointed: nothing
// acknowledged is lost; and the next refusal pauses as briefly as the first. The clock is fake:
// it notes the pauses and returns at once.
func TestStreamFailureWriteFailingPausesTheReread(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	enginetest.Put(t, e, enginetest.Record(t, "bad", "s", "t", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)))
	var mu sync.Mutex
	var steps []string
	step := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, s)
	}
	writes := 0
	r := &Runner{Engine: e, StreamConsumer: "n", StreamRetries: -1, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 40 * time.Millisecond,
		Notifier: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			step("notify")
			return events.DynamoDBEventResponse{}, errors.New("mailer down")
		}}
	r.recordFailure = func(ctx context.Context, consumer string, rec engine.StreamRecord, reason string) error {
		mu.Lock()
		writes++
		refuse := writes <= 4 || writes == 6 // the first record's first four, the second's first
		mu.Unlock()
		if refuse {
			step("write refused")
			return errors.New("database or disk is full")
		}
		step("write")
		return e.RecordStreamFailure(ctx, consumer, rec, reason)
	}
	r.sleep = func(ctx context.Context, d time.Duration) error {
		step("pause " + d.String())
		return ctx.Err()
	}
	stop := startRunner(t, r)
	for i, id := range []string{"bad", "worse"} {
		if i > 0 {
			enginetest.Put(t, e, enginetest.Record(t, id, "s", "t", time.Date(2026, 12, 2, 0, 0, 1, 0, time.UTC)))
		}
		enginetest.WaitFor(t, enginetest.Hang, id+"'s failure recorded", func() bool {
			fails, _ := e.ListStreamFailures(ctx, "n", 10)
			return len(fails) == i+1
		})
		enginetest.WaitCaughtUp(t, e, "n", enginetest.Hang)
	}
	stop()
	want := []string{
		"notify", "write refused", "pause 10ms",
		"notify", "write refused", "pause 20ms",
		"notify", "write refused", "pause 40ms",
		"notify", "write refused", "pause 40ms",
		"notify", "write",
		"notify", "write refused", "pause 10ms",
		"notify", "write",
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(steps, want) {
		t.Errorf("steps:\n%q\nwant\n%q", steps, want)
	}
}
