package local

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

var durabilities = []struct {
	name string
	d    Durability
}{{"full", DurabilityPowerLoss}, {"normal", DurabilityProcess}}

func benchEngine(b *testing.B, d Durability) *Engine {
	b.Helper()
	e, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{Durability: d, Log: quietLog()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	ctx := context.Background()
	if err := e.CreateQueue(ctx, "q", QueueConfig{}); err != nil {
		b.Fatal(err)
	}
	if err := e.Subscribe(ctx, "events", "q"); err != nil {
		b.Fatal(err)
	}
	return e
}

// benchMessage is a realistic 1 KiB envelope.
func benchMessage(b *testing.B, i int) pipeline.Message {
	e := &event.Event{ID: fmt.Sprintf("ev-%d-%d", time.Now().UnixNano(), i), Source: "github", Type: "push", Time: time.Now(), ReceivedAt: time.Now()}
	body := fmt.Appendf(nil, `{"ref":"refs/heads/main","pad":"%0900d"}`, i)
	if err := e.SetData("application/json", body); err != nil {
		b.Fatal(err)
	}
	return pipeline.Message{ID: e.ID, Source: e.Source, Type: e.Type, Body: e.Marshal()}
}

func BenchmarkPublish(b *testing.B) {
	for _, d := range durabilities {
		b.Run(d.name+"/serial", func(b *testing.B) {
			e := benchEngine(b, d.d)
			m := benchMessage(b, 0)
			t := e.Topic("events")
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if err := t.Publish(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(d.name+"/parallel", func(b *testing.B) {
			e := benchEngine(b, d.d)
			m := benchMessage(b, 0)
			t := e.Topic("events")
			ctx := context.Background()
			b.SetParallelism(16) // many concurrent HTTP requests, as under load
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := t.Publish(ctx, m); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkPublishLatency paces publishes at 500/s from concurrent callers and reports p50/p99.
func BenchmarkPublishLatency(b *testing.B) {
	for _, d := range durabilities {
		b.Run(d.name, func(b *testing.B) {
			e := benchEngine(b, d.d)
			m := benchMessage(b, 0)
			t := e.Topic("events")
			ctx := context.Background()
			const rate = 500
			n := max(b.N, 1000)
			lat := make([]time.Duration, n)
			tick := time.NewTicker(time.Second / rate)
			defer tick.Stop()
			var wg sync.WaitGroup
			b.ResetTimer()
			for i := range n {
				<-tick.C
				wg.Go(func() {
					start := time.Now()
					if err := t.Publish(ctx, m); err != nil {
						b.Error(err)
					}
					lat[i] = time.Since(start)
				})
			}
			wg.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[n/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[n*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(lat[n-1].Microseconds())/1000, "max-ms")
		})
	}
}

func BenchmarkPutNew(b *testing.B) {
	for _, d := range durabilities {
		b.Run(d.name+"/parallel", func(b *testing.B) {
			e := benchEngine(b, d.d)
			s := e.Events()
			ctx := context.Background()
			var n atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					ev := &event.Event{ID: fmt.Sprintf("ev-%d", i), Source: "github", Type: "push", Time: time.Now(), ReceivedAt: time.Now()}
					ev.SetData("application/json", []byte(`{"ref":"refs/heads/main"}`))
					if _, err := s.PutNew(ctx, &event.Record{Event: ev, StoredAt: time.Now()}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkPipeline measures events fully processed per second: publish → queue → subscriber
// (decode + PutNew) → stream → notifier (decode image + publish a notification + MarkNotified),
// with the Runner's default batch sizes and concurrency.
func BenchmarkPipeline(b *testing.B) {
	for _, d := range durabilities {
		b.Run(d.name, func(b *testing.B) {
			e := benchEngine(b, d.d)
			ctx := context.Background()
			if err := e.CreateQueue(ctx, "mail", QueueConfig{}); err != nil {
				b.Fatal(err)
			}
			if err := e.Subscribe(ctx, "notifications", "mail"); err != nil {
				b.Fatal(err)
			}
			rec := &pipeline.Record{Events: e.Events()}
			notifications := e.Topic("notifications")
			var done atomic.Int64
			r := &Runner{
				Engine: e, Queue: "q", StreamConsumer: "notifier", Log: quietLog(),
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
				msgs[i] = benchMessage(b, i)
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
