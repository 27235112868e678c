package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
)

// counter counts deliveries by key; the runner's goroutines add while the test reads.
type counter struct{ n sync.Map } // key → *atomic.Int64

func (c *counter) add(k string) int {
	n, _ := c.n.LoadOrStore(k, new(atomic.Int64))
	return int(n.(*atomic.Int64).Add(1))
}

func (c *counter) get(k string) int {
	if n, ok := c.n.Load(k); ok {
		return int(n.(*atomic.Int64).Load())
	}
	return 0
}

// startRunner runs r until the test ends and returns a func that cancels it and waits.
func startRunner(t *testing.T, r *Runner) (stop func()) {
	t.Helper()
	if r.Log == nil {
		r.Log = enginetest.QuietLog()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := r.Run(ctx)
		if ctx.Err() == nil { // a test's waits then stop at once (enginetest.WaitFor)
			t.Errorf("Run returned before the test stopped it: %v", err)
		}
		done <- err
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func queueSetup(t *testing.T, cfg engine.QueueConfig) *engine.Engine {
	return queueSetupWith(t, cfg, engine.Options{})
}

// vt is clockedQueue's visibility timeout.
const vt = 30 * time.Second

// clockedQueue is queueSetup's with visibility timeout vt and maxReceives, on an engine whose
// clock only the test moves: a received message comes back at clock.Advance(vt), never on its
// own however long a batch takes on a busy machine.
func clockedQueue(t *testing.T, maxReceives int) (*engine.Engine, *enginetest.Clock) {
	clock := enginetest.NewClock()
	cfg := engine.QueueConfig{VisibilityTimeout: vt, MaxReceiveCount: maxReceives}
	return queueSetupWith(t, cfg, engine.Options{Clock: clock.Now}), clock
}

// queueSetupWith opens an engine with opts (a clock, say) whose topic "events" feeds queue
// "q", which dead-letters to "dlq".
func queueSetupWith(t *testing.T, cfg engine.QueueConfig, opts engine.Options) *engine.Engine {
	e := enginetest.OpenWith(t, "", opts)
	enginetest.CreateQueue(t, e, "dlq", engine.QueueConfig{})
	cfg.DeadLetterQueue = "dlq"
	enginetest.CreateQueue(t, e, "q", cfg)
	enginetest.Subscribe(t, e, "events", "q")
	return e
}

// publish sends one message per id to the topic "events" of queueSetup.
func publish(t *testing.T, ctx context.Context, e *engine.Engine, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := e.Topic("events").Publish(ctx, enginetest.Message(id)); err != nil {
			t.Fatal(err)
		}
	}
}

// receiveAll receives the n messages waiting in queue "q" at once.
func receiveAll(t *testing.T, ctx context.Context, e *engine.Engine, n int) []engine.Message {
	t.Helper()
	msgs, err := e.Receive(ctx, "q", 10)
	if err != nil || len(msgs) != n {
		t.Fatalf("receive: %v, %d messages", err, len(msgs))
	}
	return msgs
}

// putEvents stores n events, ev-0 to ev-<n-1>: n INSERT records on the stream.
func putEvents(t *testing.T, ctx context.Context, e *engine.Engine, n int) {
	t.Helper()
	for i := range n {
		enginetest.Put(t, e, enginetest.Record(t, "ev-"+strconv.Itoa(i), "s", "t", time.Now().UTC()))
	}
}

// TestRunnerPartialBatchFailure: only the message the subscriber reports comes back, once its
// visibility timeout has run out on the engine's clock, which only the test moves: the others
// cannot reappear however long the batch takes on a busy machine.
func TestRunnerPartialBatchFailure(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e, clock := clockedQueue(t, 5)
	var seen counter
	var shape sync.Once
	r := &Runner{
		Engine: e, Queue: "q", PollInterval: 5 * time.Millisecond,
		Subscriber: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			var resp events.SQSEventResponse
			shape.Do(func() {
				m := ev.Records[0]
				if m.EventSource != "aws:sqs" || m.EventSourceARN != "arn:aws:sqs:local:000000000000:q" ||
					m.Attributes["ApproximateReceiveCount"] != "1" || m.Attributes["SentTimestamp"] == "" ||
					m.Attributes["ApproximateFirstReceiveTimestamp"] == "" || m.MessageId == "" || m.ReceiptHandle == "" {
					t.Errorf("SQS record = %+v", m)
				}
				if a := m.MessageAttributes["type"]; a.DataType != "String" || a.StringValue == nil || *a.StringValue != "push" {
					t.Errorf("type attribute = %+v", a)
				}
			})
			for _, m := range ev.Records {
				// "flaky" fails on its first delivery only.
				if seen.add(m.Body) == 1 && strings.Contains(m.Body, "flaky") {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				}
			}
			return resp, nil
		},
	}
	startRunner(t, r)
	publish(t, ctx, e, "a", "flaky", "b")
	// a and b deleted, flaky's failure recorded: the batches are settled.
	enginetest.WaitFor(t, enginetest.Hang, "a and b deleted, flaky's failure recorded", func() bool {
		left, _ := e.ListDLQ(ctx, "q", 10) // lists any queue without receiving
		return len(left) == 1 && left[0].Reason != ""
	})
	if n := seen.get(`{"id":"flaky"}`); n != 1 {
		t.Fatalf("flaky delivered %d times before its visibility timeout ran out, want 1", n)
	}
	clock.Advance(vt)
	enginetest.WaitFor(t, enginetest.Hang, "flaky redelivered and deleted", func() bool {
		vis, inflight, _ := e.Depth(ctx, "q")
		return seen.get(`{"id":"flaky"}`) == 2 && vis+inflight == 0
	})
	for _, id := range []string{"a", "b"} {
		if n := seen.get(`{"id":"` + id + `"}`); n != 1 {
			t.Errorf("%s delivered %d times, want 1", id, n)
		}
	}
}

