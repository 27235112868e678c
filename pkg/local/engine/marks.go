package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
		for _, m := range taken {
			m.err = markTx(w, m.id, m.at)
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

func markTx(w *wtx, id string, at int64) error {
	res, err := w.Exec(`UPDATE events SET notified_at = ? WHERE id = ? AND notified_at IS NULL`, at, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	var one int
	err = w.QueryRow(`SELECT 1 FROM events WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return pipeline.ErrNotFound
	}
	return err
}
