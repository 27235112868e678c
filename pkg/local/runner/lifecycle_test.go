package runner

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/internal/sink"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/pipeline"
)

// debugLogger logs JSON lines at debug and up to w (a sink.Buffer: the runner's goroutines
// write while the test reads).
func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestRunnerCleanRunIsQuiet: a run where every handler succeeds, stopped by its context, logs
// nothing at warn level or above, and never invokes a handler with an empty batch (Lambda does
// not): the pollers' empty long polls — every few microseconds here — are not batches.
func TestRunnerCleanRunIsQuiet(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := queueSetup(t, engine.QueueConfig{})
	var logs sink.Buffer
	got := make(chan string, 10)
	r := &Runner{
		Engine: e, Queue: "q", StreamConsumer: "notifier", Concurrency: 1, Log: debugLogger(&logs),
		PollInterval: time.Microsecond, BatchWindow: time.Microsecond,
		Subscriber: func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			if len(ev.Records) == 0 {
				t.Error("subscriber invoked with an empty batch")
			}
			for _, m := range ev.Records {
				got <- m.Body
			}
			return events.SQSEventResponse{}, nil
		},
		Notifier: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			if len(ev.Records) == 0 {
				t.Error("notifier invoked with an empty batch")
			}
			for _, rec := range ev.Records {
				got <- rec.Change.SequenceNumber
			}
			return events.DynamoDBEventResponse{}, nil
		},
	}
	stop := startRunner(t, r)
	for _, id := range []string{"a", "b"} {
		publish(t, ctx, e, id)
		enginetest.Put(t, e, enginetest.Record(t, "ev-"+id, "s", "t", time.Now().UTC()))
		for range 2 {
			enginetest.Await(t, got, "message and record "+id+" not both delivered")
		}
	}
	stop()
	for _, l := range logs.Lines(t) {
		if l["level"] == "WARN" || l["level"] == "ERROR" {
			t.Errorf("a clean run logged %v", l)
		}
	}
}

// TestDeliverSQSLogsFailures: a batch with failures is logged once at warn level with its
// size and how many failed.
func TestDeliverSQSLogsFailures(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e := queueSetup(t, engine.QueueConfig{VisibilityTimeout: time.Hour})
	publish(t, ctx, e, "a", "b", "c")
	msgs := receiveAll(t, ctx, e, 3)
	var logs sink.Buffer
	c := configured(t, &Runner{Engine: e, Queue: "q", Log: debugLogger(&logs),
		Subscriber: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: msgs[2].ID}}}, nil
		}})
	c.deliverSQS(ctx, msgs)
	lines := logs.Lines(t)
	if len(lines) != 1 || lines[0]["level"] != "WARN" || lines[0]["msg"] != "subscriber batch had failures" ||
		lines[0]["batch"] != float64(3) || lines[0]["failed"] != float64(1) || lines[0]["queue"] != "q" {
		t.Errorf("log = %v; want one warning: batch 3, failed 1", lines)
	}
}

// TestStreamWindowIsBatchSizeTimesParallelization: one read takes StreamBatchSize ×
// ParallelizationFactor records, delivered as batches of StreamBatchSize (a smaller window
// would cut the batches short).
func TestStreamWindowIsBatchSizeTimesParallelization(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	putEvents(t, ctx, e, 8)
	var got notifierLog
	r := &Runner{Engine: e, StreamConsumer: "n", StreamBatchSize: 4, ParallelizationFactor: 2,
		Notifier: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			got.add(ev)
			return events.DynamoDBEventResponse{}, nil
		}}
	startRunner(t, r)
	enginetest.WaitCaughtUp(t, e, "n", enginetest.Hang)
	got.mu.Lock()
	defer got.mu.Unlock()
	slices.SortFunc(got.batches, func(a, b []string) int { return slices.Compare(a, b) })
	if want := [][]string{{"1", "2", "3", "4"}, {"5", "6", "7", "8"}}; !slices.EqualFunc(got.batches, want, slices.Equal) {
		t.Errorf("notifier got batches %v, want %v (one window of 8 in chunks of 4)", got.batches, want)
	}
}