// failModes are the two ways a handler fails a record, each with what the runner then records
// as the failure's reason.
var failModes = []struct {
	name   string
	err    error // returned for the whole batch; nil: the record is listed in BatchItemFailures
	reason string
}{
	{"partial", nil, "BatchItemFailures"},
	{"error", errHandler, errHandler.Error()},
}

var errHandler = errors.New("handler failed the batch")

// TestRunnerPoisonMessageGoesToDLQ: a message that always fails is delivered MaxReceiveCount
// times, each time its visibility timeout runs out on the test's clock, and then moved to the
// DLQ with the last reason; a good message next to it is delivered once.
func TestRunnerPoisonMessageGoesToDLQ(t *testing.T) {
	t.Parallel()
	for _, mode := range failModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			ctx := enginetest.Context(t)
			e, clock := clockedQueue(t, 3)
			var seen counter
			r := &Runner{
				Engine: e, Queue: "q", PollInterval: 5 * time.Millisecond, BatchSize: 1,
				Subscriber: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
					var resp events.SQSEventResponse
					for _, m := range ev.Records {
						seen.add(m.Body)
						if strings.Contains(m.Body, "poison") {
							if mode.err != nil {
								return resp, mode.err
							}
							resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
						}
					}
					return resp, nil
				},
			}
			startRunner(t, r)
			publish(t, ctx, e, "poison", "ok")
			enginetest.WaitFor(t, enginetest.Hang, "ok deleted, poison's first failure recorded", func() bool {
				left, _ := e.ListDLQ(ctx, "q", 10)
				return len(left) == 1 && left[0].Reason != ""
			})
			// Each advance lets the poison come back once more; the receive after the third moves it.
			var dead []engine.DeadLetter
			for len(dead) == 0 {
				before := seen.get(`{"id":"poison"}`)
				clock.Advance(vt)
				enginetest.WaitFor(t, enginetest.Hang, "poison received again", func() bool {
					dead, _ = e.ListDLQ(ctx, "dlq", 10)
					return len(dead) > 0 || seen.get(`{"id":"poison"}`) > before
				})
			}
			d := dead[0]
			if len(dead) != 1 || string(d.Body) != `{"id":"poison"}` || d.ReceiveCount != 3 || d.SourceQueue != "q" {
				t.Errorf("dead letters = %+v", dead)
			}
			if !strings.Contains(d.Reason, mode.reason) {
				t.Errorf("reason = %q, want it to mention %q", d.Reason, mode.reason)
			}
			if n := seen.get(`{"id":"poison"}`); n != 3 {
				t.Errorf("poison delivered %d times, want MaxReceiveCount 3", n)
			}
			if n := seen.get(`{"id":"ok"}`); n != 1 {
				t.Errorf("ok delivered %d times, want 1", n)
			}
		})
	}
}

