// Package enginetest opens throwaway engines and makes the messages and records the tests of
// the engine and of the runner feed them, so both suites set up an engine the same way.
package enginetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"hookline/internal/fakeclock"
	"hookline/internal/testctx"
	"hookline/pkg/event"
	"hookline/pkg/local/engine"
	"hookline/pkg/pipeline"
)

// QuietLog discards everything.
func QuietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Context is the context of the engine's and the runner's tests: testctx.New, the same hang
// bound as every port's contract suite.
func Context(t testing.TB) context.Context { return testctx.New(t) }

// Open opens the engine at path (a fresh file in t's temp dir when path is "") with
// DurabilityProcess and a quiet log, and closes it when the test ends.
func Open(t testing.TB, path string) *engine.Engine {
	t.Helper()
	return OpenWith(t, path, engine.Options{Durability: engine.DurabilityProcess})
}

// Start is how most engine tests begin: ctx is Context(t), e is Open(t, "") (a fresh engine).
func Start(t testing.TB) (ctx context.Context, e *engine.Engine) {
	t.Helper()
	return Context(t), Open(t, "")
}

// OpenWith is Open with opts; a nil opts.Log is quiet.
func OpenWith(t testing.TB, path string, opts engine.Options) *engine.Engine {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "hookline.db")
	}
	if opts.Log == nil {
		opts.Log = QuietLog()
	}
	e, err := engine.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// Durabilities are the engine's durability settings under the names benchmarks report.
var Durabilities = []struct {
	Name       string
	Durability engine.Durability
}{{"full", engine.DurabilityPowerLoss}, {"normal", engine.DurabilityProcess}}

// OpenSubscribed opens a fresh engine with durability d whose topic "events" fans out to
// queue "q" (SQS's defaults: 30 s visibility, no DLQ).
func OpenSubscribed(t testing.TB, d engine.Durability) *engine.Engine {
	t.Helper()
	e := OpenWith(t, "", engine.Options{Durability: d})
	CreateQueue(t, e, "q", engine.QueueConfig{})
	Subscribe(t, e, "events", "q")
	return e
}

// CreateQueue creates queue name or fails the test.
func CreateQueue(t testing.TB, e *engine.Engine, name string, cfg engine.QueueConfig) {
	t.Helper()
	if err := e.CreateQueue(context.Background(), name, cfg); err != nil {
		t.Fatal(err)
	}
}

// Subscribe subscribes each queue to topic, in order, or fails the test.
func Subscribe(t testing.TB, e *engine.Engine, topic string, queues ...string) {
	t.Helper()
	for _, q := range queues {
		if err := e.Subscribe(context.Background(), topic, q); err != nil {
			t.Fatal(err)
		}
	}
}

// Message is a small message whose body names id: {"id":"<id>"}.
func Message(id string) pipeline.Message {
	return pipeline.Message{ID: id, Source: "github", Type: "push", Body: []byte(`{"id":"` + id + `"}`)}
}

// Envelope is a message carrying a realistic 1 KiB envelope, for benchmarks.
func Envelope(t testing.TB, i int) pipeline.Message {
	t.Helper()
	e := &event.Event{ID: fmt.Sprintf("ev-%d-%d", time.Now().UnixNano(), i), Source: "github", Type: "push", Time: time.Now(), ReceivedAt: time.Now()}
	body := fmt.Appendf(nil, `{"ref":"refs/heads/main","pad":"%0900d"}`, i)
	if err := e.SetData("application/json", body); err != nil {
		t.Fatal(err)
	}
	return pipeline.Message{ID: e.ID, Source: e.Source, Type: e.Type, Body: e.Marshal()}
}

// Record is a stored-event record received at received, stored a millisecond later.
func Record(t testing.TB, id, source, typ string, received time.Time) *event.Record {
	t.Helper()
	e := &event.Event{ID: id, Source: source, Type: typ, Time: received, ReceivedAt: received}
	if err := e.SetData("application/json", []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	r, err := event.NewRecord(e, received.Add(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Put stores each record as the subscriber would (PutNew) or fails the test.
func Put(t testing.TB, e *engine.Engine, rs ...*event.Record) {
	t.Helper()
	for _, r := range rs {
		if _, err := e.Events().PutNew(Context(t), r); err != nil {
			t.Fatal(err)
		}
	}
}

// WaitFor polls cond until it holds, and fails the test once d has passed. It stops at once
// when the test has already failed (a goroutine reported an error), so a broken run fails fast
// instead of waiting out d.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if t.Failed() {
			t.Fatalf("stopped waiting for %s: the test has failed", what)
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Hang is how long tests wait for something that happens at once on an idle machine: long
// enough that only a hang (or a missing wake-up) reaches it on a machine shared by many runs.
const Hang = 30 * time.Second

// Await returns what ch delivers (a goroutine's result, a handler's call, a wake-up), or fails
// the test with what when nothing comes within Hang.
func Await[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(Hang):
		t.Fatal(what)
		var zero T
		return zero
	}
}

// Clock is a manual engine.Options.Clock: it stands still until Advance, so a queue message
// becomes visible again exactly when a test advances past its visibility timeout.
type Clock = fakeclock.Clock

// NewClock starts a clock at a fixed moment.
func NewClock() *Clock { return fakeclock.New(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)) }

// WaitCaughtUp waits up to d until consumer has checkpointed past every record on e's stream:
// whatever the stream led to (a notification, a second INSERT's email) has happened.
func WaitCaughtUp(t testing.TB, e *engine.Engine, consumer string, d time.Duration) {
	t.Helper()
	WaitFor(t, d, consumer+" to read past every stream record", func() bool {
		recs, err := e.ReadStream(context.Background(), consumer, 1)
		if err != nil {
			t.Fatal(err)
		}
		return len(recs) == 0
	})
}