// TestDeliverWindowFirstRecordFailing: while the very first record of a window keeps failing,
// nothing is checkpointed — not even the later chunks that succeeded — so a restart resumes at
// that record.
func TestDeliverWindowFirstRecordFailing(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	putEvents(t, ctx, e, 4)
	recs, err := e.ReadStream(ctx, "n", 10)
	if err != nil || len(recs) != 4 {
		t.Fatalf("read stream: %v, %d records", err, len(recs))
	}
	first := strconv.FormatInt(recs[0].Seq, 10)
	runCtx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	firstTries, othersDone := 0, 0
	c := configured(t, &Runner{Engine: e, StreamConsumer: "n", StreamBatchSize: 2, StreamRetries: 1000,
		RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond,
		Notifier: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			mu.Lock()
			defer mu.Unlock()
			var resp events.DynamoDBEventResponse
			for _, rec := range ev.Records {
				if rec.Change.SequenceNumber == first {
					firstTries++
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: first})
				} else {
					othersDone++
				}
			}
			if firstTries >= 3 && othersDone >= 2 { // the second chunk is through, the first retried
				cancel()
			}
			return resp, nil
		}})
	done := make(chan struct{})
	go func() { c.deliverWindow(runCtx, recs); close(done) }()
	enginetest.Await(t, done, "deliverWindow did not stop after its context ended")
	left, err := e.ReadStream(ctx, "n", 10)
	if err != nil || len(left) != 4 {
		t.Errorf("after the run %d records are left after the checkpoint (%v), want all 4", len(left), err)
	}
}

// TestRunnerReportsUnreadableInput: a queue message or stream record that cannot be decoded
// makes every receive or read fail while the context is live; the pollers log that and keep
// trying rather than stopping without a word (nothing would be delivered again).
func TestRunnerReportsUnreadableInput(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	e := enginetest.Open(t, path)
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{})
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO stream (event_name, keys, new_image, size_bytes, created_at, image) VALUES ('INSERT', '', '', 1, 0, x'ff')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO messages (queue, message_id, body, attrs, sent_at, visible_at) VALUES ('q', 'm', x'00', 'not json', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	var logs sink.Buffer
	r := &Runner{Engine: e, Queue: "q", StreamConsumer: "n", Concurrency: 1, Log: debugLogger(&logs),
		Subscriber: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			t.Error("subscriber invoked for an unreadable message")
			return events.SQSEventResponse{}, nil
		},
		Notifier: func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			t.Error("notifier invoked for an unreadable record")
			return events.DynamoDBEventResponse{}, nil
		}}
	startRunner(t, r)
	for _, want := range [][2]string{{"receive failed", "queue"}, {"read stream failed", "consumer"}} {
		enginetest.WaitFor(t, enginetest.Hang, want[0]+" logged", func() bool {
			for _, l := range logs.Lines(t) {
				if l["level"] == "ERROR" && l["msg"] == want[0] && (l[want[1]] == "q" || l[want[1]] == "n") {
					return true
				}
			}
			return false
		})
	}
}

// TestRunStartsConcurrencyPollers: Run starts exactly Concurrency subscriber pollers
// (DefaultConcurrency for 0) and, with a Notifier, one stream poller. An extra poller only
// shows in deliveries when it happens to find a message first, so no delivery count can prove
// there is none without waiting for something that must not happen; the pollers are counted
// instead, in the goroutine dump, once Run is waiting for them (all of them started).
func TestRunStartsConcurrencyPollers(t *testing.T) {
	t.Parallel()
	notify := func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{}, nil
	}
	for _, tc := range []struct {
		concurrency int
		notifier    bool
		want        int
	}{{1, false, 1}, {3, false, 3}, {0, false, DefaultConcurrency}, {2, true, 3}} {
		t.Run(fmt.Sprintf("concurrency=%d,notifier=%v", tc.concurrency, tc.notifier), func(t *testing.T) {
			t.Parallel()
			r := &Runner{Engine: queueSetup(t, engine.QueueConfig{}), Queue: "q", Concurrency: tc.concurrency,
				BatchWindow: time.Hour, PollInterval: time.Hour, Log: enginetest.QuietLog(),
				Subscriber: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
					return events.SQSEventResponse{}, nil
				}}
			if tc.notifier {
				r.StreamConsumer, r.Notifier = "n", notify
			}
			ctx, cancel := context.WithCancel(context.Background())
			gid, done := make(chan string, 1), make(chan error, 1)
			go func() {
				gid <- goroutineID()
				done <- r.Run(ctx)
			}()
			run := <-gid
			pollers := 0
			enginetest.WaitFor(t, enginetest.Hang, "Run waiting for its pollers", func() bool {
				waiting := false
				pollers = 0
				for _, g := range strings.Split(allStacks(), "\n\n") {
					if strings.HasPrefix(g, "goroutine "+run+" [") {
						waiting = strings.Contains(g, "sync.(*WaitGroup).Wait(")
					}
					if strings.Contains(g, "created by sync.(*WaitGroup).Go in goroutine "+run+"\n") {
						pollers++
					}
				}
				return waiting
			})
			cancel()
			if err := enginetest.Await(t, done, "Run did not return after cancel"); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if pollers != tc.want {
				t.Errorf("Run started %d pollers, want %d", pollers, tc.want)
			}
		})
	}
}