// TestRunnerWakesOnPublishAndPutNew: with the fallback polls an hour apart, only the engine's
// signals can bring a message or a stream record to the handlers within the hang bound. (The
// engine's own tests prove the signals reach a waiter that is already waiting.)
func TestRunnerWakesOnPublishAndPutNew(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := queueSetup(t, engine.QueueConfig{})
	got := make(chan string, 10)
	notified := make(chan string, 10)
	r := &Runner{
		Engine: e, Queue: "q", StreamConsumer: "notifier",
		BatchWindow: time.Hour, PollInterval: time.Hour,
		Subscriber: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			for _, m := range ev.Records {
				got <- m.Body
			}
			return events.SQSEventResponse{}, nil
		},
		Notifier: func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			for _, rec := range ev.Records {
				notified <- rec.Change.SequenceNumber
			}
			return events.DynamoDBEventResponse{}, nil
		},
	}
	startRunner(t, r)
	for _, id := range []string{"x", "y"} { // the second finds every poller idle
		publish(t, ctx, e, id)
		if body := enginetest.Await(t, got, "subscriber never called for "+id+": the publish did not wake the pollers"); body != `{"id":"`+id+`"}` {
			t.Fatalf("subscriber got %s, want %s", body, id)
		}
	}
	for _, id := range []string{"ev-1", "ev-2"} {
		enginetest.Put(t, e, enginetest.Record(t, id, "s", "t", time.Now().UTC()))
		enginetest.Await(t, notified, "notifier never called for "+id+": the INSERT did not wake the stream poller")
	}
}

func TestRunnerDrainsOnCancel(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := queueSetup(t, engine.QueueConfig{VisibilityTimeout: time.Hour})
	entered := make(chan struct{})
	release := make(chan struct{})
	r := &Runner{
		Engine: e, Queue: "q", Concurrency: 1,
		Subscriber: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			close(entered)
			<-release
			if ctx.Err() != nil {
				return events.SQSEventResponse{}, ctx.Err() // the drained batch must get a live ctx
			}
			return events.SQSEventResponse{}, nil
		},
	}
	stop := startRunner(t, r)
	publish(t, ctx, e, "x")
	enginetest.Await(t, entered, "the subscriber never got the message")
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	// Run may not return while the batch is in the handler, and the batch it waited for must
	// be settled (deleted) by the time it does.
	select {
	case <-stopped:
		t.Fatal("Run returned before the in-flight batch finished")
	default:
	}
	close(release)
	<-stopped
	if vis, inflight, _ := e.Depth(ctx, "q"); vis+inflight != 0 {
		t.Fatalf("Run returned before settling the drained batch: %d visible, %d in flight", vis, inflight)
	}
}

func TestRunnerStreamRetriesThenRecords(t *testing.T) {
	t.Parallel()
	for _, mode := range failModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			ctx, e := enginetest.Start(t)
			var seen counter
			r := &Runner{
				Engine: e, StreamConsumer: "notifier", StreamRetries: 2, RetryDelay: time.Millisecond, StreamBatchSize: 4,
				Notifier: func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
					var resp events.DynamoDBEventResponse
					for _, rec := range ev.Records {
						if rec.EventName != "INSERT" || rec.EventSource != "aws:dynamodb" || rec.Change.StreamViewType != "NEW_IMAGE" {
							t.Errorf("record = %+v", rec)
						}
						got, err := ddbitem.FromStreamImage(rec.Change.NewImage)
						if err != nil {
							return resp, err
						}
						if got.Event.ID == "bad" {
							if mode.err != nil {
								return resp, mode.err
							}
							resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
							continue
						}
						seen.add(got.Event.ID)
					}
					if mode.name == "partial" {
						for _, rec := range ev.Records {
							if got, _ := ddbitem.FromStreamImage(rec.Change.NewImage); got.Event.ID == "bad" {
								seen.add("bad")
							}
						}
					}
					return resp, nil
				},
			}
			now := time.Now().UTC()
			ids := []string{"a", "b", "bad", "c", "d", "e"}
			for i, id := range ids {
				enginetest.Put(t, e, enginetest.Record(t, id, "s", "t", now.Add(time.Duration(i))))
			}
			startRunner(t, r)
			var fails []engine.StreamFailure
			enginetest.WaitFor(t, 5*time.Second, "failure recorded", func() bool {
				fails, _ = e.ListStreamFailures(ctx, "notifier", 10)
				return len(fails) == 1
			})
			enginetest.WaitCaughtUp(t, e, "notifier", 5*time.Second)
			f := fails[0]
			if img, _ := ddbitem.FromStreamImage(f.Record.NewImage); img == nil || img.Event.ID != "bad" {
				t.Errorf("recorded failure is not the bad record: %+v", f)
			}
			if !strings.Contains(f.Reason, mode.reason) {
				t.Errorf("reason = %q, want it to mention %q", f.Reason, mode.reason)
			}
			if mode.name == "partial" {
				if n := seen.get("bad"); n != 3 {
					t.Errorf("bad delivered %d times, want 1 + 2 retries", n)
				}
			}
			for _, id := range []string{"a", "b"} {
				// Before a reported failure: checkpointed, never redelivered. A handler error
				// fails the whole batch, so then they may come again (at-least-once).
				if n := seen.get(id); n < 1 || (mode.name == "partial" && n != 1) {
					t.Errorf("%s delivered %d times, want 1", id, n)
				}
			}
			for _, id := range []string{"c", "d", "e"} {
				if n := seen.get(id); n < 1 {
					t.Errorf("%s never delivered", id)
				}
			}
		})
	}
}

