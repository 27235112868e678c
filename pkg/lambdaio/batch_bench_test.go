package lambdaio_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
	"hookline/pkg/email"
	"hookline/pkg/event"
	"hookline/pkg/lambdaio"
	"hookline/pkg/local/engine"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/storetest"
)

// openEngine is the in-process store the local pipeline uses (SQLite, kill -9 durability).
func openEngine(b *testing.B) *engine.Engine {
	b.Helper()
	eng, err := engine.Open(filepath.Join(b.TempDir(), "bench.db"), engine.Options{Durability: engine.DurabilityProcess, SweepInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	return eng
}

func benchEvent(b *testing.B, i int) *event.Event {
	e := &event.Event{
		ID: event.DeliveryID("github", "bench-"+strconv.Itoa(i)), Source: "github", Type: "push",
		Time: now, ReceivedAt: now, DeliveryID: "bench-" + strconv.Itoa(i),
	}
	if err := e.SetData("application/json", []byte(body1KiB)); err != nil {
		b.Fatal(err)
	}
	return e
}

// sqsBatch10 is an SQS batch of 10 new 1 KiB events, numbered on from *n.
func sqsBatch10(b *testing.B, n *int) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 10)}
	for j := range ev.Records {
		*n++
		ev.Records[j] = events.SQSMessage{MessageId: strconv.Itoa(*n), Body: string(benchEvent(b, *n).Marshal()),
			Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
	}
	return ev
}

// benchNotifier is the notifier handler over store, emailing into an outbox in a temp dir.
func benchNotifier(b *testing.B, store pipeline.NotifiedMarker) *lambdaio.NotifierHandler {
	composer, err := email.NewComposer("", 0)
	if err != nil {
		b.Fatal(err)
	}
	return &lambdaio.NotifierHandler{
		DecodeImage: ddbitem.FromStreamImage,
		Service:     &pipeline.Notify{Store: store, Composer: composer, Mailer: &email.Outbox{Dir: filepath.Join(b.TempDir(), "outbox")}},
		Log:         quiet(),
	}
}

// BenchmarkSubscriberBatch10 stores SQS batches of 10 new 1 KiB events through the real handler
// into the local engine's events table (one op = one batch).
func BenchmarkSubscriberBatch10(b *testing.B) {
	eng := openEngine(b)
	h := &lambdaio.SubscriberHandler{Service: &pipeline.Record{Events: eng.Events()}, Log: quiet()}
	ctx := context.Background()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		ev := sqsBatch10(b, &n)
		resp, _ := h.Handle(ctx, ev)
		if len(resp.BatchItemFailures) != 0 {
			b.Fatalf("failures: %v", resp.BatchItemFailures)
		}
	}
	b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkNotifierBatch10 emails stream batches of 10 inserted events through the real handler:
// read, compose, append to the outbox, mark notified (one op = one batch).
func BenchmarkNotifierBatch10(b *testing.B) {
	eng := openEngine(b)
	store := eng.Events()
	h := benchNotifier(b, store)
	ctx := context.Background()
	// Build the batches outside the timer: each needs its events stored first.
	batches := make([]events.DynamoDBEvent, 0, 64)
	mk := func(i int) events.DynamoDBEvent {
		ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, 10)}
		for j := range ev.Records {
			rec := &event.Record{Event: benchEvent(b, i*10+j), StoredAt: now}
			if _, err := store.PutNew(ctx, rec); err != nil {
				b.Fatal(err)
			}
			ev.Records[j] = insertRecord(b, rec, fmt.Sprint(i*10+j))
		}
		return ev
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if i == len(batches) {
			batches = append(batches, mk(i))
		}
		ev := batches[i]
		i++
		b.StartTimer()
		resp, _ := h.Handle(ctx, ev)
		if len(resp.BatchItemFailures) != 0 {
			b.Fatalf("failures: %v", resp.BatchItemFailures)
		}
	}
	b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkNotifierMemory10 is the notifier handler's own work per stream batch of 10 new 1 KiB
// events, without SQLite: decode the stream images, compose, append to the outbox, mark
// notified in the in-memory store (one op = one batch).
func BenchmarkNotifierMemory10(b *testing.B) {
	store := &storetest.Memory{}
	h := benchNotifier(b, store)
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, 10)}
		for j := range ev.Records {
			rec := &event.Record{Event: benchEvent(b, i*10+j), StoredAt: now}
			store.Add(rec)
			ev.Records[j] = insertRecord(b, rec, fmt.Sprint(i*10+j))
		}
		i++
		b.StartTimer()
		resp, _ := h.Handle(ctx, ev)
		if len(resp.BatchItemFailures) != 0 {
			b.Fatalf("failures: %v", resp.BatchItemFailures)
		}
	}
}

// BenchmarkSubscriberMemory10 is the subscriber handler's own work per SQS batch of 10 new
// 1 KiB events, without SQLite: decode each envelope, validate, store in memory.
func BenchmarkSubscriberMemory10(b *testing.B) {
	h := &lambdaio.SubscriberHandler{Service: &pipeline.Record{Events: &storetest.Memory{}}, Log: quiet()}
	ctx := context.Background()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		ev := sqsBatch10(b, &n)
		b.StartTimer()
		resp, _ := h.Handle(ctx, ev)
		if len(resp.BatchItemFailures) != 0 {
			b.Fatalf("failures: %v", resp.BatchItemFailures)
		}
	}
}
