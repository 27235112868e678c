// Package rejectedtest is the contract every pipeline.RejectedStore adapter must meet — the
// quarantine table of the local engine in-process, the DynamoDB events table (its own key
// prefix) against dynalite. Adapters call Run from their own tests with a constructor that
// returns an empty store.
package rejectedtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"hookline/internal/testctx"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// Run runs the contract against stores made by newStore. Each subtest gets its own empty store
// and runs in parallel with the others.
func Run(t *testing.T, newStore func(t *testing.T) pipeline.RejectedStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s pipeline.RejectedStore)
	}{
		{"KeepGetRoundTrip", testRoundTrip},
		{"GetMissing", testGetMissing},
		{"ListNewestFirstWithEverything", testListNewestFirst},
		{"ListFilters", testListFilters},
		{"ListPagination", testListPagination},
		{"ListInvalidCursor", testListInvalidCursor},
		{"Expired", testExpired},
		{"MarkReadmittedFirstWins", testMarkReadmitted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

// base is a minute ago, well inside the 7 days every adapter keeps.
var base = time.Now().UTC().Truncate(time.Millisecond).Add(-time.Minute)

// rejection builds a refused request as the Keeper would; n varies its shape.
func rejection(t *testing.T, source, reason string, at time.Time, n int) *pipeline.Rejection {
	t.Helper()
	id, err := event.NewID()
	if err != nil {
		t.Fatal(err)
	}
	r := &pipeline.Rejection{
		ID: id, Source: source, Reason: reason, Detail: fmt.Sprintf("refused %d: no secret of source %q matches", n, source),
		ReceivedAt: at, RawPath: "/webhooks/" + source,
		Header: map[string]string{"content-type": "application/json", "x-hub-signature-256": pipeline.Redacted, "user-agent": "GitHub-Hookshot/1"},
		Body:   []byte(fmt.Sprintf(`{"n":%d,"action":"opened"}`, n)),
	}
	r.BodySize = len(r.Body)
	switch n % 4 {
	case 1: // binary body, a query string, an IPv6 caller, sealed values
		r.Body, r.BodySize = []byte{0, 1, 0xfe, 0xff, byte(n)}, 5
		r.RawQuery, r.SourceIP, r.Sealed = "a=1&b=two", "2001:db8::7", []byte{1, 9, 8, 7, byte(n)}
	case 2: // cut: more was received than kept
		r.BodySize, r.SourceIP = 300*1024, "192.0.2.10"
	case 3: // nothing at all
		r.Body, r.BodySize, r.Header = []byte{}, 0, map[string]string{}
	}
	return r
}

func keep(t *testing.T, s pipeline.RejectedStore, rs ...*pipeline.Rejection) {
	t.Helper()
	for _, r := range rs {
		if err := s.Keep(testctx.New(t), r); err != nil {
			t.Fatalf("Keep(%s): %v", r.ID, err)
		}
	}
}

// same compares what a store returns with what was kept: an empty body may come back nil.
func same(t *testing.T, what string, got, want *pipeline.Rejection) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s (-kept +returned):\n%s", what, diff)
	}
}

func testRoundTrip(t *testing.T, s pipeline.RejectedStore) {
	for n := range 4 {
		r := rejection(t, "github", pipeline.ReasonUnauthorized, base.Add(time.Duration(n)*time.Millisecond), n)
		keep(t, s, r)
		got, err := s.Get(testctx.New(t), r.ID)
		if err != nil {
			t.Fatalf("Get(%s): %v", r.ID, err)
		}
		same(t, fmt.Sprintf("shape %d", n), got, r)
		if got.Truncated() != (n == 2) {
			t.Errorf("shape %d: Truncated() = %v", n, got.Truncated())
		}
	}
}

