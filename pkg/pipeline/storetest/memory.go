package storetest

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// Memory is a pipeline.Store in memory: the reference the adapters are held to (Run runs on
// it too) and the store of handler and service tests. The zero value is empty and ready.
// Records go in and come out as copies, so a test's record is never the stored one.
type Memory struct {
	mu      sync.Mutex
	recs    map[string]*event.Record
	inserts int
	putErr  error
	markErr error
}

var _ pipeline.Store = (*Memory)(nil)

// Add stores records as they are, replacing any with the same id: a test's fixture, stored
// before the code under test runs (not counted by Inserts).
func (m *Memory) Add(rs ...*event.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rs {
		m.put(r)
	}
}

func (m *Memory) put(r *event.Record) {
	if m.recs == nil {
		m.recs = map[string]*event.Record{}
	}
	cp := *r
	m.recs[r.Event.ID] = &cp
}

// Delete forgets the event with id.
func (m *Memory) Delete(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, id)
}

// Record returns a copy of the stored record with id, nil when there is none.
func (m *Memory) Record(id string) *event.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[id]
	if !ok {
		return nil
	}
	cp := *r
	return &cp
}

// Records returns copies of every stored record, newest first.
func (m *Memory) Records() []*event.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sorted(func(*event.Record) bool { return true })
}

// Inserts counts the records PutNew inserted.
func (m *Memory) Inserts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inserts
}

// FailPuts makes PutNew return err (a throttled table) until FailPuts(nil).
func (m *Memory) FailPuts(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.putErr = err
}

// FailMarks makes MarkNotified return err (a timed-out update) until FailMarks(nil).
func (m *Memory) FailMarks(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.markErr = err
}

// PutNew stores r unless an event with its id is stored.
func (m *Memory) PutNew(_ context.Context, r *event.Record) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.putErr != nil {
		return false, m.putErr
	}
	if _, ok := m.recs[r.Event.ID]; ok {
		return false, nil
	}
	m.put(r)
	m.inserts++
	return true, nil
}

func (m *Memory) Get(_ context.Context, id string) (*event.Record, error) {
	if r := m.Record(id); r != nil {
		return r, nil
	}
	return nil, pipeline.ErrNotFound
}

func (m *Memory) NotifiedAt(_ context.Context, id string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.recs[id]; ok {
		return r.NotifiedAt, nil
	}
	return time.Time{}, pipeline.ErrNotFound
}

// MarkNotified keeps the first mark.
func (m *Memory) MarkNotified(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.markErr != nil {
		return m.markErr
	}
	r, ok := m.recs[id]
	if !ok {
		return pipeline.ErrNotFound
	}
	if r.NotifiedAt.IsZero() {
		r.NotifiedAt = at
	}
	return nil
}

// List pages through the records q selects, newest first; the cursor is the position
// (received at, id) of the last record of the page.
func (m *Memory) List(_ context.Context, q pipeline.Query) (pipeline.Page, error) {
	after, hasCursor, err := parseCursor(q.Cursor)
	if err != nil {
		return pipeline.Page{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = pipeline.DefaultLimit
	}
	limit = min(limit, pipeline.MaxLimit)
	m.mu.Lock()
	defer m.mu.Unlock()
	rs := m.sorted(func(r *event.Record) bool {
		e := r.Event
		return (q.Source == "" || e.Source == q.Source) && event.MatchesType(q.Type, e.Type) &&
			(q.Since.IsZero() || !e.ReceivedAt.Before(q.Since)) && (q.Until.IsZero() || e.ReceivedAt.Before(q.Until)) &&
			(!hasCursor || newer(after, position{e.ReceivedAt, e.ID}))
	})
	if len(rs) <= limit {
		return pipeline.Page{Records: rs}, nil
	}
	last := rs[limit-1].Event
	return pipeline.Page{Records: rs[:limit], Cursor: formatCursor(position{last.ReceivedAt, last.ID})}, nil
}

// sorted returns copies of the records keep keeps, newest first (then by id, descending).
func (m *Memory) sorted(keep func(*event.Record) bool) []*event.Record {
	var out []*event.Record
	for _, r := range m.recs {
		if keep(r) {
			cp := *r
			out = append(out, &cp)
		}
	}
	slices.SortFunc(out, func(a, b *event.Record) int {
		if c := b.Event.ReceivedAt.Compare(a.Event.ReceivedAt); c != 0 {
			return c
		}
		return strings.Compare(b.Event.ID, a.Event.ID)
	})
	return out
}

type position struct {
	at time.Time
	id string
}

// newer reports whether a stands before b in newest-first order.
func newer(a, b position) bool {
	if c := a.at.Compare(b.at); c != 0 {
		return c > 0
	}
	return a.id > b.id
}

func formatCursor(p position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.at.UnixNano(), 10) + " " + p.id))
}

func parseCursor(c string) (position, bool, error) {
	if c == "" {
		return position{}, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		ns, id, ok := strings.Cut(string(b), " ")
		n, perr := strconv.ParseInt(ns, 10, 64)
		if ok && perr == nil && event.ValidID(id) {
			return position{time.Unix(0, n), id}, true, nil
		}
	}
	return position{}, false, pipeline.Errorf(pipeline.KindInvalid, "invalid cursor")
}