func TestRunnerConfigErrors(t *testing.T) {
	t.Parallel()
	e := enginetest.Open(t, "")
	noop := func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{}, nil
	}
	for i, r := range []*Runner{
		{},
		{Engine: e, Subscriber: noop},
		{Engine: e, Subscriber: noop, Queue: "missing"},
		{Engine: e, Notifier: func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			return events.DynamoDBEventResponse{}, nil
		}},
	} {
		// An ended context: Run returns at once whether or not it takes the config, so a check
		// that lets a bad config through fails here instead of polling forever.
		ended, cancel := context.WithCancel(context.Background())
		cancel()
		if err := r.Run(ended); err == nil {
			t.Errorf("case %d: Run accepted a bad config", i)
		}
	}
}

// The events image delivered to the notifier decodes to the stored record.
func TestDynamoDBEventShape(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	enginetest.Put(t, e, enginetest.Record(t, "ev-1", "github", "push", time.Now().UTC()))
	recs, _ := e.ReadStream(ctx, "c", 10)
	ev := DynamoDBEvent(recs)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var back events.DynamoDBEvent
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	r := back.Records[0]
	if r.EventName != "INSERT" || r.EventSource != "aws:dynamodb" || r.Change.StreamViewType != "NEW_IMAGE" ||
		r.Change.SequenceNumber != fmt.Sprint(recs[0].Seq) || r.EventVersion != "1.1" || r.Change.SizeBytes == 0 {
		t.Errorf("record = %+v", r)
	}
	if got, err := ddbitem.FromStreamImage(r.Change.NewImage); err != nil || got.Event.ID != "ev-1" {
		t.Errorf("image after a JSON round trip: %v, %v", got, err)
	}
}

func TestSQSEventAttributes(t *testing.T) {
	t.Parallel()
	sent := time.UnixMilli(1700000000123)
	ev := SQSEvent("events", []engine.Message{{ID: "id", ReceiptHandle: "1-ab", Body: []byte("b"), ReceiveCount: 2,
		SentAt: sent, FirstReceivedAt: sent.Add(time.Second), Attributes: map[string]string{"type": "push", "source": "github"}}})
	m := ev.Records[0]
	want := map[string]string{"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000123", "ApproximateFirstReceiveTimestamp": strconv.FormatInt(sent.Add(time.Second).UnixMilli(), 10)}
	for k, v := range want {
		if m.Attributes[k] != v {
			t.Errorf("%s = %q, want %q", k, m.Attributes[k], v)
		}
	}
	if *m.MessageAttributes["source"].StringValue != "github" || *m.MessageAttributes["type"].StringValue != "push" {
		t.Errorf("message attributes = %s", fmt.Sprint(m.MessageAttributes))
	}
}

// TestSQSEventSharesTheBody: a record's Body is the message's body, read where it is (the
// engine never modifies a published body) instead of a copy per message.
func TestSQSEventSharesTheBody(t *testing.T) {
	t.Parallel()
	msgs := []engine.Message{{ID: "a", Body: []byte(`{"id":"a"}`)}, {ID: "b", Body: []byte(`{"id":"b","more":1}`)}, {ID: "c"}}
	ev := SQSEvent("events", msgs)
	for i, m := range msgs {
		got := ev.Records[i].Body
		if got != string(m.Body) {
			t.Errorf("record %d: Body %q, want %q", i, got, m.Body)
		}
		if len(m.Body) > 0 && unsafe.StringData(got) != unsafe.SliceData(m.Body) {
			t.Errorf("record %d: Body is a copy of the message's body", i)
		}
	}
}

func TestWindowCheckpointsFinishedPrefix(t *testing.T) {
	t.Parallel()
	// Chunks cover seqs 1-3, 4-6, 7-9.
	w := &window{ends: []int64{3, 6, 9}, through: []int64{0, 3, 6}}
	steps := []struct {
		chunk int
		seq   int64
		want  int64 // 0: nothing new to checkpoint
	}{
		{1, 6, 0}, // chunk 1 done, but chunk 0 is not
		{0, 2, 2},
		{2, 8, 0},
		{0, 3, 8}, // chunk 0 done: through chunk 1 and chunk 2's progress
		{2, 9, 9},
	}
	for i, s := range steps {
		got, ok := w.progress(s.chunk, s.seq)
		if !ok {
			got = 0
		}
		if got != s.want {
			t.Errorf("step %d: checkpoint %d, want %d", i, got, s.want)
		}
	}
}
