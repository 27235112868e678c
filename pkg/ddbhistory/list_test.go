package ddbhistory_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"hookline/pkg/ddbhistory"
	"hookline/pkg/ddbjson"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// emptyIndex is an Index over a table whose history partitions are registry and hold no
// events: it records every call List makes (the first round of queries runs in parallel).
type emptyIndex struct {
	registry []string
	mu       sync.Mutex
	calls    []string
	limits   map[string]int // each partition's query Limit, by its key condition's :pk
}

func (ix *emptyIndex) note(call string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.calls = append(ix.calls, call)
}

func (ix *emptyIndex) Registry(context.Context) ([]string, error) {
	ix.note("Registry")
	return ix.registry, nil
}

func (ix *emptyIndex) Query(_ context.Context, in *ddbhistory.Query, _ map[string]string) ([]map[string]string, map[string]string, error) {
	ix.note("Query")
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.limits == nil {
		ix.limits = map[string]int{}
	}
	ix.limits[in.Values[":pk"]] = in.Limit
	return nil, nil, nil
}

func (ix *emptyIndex) BatchGet(context.Context, []string) ([]map[string]string, []string, error) {
	ix.note("BatchGet")
	return nil, nil, nil
}

func (*emptyIndex) Str(v string) (string, bool) { return v, true }

func (*emptyIndex) Record(map[string]string) (*event.Record, error) {
	return nil, errors.New("emptyIndex has no records")
}

func (*emptyIndex) Expired(map[string]string, time.Time) bool { return false }

// TestListAsksEachPartitionForItsShare: a List over several partitions asks each for about its
// share of the page with slack, (limit+1) × 3/2 ÷ partitions + 2, not for the whole page each
// (which reads, and pays for, partitions × the page); one partition is asked for the page and
// the one entry that says whether another page follows.
func TestListAsksEachPartitionForItsShare(t *testing.T) {
	t.Parallel()
	registry := []string{"github#issues.", "github#push", "shop#orders/", "stripe#invoice."}
	for _, tc := range []struct {
		q    pipeline.Query
		want map[string]int
	}{
		{pipeline.Query{Source: "github", Type: "push", Limit: 10}, map[string]int{"github#push": 11}},
		{pipeline.Query{Source: "github", Limit: 10}, map[string]int{"github#issues.": 10, "github#push": 10}},                      // 33/4 + 2
		{pipeline.Query{Limit: 10}, map[string]int{"github#issues.": 6, "github#push": 6, "shop#orders/": 6, "stripe#invoice.": 6}}, // 33/8 + 2
		{pipeline.Query{Source: "github"}, map[string]int{"github#issues.": 40, "github#push": 40}},                                 // DefaultLimit 50: 153/4 + 2
		{pipeline.Query{Source: "github", Limit: 1}, map[string]int{"github#issues.": 2, "github#push": 2}},                         // 6/4 + 2 = 3, capped at the page + 1
	} {
		ix := &emptyIndex{registry: registry}
		page, err := ddbhistory.List(context.Background(), ix, "events", tc.q)
		if err != nil || len(page.Records) != 0 || page.Cursor != "" {
			t.Fatalf("List(%+v) = %+v, %v; want an empty page", tc.q, page, err)
		}
		if fmt.Sprint(ix.limits) != fmt.Sprint(tc.want) {
			t.Errorf("List(%+v): query limits by partition %v; want %v", tc.q, ix.limits, tc.want)
		}
	}
}

