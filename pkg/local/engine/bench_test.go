package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
)

func BenchmarkPublish(b *testing.B) {
	for _, d := range enginetest.Durabilities {
		b.Run(d.Name+"/serial", func(b *testing.B) {
			e := enginetest.OpenSubscribed(b, d.Durability)
			m := enginetest.Envelope(b, 0)
			t := e.Topic("events")
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if err := t.Publish(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(d.Name+"/parallel", func(b *testing.B) {
			e := enginetest.OpenSubscribed(b, d.Durability)
			m := enginetest.Envelope(b, 0)
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
	for _, d := range enginetest.Durabilities {
		b.Run(d.Name, func(b *testing.B) {
			e := enginetest.OpenSubscribed(b, d.Durability)
			m := enginetest.Envelope(b, 0)
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
	for _, d := range enginetest.Durabilities {
		b.Run(d.Name+"/parallel", func(b *testing.B) {
			e := enginetest.OpenSubscribed(b, d.Durability)
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

// BenchmarkEventWrites is the engine's share of one event flat out, without the handlers:
// from 16 concurrent callers, in batches of 10, publish (handed off), take from the line,
// PutNew, settle the batch, read the stream, mark each event notified, checkpoint. Its
// instructions per op (valgrind --tool=callgrind) compare two builds of the writer.
func BenchmarkEventWrites(b *testing.B) {
	e := enginetest.OpenWith(b, "", engine.Options{HandOff: engine.DefaultHandOff})
	enginetest.CreateQueue(b, e, "q", engine.QueueConfig{})
	enginetest.Subscribe(b, e, "events", "q")
	m := enginetest.Envelope(b, 0)
	t := e.Topic("events")
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var ids []string
		flush := func() {
			msgs, err := e.Receive(ctx, "q", len(ids))
			if err != nil {
				b.Fatal(err)
			}
			handles := make([]string, len(msgs))
			for i, msg := range msgs {
				handles[i] = msg.ReceiptHandle
			}
			now := time.Now()
			for _, id := range ids {
				ev := &event.Event{ID: id, Source: "github", Type: "push", Time: now, ReceivedAt: now}
				ev.SetData("application/json", []byte(`{"ref":"refs/heads/main","pad":"`+strings.Repeat("x", 900)+`"}`))
				if _, err := e.Events().PutNew(ctx, &event.Record{Event: ev, StoredAt: now}); err != nil {
					b.Fatal(err)
				}
			}
			if err := e.Settle(ctx, "q", handles, nil); err != nil {
				b.Fatal(err)
			}
			recs, err := e.ReadStream(ctx, "notifier", 100)
			if err != nil {
				b.Fatal(err)
			}
			for _, id := range ids {
				if err := e.Events().MarkNotified(ctx, id, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			if len(recs) > 0 {
				if err := e.Checkpoint(ctx, "notifier", recs[len(recs)-1].Seq); err != nil {
					b.Fatal(err)
				}
			}
			ids = ids[:0]
		}
		for pb.Next() {
			if err := t.Publish(ctx, m); err != nil {
				b.Fatal(err)
			}
			ids = append(ids, fmt.Sprintf("ev-%d", n.Add(1)))
			if len(ids) == 10 {
				flush()
			}
		}
		if len(ids) > 0 {
			flush()
		}
	})
}
