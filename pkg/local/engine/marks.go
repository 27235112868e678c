package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"hookline/pkg/pipeline"
)

// marks gathers MarkNotified calls: the notifier marks each email of a batch concurrently,
// and all marks that arrive while one write waits for its turn go into that one write (one
// statement each, no savepoint each, one wake-up of the writer).
type marks struct {
	mu      sync.Mutex
	pending []*mark
	queued  bool // a write is submitted and has not taken the pending marks yet
}

type mark struct {
	id   string
	at   int64
	err  error
	done chan struct{}
}

// MarkNotified sets the event's notified time unless it is already set.
func (s *Store) MarkNotified(ctx context.Context, id string, at time.Time) error {
	s.forgetUnmarked(id) // before the mark is written: the cache never claims an unmarked event that is marked
	m := &mark{id: id, at: at.UnixNano(), done: make(chan struct{})}
	s.marks.mu.Lock()
	s.marks.pending = append(s.marks.pending, m)
	submit := !s.marks.queued
	s.marks.queued = true
	s.marks.mu.Unlock()
	if submit {
		s.writeMarks()
	}
	select {
	case <-m.done:
	case <-ctx.Done():
		// The mark may still be written; the caller retries, and a second mark is a no-op.
		return fmt.Errorf("mark event %s notified: %w", id, ctx.Err())
	}
	if m.err != nil {
		return fmt.Errorf("mark event %s notified: %w", id, m.err)
	}
	return nil
}

// writeMarks writes every pending mark in one write op and reports each outcome.
func (s *Store) writeMarks() {
	var taken []*mark
	take := func() {
		s.marks.mu.Lock()
		taken, s.marks.pending, s.marks.queued = s.marks.pending, nil, false
		s.marks.mu.Unlock()
	}
	// Not the caller's ctx: the marks of other callers ride on this write.
	err := s.e.write(context.Background(), func(w *wtx) error {
		take()
		for rest := taken; len(rest) > 0; {
			n := 0 // up to maxInList marks of distinct events
		chunk:
			for ; n < len(rest) && n < maxInList; n++ {
				for _, m := range rest[:n] {
					if m.id == rest[n].id {
						break chunk
					}
				}
			}
			markTx(w, rest[:n])
			rest = rest[n:]
		}
		return nil
	})
	if taken == nil { // the writer never ran the op (closed)
		take()
	}
	for _, m := range taken {
		if err != nil {
			m.err = err
		}
		close(m.done)
	}
}

// markSQL[n] marks n events (pairs of id and time) unless marked already.
var markSQL = func() (q [maxInList + 1]string) {
	for n := 1; n <= maxInList; n++ {
		q[n] = `UPDATE events SET notified_at = v.column2 FROM (VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?), ", n), ", ") + `) AS v
			WHERE events.id = v.column1 AND events.notified_at IS NULL`
	}
	return q
}()

// markTx writes up to maxInList marks in one statement and sets each one's outcome: nil when
// the event is marked (by it or before), pipeline.ErrNotFound when there is no such event.
// Marks of one event are written one per statement, so the first one's time stays.
func markTx(w *wtx, ms []*mark) {
	args := make([]any, 0, 2*len(ms))
	for _, m := range ms {
		args = append(args, m.id, m.at)
	}
	res, err := w.Exec(markSQL[len(ms)], args...)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		for _, m := range ms {
			m.err = err
		}
		return
	}
	if n == int64(len(ms)) {
		return // each marked its event
	}
	for _, m := range ms { // some events were marked before, or are not there
		m.err = markedBefore(w, m.id)
	}
}

// markedBefore tells a mark that changed nothing whether its event exists (it was marked before).
func markedBefore(w *wtx, id string) error {
	var one int
	err := w.QueryRow(`SELECT 1 FROM events WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return pipeline.ErrNotFound
	}
	return err
}