// TestKeyRangeBounds: since is inclusive and until exclusive, so since == until is an empty
// range, and so is a cursor at or before since (the page boundary of the last page); List asks
// DynamoDB nothing for an empty range. A cursor inside the range narrows it to the keys before
// the cursor's record; one after until leaves until.
func TestKeyRangeBounds(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)
	const id = "0190b4c2-0000-7000-8000-000000000001"
	at := func(d time.Duration) string { return ddbjson.FormatTime(t0.Add(d)) }
	cursorAt := func(d time.Duration) string { return ddbhistory.EncodeCursor(ddbjson.ReceivedKey(t0.Add(d), id)) }
	keyAt := func(d time.Duration) string { return ddbjson.ReceivedKey(t0.Add(d), id) }
	for _, tc := range []struct {
		name         string
		since, until time.Duration // from t0; -1: unset
		cursor       string
		lower, upper string
		empty        bool
	}{
		{"since == until", 0, 0, "", at(0), at(0), true},
		{"since after until", time.Second, 0, "", at(time.Second), at(0), true},
		{"since before until", 0, time.Second, "", at(0), at(time.Second), false},
		{"cursor before since", time.Second, -1, cursorAt(0), at(time.Second), keyAt(0), true},
		{"cursor at since, ids before it left", 0, -1, cursorAt(0), at(0), keyAt(0), false},
		{"cursor inside", 0, 2 * time.Second, cursorAt(time.Second), at(0), keyAt(time.Second), false},
		{"cursor after until", 0, time.Second, cursorAt(2 * time.Second), at(0), at(time.Second), false},
		{"cursor alone", -1, -1, cursorAt(0), "", keyAt(0), false},
	} {
		var since, until time.Time
		if tc.since >= 0 {
			since = t0.Add(tc.since)
		}
		if tc.until >= 0 {
			until = t0.Add(tc.until)
		}
		lower, upper, empty, err := ddbhistory.KeyRange(since, until, tc.cursor)
		if err != nil || lower != tc.lower || upper != tc.upper || empty != tc.empty {
			t.Errorf("%s: KeyRange = %q, %q, %v, %v; want %q, %q, %v", tc.name, lower, upper, empty, err, tc.lower, tc.upper, tc.empty)
		}
		ix := &emptyIndex{registry: []string{"github#push"}}
		q := pipeline.Query{Since: since, Until: until, Cursor: tc.cursor}
		if _, err := ddbhistory.List(context.Background(), ix, "events", q); err != nil {
			t.Errorf("%s: List: %v", tc.name, err)
		}
		if asked := len(ix.calls) > 0; asked == tc.empty {
			t.Errorf("%s: List of a range empty=%v made the calls %v", tc.name, tc.empty, ix.calls)
		}
	}
	// A cursor that does not decode is refused before any request.
	ix := &emptyIndex{registry: []string{"github#push"}}
	for _, bad := range []string{"!!", ddbhistory.EncodeCursor("not a received key")} {
		_, err := ddbhistory.List(context.Background(), ix, "events", pipeline.Query{Cursor: bad})
		if pipeline.KindOf(err) != pipeline.KindInvalid || slices.Contains(ix.calls, "Registry") {
			t.Errorf("cursor %q: List = %v (kind %v), calls %v; want KindInvalid and no call", bad, err, pipeline.KindOf(err), ix.calls)
		}
	}
}

// eventIndex is an Index over one history partition holding items newest first (each an id,
// its received_key, and "expired" set for one past its TTL), answering Query in pages of the
// request's Limit; it records the size of every BatchGet.
type eventIndex struct {
	items   []map[string]string
	batches []int
}

func newEventIndex(expired ...bool) *eventIndex {
	ix := &eventIndex{}
	for i, x := range expired {
		id := fmt.Sprintf("e%04d", i)
		// Newest first: received_key descends with i.
		item := map[string]string{ddbjson.AttrID: id, ddbjson.AttrReceivedKey: fmt.Sprintf("2026-12-03T%05d#%s", 99999-i, id)}
		if x {
			item["expired"] = "1"
		}
		ix.items = append(ix.items, item)
	}
	return ix
}

func (ix *eventIndex) Registry(context.Context) ([]string, error) {
	return nil, errors.New("eventIndex: List with a source and a type reads no registry")
}

