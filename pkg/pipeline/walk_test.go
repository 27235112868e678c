package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/publishertest"
)

// pagedHistory is listHistory that records the page size of each List and fails after 10.
type pagedHistory struct {
	listHistory
	sizes []int
	err   error
}

func (h *pagedHistory) List(ctx context.Context, q pipeline.Query) (pipeline.Page, error) {
	h.sizes = append(h.sizes, q.Limit)
	if len(h.sizes) > 10 { // a walk asking for empty pages would never end
		return pipeline.Page{}, errors.New("more than 10 pages")
	}
	if h.err != nil {
		return pipeline.Page{}, h.err
	}
	return h.listHistory.List(ctx, q)
}

func records(n int) []*event.Record {
	recs := make([]*event.Record, n)
	for i := range recs {
		e := &event.Event{ID: event.DeliveryID("s", fmt.Sprint(i)), Source: "s", Type: "t", Time: time.Unix(1, 0), ReceivedAt: time.Unix(1, 0)}
		recs[i] = &event.Record{Event: e}
	}
	return recs
}

// TestWalkEventsLimits: WalkEvents reads pages of at most MaxLimit, never more than the limit
// still needs, follows cursors to the end, and calls fn once per record in order.
func TestWalkEventsLimits(t *testing.T) {
	t.Parallel()
	recs := records(2500)
	for _, tc := range []struct {
		limit, calls int
		sizes        string
	}{
		{0, 2500, "1000 1000 1000"},
		{-1, 2500, "1000 1000 1000"},
		{1, 1, "1"},
		{999, 999, "999"},
		{1000, 1000, "1000"},
		{1001, 1001, "1000 1"},
		{1500, 1500, "1000 500"},
		{2500, 2500, "1000 1000 500"},
		{3000, 2500, "1000 1000 1000"},
	} {
		h := &pagedHistory{listHistory: listHistory{recs}}
		var seen []*event.Record
		err := pipeline.WalkEvents(context.Background(), h, pipeline.Query{}, tc.limit, func(r *event.Record) error {
			seen = append(seen, r)
			return nil
		})
		sizes := strings.Trim(fmt.Sprint(h.sizes), "[]")
		if err != nil || len(seen) != tc.calls || sizes != tc.sizes {
			t.Errorf("limit %d: %d records, pages of %s, %v; want %d records, pages of %s", tc.limit, len(seen), sizes, err, tc.calls, tc.sizes)
			continue
		}
		for i, r := range seen {
			if r != recs[i] {
				t.Errorf("limit %d: record %d is %s, want %s", tc.limit, i, r.Event.ID, recs[i].Event.ID)
				break
			}
		}
	}
}

// TestWalkErrors: fn's error stops the walk and comes back as it is; a List error is wrapped
// with what was listed.
func TestWalkErrors(t *testing.T) {
	t.Parallel()
	stop := errors.New("stop")
	h := &pagedHistory{listHistory: listHistory{records(1500)}}
	calls := 0
	err := pipeline.WalkEvents(context.Background(), h, pipeline.Query{}, 0, func(*event.Record) error {
		if calls++; calls == 1200 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 1200 || len(h.sizes) != 2 {
		t.Errorf("fn failing at the 1200th record: %v after %d calls and %d pages; want stop, 1200, 2", err, calls, len(h.sizes))
	}
	down := errors.New("table is down")
	h = &pagedHistory{err: down}
	err = pipeline.WalkEvents(context.Background(), h, pipeline.Query{}, 0, func(*event.Record) error { return nil })
	if !errors.Is(err, down) || !strings.HasPrefix(err.Error(), "list events: ") {
		t.Errorf("List failing: %v, want it wrapped as list events", err)
	}
	store := &memRejected{kept: []*pipeline.Rejection{{ID: "a"}, {ID: "b"}, {ID: "c"}}}
	var ids []string
	err = pipeline.WalkRejections(context.Background(), store, pipeline.RejectedQuery{}, 2, func(r *pipeline.Rejection) error {
		ids = append(ids, r.ID)
		return nil
	})
	if err != nil || strings.Join(ids, "") != "ab" {
		t.Errorf("WalkRejections with limit 2: %v, %v; want a, b", ids, err)
	}
}

// TestReplayConcurrency: Concurrency 1 publishes one at a time, so in the history's order; 0
// means 8 workers, not none (a replay without workers would wait forever: the bound catches it).
func TestReplayConcurrency(t *testing.T) {
	t.Parallel()
	recs := records(300)
	for _, c := range []int{0, 1} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang bound only
		rec := &publishertest.Recorder{}
		res, err := (&pipeline.Replayer{History: listHistory{recs}, Publisher: rec, Concurrency: c}).Replay(ctx, pipeline.Query{}, false, nil)
		cancel()
		if err != nil || res.Published != len(recs) || rec.Len() != len(recs) {
			t.Fatalf("Concurrency %d: %+v, %v, %d published", c, res, err, rec.Len())
		}
		if c != 1 {
			continue
		}
		for i, m := range rec.All() {
			if m.ID != recs[i].Event.ID {
				t.Errorf("Concurrency 1: message %d is %s, want %s (the history's order)", i, m.ID, recs[i].Event.ID)
				break
			}
		}
	}
}
