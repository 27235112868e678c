package engine_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hookline/pkg/event"
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
