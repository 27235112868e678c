package runner

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/pipeline"
)

// BenchmarkPipeline measures events fully processed per second: publish → queue → subscriber
// (decode + PutNew) → stream → notifier (decode image + publish a notification + MarkNotified),
// with the Runner's default batch sizes and concurrency.
func BenchmarkPipeline(b *testing.B) {
	for _, d := range enginetest.Durabilities {
		b.Run(d.Name, func(b *testing.B) {
			e := enginetest.OpenSubscribed(b, d.Durability)
			ctx := context.Background()
			if err := e.CreateQueue(ctx, "mail", engine.QueueConfig{}); err != nil {
				b.Fatal(err)
			}
			if err := e.Subscribe(ctx, "notifications", "mail"); err != nil {
				b.Fatal(err)
			}
			rec := &pipeline.Record{Events: e.Events()}
			notifications := e.Topic("notifications")
			var done atomic.Int64
			r := &Runner{
				Engine: e, Queue: "q", StreamConsumer: "notifier", Log: enginetest.QuietLog(),
				Subscriber: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
					var resp events.SQSEventResponse
					for _, m := range ev.Records {
						if _, err := rec.Store(ctx, []byte(m.Body)); err != nil {
							resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
						}
					}
					return resp, nil
				},
				Notifier: func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
					var resp events.DynamoDBEventResponse
					for _, r := range ev.Records {
						got, err := ddbitem.FromStreamImage(r.Change.NewImage)
						if err == nil {
							err = notifications.Publish(ctx, pipeline.Message{ID: got.Event.ID, Source: got.Event.Source, Type: got.Event.Type, Body: []byte("stored " + got.Event.ID)})
						}
						if err == nil {
							err = e.Events().MarkNotified(ctx, got.Event.ID, time.Now())
						}
						if err != nil {
							resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
							continue
						}
						done.Add(1)
					}
					return resp, nil
				},
			}
			rctx, cancel := context.WithCancel(ctx)
			runDone := make(chan struct{})
			go func() { r.Run(rctx); close(runDone) }()
			defer func() { cancel(); <-runDone }()

			msgs := make([]pipeline.Message, b.N)
			for i := range msgs {
				msgs[i] = enginetest.Envelope(b, i)
			}
			t := e.Topic("events")
			sem := make(chan struct{}, 32)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for i := range msgs {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					if err := t.Publish(ctx, msgs[i]); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
			for done.Load() < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}
