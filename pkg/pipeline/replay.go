package pipeline

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"hookline/pkg/event"
)

// Replayer publishes stored events to the events topic again, marked replay=true (Message.Replay),
// so a new subscriber of the topic can backfill; hookline's own subscriber counts them as
// duplicates and stores and emails nothing.
type Replayer struct {
	History   History
	Publisher Publisher
	// Concurrency is how many publishes run at once; 0 means 8. Order is not kept (an SNS
	// standard topic keeps none either).
	Concurrency int
}

// ReplayResult says what a replay did.
type ReplayResult struct {
	Matched   int // events the query selected
	Published int // messages published (0 on a dry run)
}

// Count returns how many stored events q selects.
func (r *Replayer) Count(ctx context.Context, q Query) (int, error) {
	n := 0
	err := walk(ctx, r.History, q, func(Message) error { n++; return nil })
	return n, err
}

// Replay publishes every stored event q selects (q.Limit and q.Cursor are managed here),
// calling progress after each one. dryRun only counts. It stops at the first failed publish:
// the events before it were published, and a second run publishes them again, which every
// subscriber must take anyway (at-least-once).
func (r *Replayer) Replay(ctx context.Context, q Query, dryRun bool, progress func()) (ReplayResult, error) {
	var res ReplayResult
	if dryRun {
		n, err := r.Count(ctx, q)
		res.Matched = n
		return res, err
	}
	workers := r.Concurrency
	if workers <= 0 {
		workers = 8
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan Message)
	var (
		wg        sync.WaitGroup
		published atomic.Int64
		once      sync.Once
		failed    error
	)
	for range workers {
		wg.Go(func() {
			for m := range msgs {
				if err := r.Publisher.Publish(ctx, m); err != nil {
					once.Do(func() { failed = fmt.Errorf("replay event %s: %w", m.ID, err); cancel() })
					continue
				}
				published.Add(1)
				if progress != nil {
					progress()
				}
			}
		})
	}
	err := walk(ctx, r.History, q, func(m Message) error {
		res.Matched++
		select {
		case msgs <- m:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(msgs)
	wg.Wait()
	res.Published = int(published.Load())
	if failed != nil {
		return res, failed
	}
	return res, err
}

// walk calls fn with the replay message of every stored event q selects, page by page.
func walk(ctx context.Context, h History, q Query, fn func(Message) error) error {
	return WalkEvents(ctx, h, q, 0, func(rec *event.Record) error {
		e := rec.Event
		return fn(Message{ID: e.ID, Source: e.Source, Type: e.Type, Body: e.Marshal(), Replay: true})
	})
}