func (ix *eventIndex) Query(_ context.Context, in *ddbhistory.Query, start map[string]string) ([]map[string]string, map[string]string, error) {
	from := 0
	if start != nil {
		fmt.Sscan(start["next"], &from)
	}
	to := min(from+in.Limit, len(ix.items))
	var next map[string]string
	if to < len(ix.items) {
		next = map[string]string{"next": fmt.Sprint(to)}
	}
	return ix.items[from:to], next, nil
}

func (ix *eventIndex) BatchGet(_ context.Context, ids []string) ([]map[string]string, []string, error) {
	ix.batches = append(ix.batches, len(ids))
	var out []map[string]string
	for _, id := range ids {
		var n int
		fmt.Sscanf(id, "e%d", &n)
		out = append(out, ix.items[n])
	}
	return out, nil, nil
}

func (*eventIndex) Str(v string) (string, bool) { return v, true }

func (*eventIndex) Record(item map[string]string) (*event.Record, error) {
	return &event.Record{Event: &event.Event{ID: item[ddbjson.AttrID]}}, nil
}

func (*eventIndex) Expired(item map[string]string, _ time.Time) bool { return item["expired"] != "" }

// TestListReadsOnThroughExpired: List passes by items past their TTL and reads on until the
// page is full or the index has no more. After the first round (the page's own size) it asks
// for at least 100 entries at a time, or for what the page still needs when that is more: a
// backlog of expired items (DynamoDB deletes them within days) costs whole BatchGetItem
// requests, not one per key. The cursor stays at the page's last record.
func TestListReadsOnThroughExpired(t *testing.T) {
	t.Parallel()
	run := func(n int, expired func(i int) bool) []bool {
		xs := make([]bool, n)
		for i := range xs {
			xs[i] = expired(i)
		}
		return xs
	}
	for _, tc := range []struct {
		name    string
		items   []bool
		limit   int
		records int   // the page's records: the first that many live items, in order
		cursor  bool  // a page follows
		batches []int // the size of each BatchGet
	}{
		{
			// Two live events around 250 expired ones: 2 keys, then 100, 100 and the last 50.
			name:  "a backlog at the end",
			items: run(252, func(i int) bool { return i > 0 && i < 251 }), limit: 2,
			records: 2, batches: []int{2, 100, 100, 50},
		},
		{
			// 10 live, 200 expired, 400 live, a page of 250: the first round reads 250 (50
			// live), the second the 200 the page still needs, and one more live entry is left.
			name:  "more needed than a batch",
			items: run(610, func(i int) bool { return i >= 10 && i < 210 }), limit: 250,
			records: 250, cursor: true, batches: []int{100, 100, 50, 100, 100},
		},
		{
			// Exactly the page's size, one of them expired: the index has no more.
			name:  "short by one at the end",
			items: run(5, func(i int) bool { return i == 2 }), limit: 5,
			records: 4, batches: []int{5},
		},
		{
			// A full first round with one expired: one more entry read fills the page, and a
			// batch of 100 reads what is left (2 entries), one of them past the page.
			name:  "read on after a full round",
			items: run(7, func(i int) bool { return i == 1 }), limit: 5,
			records: 5, cursor: true, batches: []int{5, 2},
		},
	} {
		ix := newEventIndex(tc.items...)
		page, err := ddbhistory.List(context.Background(), ix, "events", pipeline.Query{Source: "github", Type: "push", Limit: tc.limit})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got, want []string
		for _, r := range page.Records {
			got = append(got, r.Event.ID)
		}
		var last map[string]string
		for _, it := range ix.items {
			if it["expired"] == "" && len(want) < tc.records {
				want, last = append(want, it[ddbjson.AttrID]), it
			}
		}
		wantCursor := ""
		if tc.cursor {
			wantCursor = ddbhistory.EncodeCursor(last[ddbjson.AttrReceivedKey])
		}
		if !slices.Equal(got, want) || page.Cursor != wantCursor || !slices.Equal(ix.batches, tc.batches) {
			t.Errorf("%s: page %v, cursor %q, BatchGet sizes %v; want %v, %q, %v", tc.name, got, page.Cursor, ix.batches, want, wantCursor, tc.batches)
		}
	}
}
