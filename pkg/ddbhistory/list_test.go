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
