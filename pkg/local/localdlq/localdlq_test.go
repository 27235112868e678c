package localdlq_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hookline/pkg/dlq"
	"hookline/pkg/dlq/dlqtest"
	"hookline/pkg/event"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/local/localdlq"
	"hookline/pkg/pipeline"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// dlqEngine opens an engine whose topic "events" feeds queue "events", which dead-letters a
// message into "events-dlq" after one receive.
func dlqEngine(t *testing.T) *engine.Engine {
	t.Helper()
	eng := enginetest.OpenWith(t, "", engine.Options{SweepInterval: -1})
	enginetest.CreateQueue(t, eng, "events-dlq", engine.QueueConfig{})
	enginetest.CreateQueue(t, eng, "events", engine.QueueConfig{VisibilityTimeout: time.Minute, MaxReceiveCount: 1, DeadLetterQueue: "events-dlq"})
	enginetest.Subscribe(t, eng, "events", "events")
	return eng
}

// kill publishes msgs and receives them once from "events" (using up maxReceiveCount 1), with
// reason recorded for the first when it is not empty; the next receive moves them to the DLQ.
// It returns the messages as received.
func kill(t *testing.T, eng *engine.Engine, reason string, msgs ...pipeline.Message) []engine.Message {
	t.Helper()
	ctx := enginetest.Context(t)
	for _, m := range msgs {
		must(t, eng.Topic("events").Publish(ctx, m))
	}
	got, err := eng.Receive(ctx, "events", len(msgs))
	if err != nil || len(got) != len(msgs) {
		t.Fatalf("receive: %d messages, %v", len(got), err)
	}
	if reason != "" {
		must(t, eng.SetFailureReason(ctx, "events", got[0].ID, reason))
	}
	for _, m := range got {
		must(t, eng.ChangeVisibility(ctx, "events", m.ReceiptHandle, 0))
	}
	if again, err := eng.Receive(ctx, "events", 10); err != nil || len(again) != 0 {
		t.Fatalf("%d messages not dead-lettered (%v)", len(again), err)
	}
	return got
}

// TestLocal kills two messages in a real engine (one with a recorded reason, one by receive
// count alone), lists them, and redrives them back to the events queue.
func TestLocal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng := dlqEngine(t)
	id1, id2 := "0193a1b2-0000-7000-8000-000000000001", "0193a1b2-0000-7000-8000-000000000002"
	msgs := kill(t, eng, "put event: throttled",
		pipeline.Message{ID: id1, Source: "github", Type: "push", Body: dlqtest.Envelope(t, id1, "github", "push")},
		pipeline.Message{ID: id2, Source: "x", Type: "y", Body: []byte("not an envelope")})

	q := &localdlq.Queue{Engine: eng, Name: "events-dlq"}
	dead, err := q.List(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range dead {
		if dead[i].SentAt.IsZero() || dead[i].DiedAt.IsZero() || dead[i].DiedAt.Before(dead[i].SentAt) {
			t.Errorf("message %d times: sent %v died %v", i, dead[i].SentAt, dead[i].DiedAt)
		}
		dead[i].SentAt, dead[i].DiedAt, dead[i].Body = time.Time{}, time.Time{}, nil
	}
	want := []dlq.Message{
		{ID: msgs[0].ID, ReceiveCount: 1, SourceQueue: "events", Reason: "put event: throttled", EventID: id1, EventType: "push", EventSource: "github"},
		{ID: msgs[1].ID, ReceiveCount: 1, SourceQueue: "events", Reason: "received 1 times (maxReceiveCount 1) without being deleted"},
	}
	if diff := cmp.Diff(want, dead); diff != "" {
		t.Errorf("dead messages (-want +got):\n%s", diff)
	}

	r, err := q.Redrive(ctx)
	if err != nil || r.Moved != 2 {
		t.Fatalf("redrive: %+v, %v", r, err)
	}
	if visible, _, _ := eng.Depth(ctx, "events"); visible != 2 {
		t.Errorf("%d messages back on events, want 2", visible)
	}
	if left, _ := q.List(ctx, 10); len(left) != 0 {
		t.Errorf("%d messages left in the DLQ", len(left))
	}
}

// TestStreamFailures lists what the local notifier gave up on, with the event each record
// carries, read from the engine's stream failures.
func TestStreamFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng := enginetest.OpenWith(t, "", engine.Options{SweepInterval: -1})
	e, err := event.Decode(dlqtest.Envelope(t, event.DeliveryID("github", "d-1"), "github", "push"))
	must(t, err)
	if _, err := eng.Events().PutNew(ctx, &event.Record{Event: e, StoredAt: e.ReceivedAt}); err != nil {
		t.Fatal(err)
	}
	recs, err := eng.ReadStream(ctx, "notifier", 10)
	must(t, err)
	if len(recs) != 1 {
		t.Fatalf("stream has %d records, want 1", len(recs))
	}
	must(t, eng.RecordStreamFailure(ctx, "notifier", recs[0], "send email: smtp 127.0.0.1:1025: connection refused"))

	got, err := (&localdlq.StreamFailures{Engine: eng, Consumer: "notifier"}).List(ctx, 10)
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("listed %d failures, want 1", len(got))
	}
	g := got[0]
	if g.EventID != e.ID || g.EventType != "push" || g.EventSource != "github" || !strings.Contains(g.Reason, "connection refused") || g.SourceQueue != "stream:notifier" {
		t.Errorf("failure = %+v", g)
	}
}

// TestContract: the engine's DLQ passes the contract every dlq.Queue adapter passes.
func TestContract(t *testing.T) {
	dlqtest.Run(t, func(t *testing.T) dlqtest.Harness {
		eng := dlqEngine(t)
		return dlqtest.Harness{
			Queue: &localdlq.Queue{Engine: eng, Name: "events-dlq"},
			Kill: func(t *testing.T, bodies ...[]byte) {
				var msgs []pipeline.Message
				for i, b := range bodies {
					msgs = append(msgs, pipeline.Message{ID: fmt.Sprint("m-", i), Source: "s", Type: "t", Body: b})
				}
				kill(t, eng, "", msgs...)
			},
			Returned: func(t *testing.T) [][]byte {
				msgs, err := eng.ListDLQ(enginetest.Context(t), "events", 100) // lists any queue
				must(t, err)
				var bodies [][]byte
				for _, m := range msgs {
					bodies = append(bodies, m.Body)
				}
				return bodies
			},
		}
	})
}