// goroutineID is the calling goroutine's number, as goroutine dumps show it.
func goroutineID() string {
	var buf [64]byte
	f := strings.Fields(string(buf[:runtime.Stack(buf[:], false)])) // "goroutine 42 [running]:"
	return f[1]
}

// allStacks is the dump of every goroutine, blocks separated by a blank line.
func allStacks() string {
	buf := make([]byte, 1<<16)
	for {
		if n := runtime.Stack(buf, true); n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestIngestFirst: while Busy, only BusyConcurrency pollers receive and the others pause and
// look again; when Busy ends they all work. A received message that waited past MaxLag makes
// every poller work at once, busy or not.
func TestIngestFirst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		waited  time.Duration // how long the messages seem to have waited when received
		lagging bool
	}{{"fresh messages", 0, false}, {"messages that waited past MaxLag", 2 * time.Minute, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := enginetest.Context(t)
			e := queueSetup(t, engine.QueueConfig{})
			publish(t, ctx, e, "a", "b", "c")
			var busy atomic.Bool
			busy.Store(true)
			var inFlight atomic.Int32
			release := make(chan struct{})
			pauses := make(chan struct{}, 1)
			r := &Runner{Engine: e, Queue: "q", Concurrency: 3, BusyConcurrency: 1, BatchSize: 1, MaxLag: time.Minute,
				PollInterval: 5 * time.Millisecond, Busy: busy.Load,
				Subscriber: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
					inFlight.Add(1)
					<-release
					return events.SQSEventResponse{}, nil
				},
				now: func() time.Time { return time.Now().Add(tc.waited) },
				sleep: func(ctx context.Context, d time.Duration) error {
					if d == busyPause {
						select {
						case pauses <- struct{}{}:
						default:
						}
					}
					return pipeline.Sleep(ctx, d)
				},
			}
			stop := startRunner(t, r)
			defer stop()
			defer close(release)
			if tc.lagging {
				enginetest.WaitFor(t, enginetest.Hang, "every poller delivering while busy, the first batch having waited past MaxLag", func() bool {
					return inFlight.Load() == 3
				})
				return
			}
			enginetest.WaitFor(t, enginetest.Hang, "the one working poller delivering", func() bool { return inFlight.Load() == 1 })
			// Two pauses taken after that: the others looked at Busy and went on waiting.
			for range 2 {
				<-pauses
			}
			if n := inFlight.Load(); n != 1 {
				t.Fatalf("%d batches in flight while busy, want 1 (BusyConcurrency)", n)
			}
			busy.Store(false)
			enginetest.WaitFor(t, enginetest.Hang, "every poller delivering once not busy", func() bool { return inFlight.Load() == 3 })
		})
	}
}

// TestNoteLag: lagging is set past MaxLag and cleared only under half of it.
func TestNoteLag(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	c := configured(t, &Runner{Engine: enginetest.Open(t, ""), MaxLag: time.Minute})
	c.now = func() time.Time { return now }
	for _, step := range []struct {
		waited time.Duration
		want   bool
	}{{59 * time.Second, false}, {61 * time.Second, true}, {45 * time.Second, true}, {31 * time.Second, true}, {29 * time.Second, false}, {45 * time.Second, false}} {
		c.noteLag(now.Add(-step.waited))
		if got := c.lagging.Load(); got != step.want {
			t.Fatalf("after a batch that waited %v: lagging %v, want %v", step.waited, got, step.want)
		}
	}
}
