package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hookline/internal/testctx"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// Retention is the retention RunExpiry asks its stores for: events received more than this long
// ago are past their TTL.
const Retention = 2 * time.Hour

// RunExpiry is the contract for events past their TTL that nothing has deleted yet (DynamoDB
// deletes them within days, the local engine's sweep hourly): every read answers as if they
// were gone. newStore returns an empty store that writes each event's TTL Retention after its
// receipt and never deletes an expired event on its own during the test.
func RunExpiry(t *testing.T, newStore func(t *testing.T, retention time.Duration) pipeline.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s pipeline.Store)
	}{
		{"GetExpired", testGetExpired},
		{"ListHidesExpired", testListHidesExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t, Retention))
		})
	}
}

// expiredAt is a receipt time whose TTL passed an hour ago (minus i seconds).
func expiredAt(i int) time.Time {
	return time.Now().UTC().Truncate(time.Second).Add(-Retention - time.Hour - time.Duration(i)*time.Second)
}

func testGetExpired(t *testing.T, s pipeline.Store) {
	old, live := newRecord(t, "github", "push", expiredAt(0)), newRecord(t, "github", "push", base)
	put(t, s, old, live)
	if r, err := s.Get(testctx.New(t), old.Event.ID); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("Get(expired) = %v, %v; want ErrNotFound, as for a deleted event", r, err)
	}
	if _, err := s.Get(testctx.New(t), live.Event.ID); err != nil {
		t.Errorf("Get(live): %v", err)
	}
}

func testListHidesExpired(t *testing.T, s pipeline.Store) {
	kinds := []struct{ source, typ string }{{"github", "push"}, {"github", "issues.opened"}, {"stripe", "invoice.paid"}}
	var live, all []*event.Record
	for i := range 4 {
		k := kinds[i%len(kinds)]
		live = append(live, newRecord(t, k.source, k.typ, base.Add(time.Duration(i)*time.Second)))
	}
	// More expired events than a page holds, in every partition, so a page that skipped them
	// without reading on would come back short or empty.
	for i := range 9 {
		k := kinds[i%len(kinds)]
		all = append(all, newRecord(t, k.source, k.typ, expiredAt(i)))
	}
	all = append(all, live...)
	put(t, s, all...)

	for _, q := range []pipeline.Query{
		{}, {Limit: 1}, {Limit: 2}, {Limit: 3},
		{Source: "github", Limit: 1}, {Source: "github", Type: "push", Limit: 1},
		{Type: "issues.", Limit: 1}, {Since: expiredAt(100), Limit: 2},
	} {
		want := newestFirst(where(live, func(e *event.Event) bool {
			return (q.Source == "" || e.Source == q.Source) && (q.Type == "" || event.MatchesType(q.Type, e.Type))
		}))
		if diff := cmp.Diff(want, ids(listAll(t, s, q))); diff != "" {
			t.Errorf("List(%+v) (-live +got):\n%s", q, diff)
		}
	}
	// Only expired events in range: an empty last page.
	if p := list(t, s, pipeline.Query{Until: expiredAt(-1), Limit: 2}); len(p.Records) != 0 || p.Cursor != "" {
		t.Errorf("List(only expired) = %d records, cursor %q; want none, no cursor", len(p.Records), p.Cursor)
	}
}