func testGetMissing(t *testing.T, s pipeline.RejectedStore) {
	id, _ := event.NewID()
	_, err := s.Get(testctx.New(t), id)
	if !errors.Is(err, pipeline.ErrNotFound) {
		t.Fatalf("Get(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.MarkReadmitted(testctx.New(t), id, "e", base); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("MarkReadmitted(unknown) = %v, want ErrNotFound", err)
	}
}

// order is the order List returns: received descending, then id descending.
func order(rs []*pipeline.Rejection) []string {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b *pipeline.Rejection) int {
		if c := b.ReceivedAt.Compare(a.ReceivedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	ids := make([]string, len(sorted))
	for i, r := range sorted {
		ids[i] = r.ID
	}
	return ids
}

func ids(rs []*pipeline.Rejection) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// all pages through q.
func all(t *testing.T, s pipeline.RejectedStore, q pipeline.RejectedQuery) []*pipeline.Rejection {
	t.Helper()
	var out []*pipeline.Rejection
	for range 100 {
		page, err := s.List(testctx.New(t), q)
		if err != nil {
			t.Fatalf("List(%+v): %v", q, err)
		}
		out = append(out, page.Rejections...)
		if page.Cursor == "" {
			return out
		}
		q.Cursor = page.Cursor
	}
	t.Fatal("List never ended")
	return nil
}

func testListNewestFirst(t *testing.T, s pipeline.RejectedStore) {
	var rs []*pipeline.Rejection
	for n := range 6 {
		// Two share a millisecond: the id breaks the tie. One arrived 3 days ago (another day's
		// partition where the store partitions by day).
		at := base.Add(time.Duration(n/2) * time.Second)
		if n == 5 {
			at = base.Add(-72 * time.Hour)
		}
		rs = append(rs, rejection(t, "github", pipeline.ReasonUnauthorized, at, n))
	}
	keep(t, s, rs...)
	got := all(t, s, pipeline.RejectedQuery{})
	if diff := cmp.Diff(order(rs), ids(got)); diff != "" {
		t.Fatalf("List order (-want +got):\n%s", diff)
	}
	// List returns what Get returns: readmit works from a listed rejection (body, sealed values).
	byID := map[string]*pipeline.Rejection{}
	for _, r := range rs {
		byID[r.ID] = r
	}
	for _, g := range got {
		same(t, "listed "+g.ID, g, byID[g.ID])
	}
}

func testListFilters(t *testing.T, s pipeline.RejectedStore) {
	var rs []*pipeline.Rejection
	sources := []string{"github", "stripe", "nope"}
	reasons := []string{pipeline.ReasonUnauthorized, pipeline.ReasonForbidden, pipeline.ReasonNotFound}
	for n := range 9 {
		rs = append(rs, rejection(t, sources[n%3], reasons[n/3], base.Add(time.Duration(n)*time.Second), n))
	}
	keep(t, s, rs...)
	where := func(f func(r *pipeline.Rejection) bool) []string {
		var out []*pipeline.Rejection
		for _, r := range rs {
			if f(r) {
				out = append(out, r)
			}
		}
		return order(out)
	}
	cases := []struct {
		name string
		q    pipeline.RejectedQuery
		want []string
	}{
		{"source", pipeline.RejectedQuery{Source: "stripe"}, where(func(r *pipeline.Rejection) bool { return r.Source == "stripe" })},
		{"reason", pipeline.RejectedQuery{Reason: pipeline.ReasonForbidden}, where(func(r *pipeline.Rejection) bool { return r.Reason == pipeline.ReasonForbidden })},
		{"source and reason", pipeline.RejectedQuery{Source: "nope", Reason: pipeline.ReasonNotFound}, where(func(r *pipeline.Rejection) bool {
			return r.Source == "nope" && r.Reason == pipeline.ReasonNotFound
		})},
		{"since inclusive", pipeline.RejectedQuery{Since: base.Add(4 * time.Second)}, where(func(r *pipeline.Rejection) bool { return !r.ReceivedAt.Before(base.Add(4 * time.Second)) })},
		{"until exclusive", pipeline.RejectedQuery{Until: base.Add(4 * time.Second)}, where(func(r *pipeline.Rejection) bool { return r.ReceivedAt.Before(base.Add(4 * time.Second)) })},
		{"since and until, one source", pipeline.RejectedQuery{Source: "github", Since: base.Add(time.Second), Until: base.Add(7 * time.Second)}, where(func(r *pipeline.Rejection) bool {
			return r.Source == "github" && !r.ReceivedAt.Before(base.Add(time.Second)) && r.ReceivedAt.Before(base.Add(7*time.Second))
		})},
		{"nothing", pipeline.RejectedQuery{Source: "other"}, nil},
	}
	for _, c := range cases {
		for _, limit := range []int{0, 1, 2} {
			c.q.Limit = limit
			if diff := cmp.Diff(c.want, ids(all(t, s, c.q)), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s, limit %d (-want +got):\n%s", c.name, limit, diff)
			}
		}
	}
}

func testListPagination(t *testing.T, s pipeline.RejectedStore) {
	var rs []*pipeline.Rejection
	for n := range 7 {
		rs = append(rs, rejection(t, "github", pipeline.ReasonUnauthorized, base.Add(time.Duration(n)*time.Second), n))
	}
	keep(t, s, rs...)
	want := order(rs)
	page, err := s.List(testctx.New(t), pipeline.RejectedQuery{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Rejections) != 3 || page.Cursor == "" {
		t.Fatalf("first page: %d rejections, cursor %q; want 3 and a cursor", len(page.Rejections), page.Cursor)
	}
	var got []string
	for q := (pipeline.RejectedQuery{Limit: 3}); ; {
		page, err := s.List(testctx.New(t), q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(page.Rejections)...)
		if page.Cursor == "" {
			break
		}
		q.Cursor = page.Cursor
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	// Exactly a page's worth: the last page has no cursor.
	page, err = s.List(testctx.New(t), pipeline.RejectedQuery{Limit: 7})
	if err != nil || len(page.Rejections) != 7 || page.Cursor != "" {
		t.Errorf("a page of exactly 7: %d, cursor %q, %v; want 7 and no cursor", len(page.Rejections), page.Cursor, err)
	}
}

func testListInvalidCursor(t *testing.T, s pipeline.RejectedStore) {
	for _, c := range []string{"not base64!", "aGVsbG8", "e30"} {
		_, err := s.List(testctx.New(t), pipeline.RejectedQuery{Cursor: c})
		if pipeline.KindOf(err) != pipeline.KindInvalid {
			t.Errorf("List(cursor %q) = %v, want a KindInvalid error", c, err)
		}
	}
}

func testExpired(t *testing.T, s pipeline.RejectedStore) {
	old := rejection(t, "github", pipeline.ReasonUnauthorized, time.Now().Add(-pipeline.KeptFor-time.Minute), 0)
	fresh := rejection(t, "github", pipeline.ReasonUnauthorized, base, 0)
	keep(t, s, old, fresh)
	if _, err := s.Get(testctx.New(t), old.ID); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("Get of a rejection older than %v = %v, want ErrNotFound", pipeline.KeptFor, err)
	}
	if got := ids(all(t, s, pipeline.RejectedQuery{})); !slices.Equal(got, []string{fresh.ID}) {
		t.Errorf("List = %v, want only the fresh one %s", got, fresh.ID)
	}
}

func testMarkReadmitted(t *testing.T, s pipeline.RejectedStore) {
	r := rejection(t, "github", pipeline.ReasonUnauthorized, base, 0)
	keep(t, s, r)
	at := base.Add(time.Minute)
	if err := s.MarkReadmitted(testctx.New(t), r.ID, "e-1", at); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkReadmitted(testctx.New(t), r.ID, "e-2", at.Add(time.Hour)); err != nil {
		t.Fatalf("a second mark: %v, want nil (the first one stays)", err)
	}
	got, err := s.Get(testctx.New(t), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.EventID != "e-1" || !got.ReadmittedAt.Equal(at) {
		t.Errorf("after two marks: event %q at %v, want e-1 at %v", got.EventID, got.ReadmittedAt, at)
	}
	listed := all(t, s, pipeline.RejectedQuery{})
	if len(listed) != 1 || listed[0].EventID != "e-1" || !listed[0].ReadmittedAt.Equal(at) {
		t.Errorf("List after the mark: %+v", listed)
	}
}
