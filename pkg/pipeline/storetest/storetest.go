// Package storetest is the contract every pipeline.Store adapter must meet — the DynamoDB store
// against dynalite, the local engine's SQLite store in-process. Adapters call Run from their own
// tests with a constructor that returns an empty store.
package storetest

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hookline/internal/testctx"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// Run runs the contract against stores made by newStore. Each subtest gets its own empty store
// and runs in parallel with the others.
func Run(t *testing.T, newStore func(t *testing.T) pipeline.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s pipeline.Store)
	}{
		{"PutNewInsertsOnce", testPutNewInsertsOnce},
		{"PutNewConcurrentSameID", testPutNewConcurrent},
		{"GetMissing", testGetMissing},
		{"GetReturnsRecord", testGetReturnsRecord},
		{"MarkNotified", testMarkNotified},
		{"ListNewestFirst", testListNewestFirst},
		{"ListFilters", testListFilters},
		{"ListTypePrefix", testListTypePrefix},
		{"ListSinceUntil", testListSinceUntil},
		{"ListPagination", testListPagination},
		{"ListInvalidCursor", testListInvalidCursor},
		{"ListLimits", testListLimits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

// base is an hour ago so no adapter's retention can have expired the test events. An adapter
// may return its times in another location or without a monotonic reading: cmp compares
// time.Time values with their Equal method, so the diffs below see only the instant.
var base = time.Now().UTC().Truncate(time.Second).Add(-time.Hour)

// bodies are the kinds of payload senders post: each one lands in a different envelope field.
var bodies = []struct{ ct, body string }{
	{"application/json", `{"ref":"refs/heads/main","repository":{"full_name":"octo-org/hello-world"},"pusher":{"name":"octocat"}}`},
	{"text/plain", "A new message has been published"},
	{"application/octet-stream", "\x00\x01\xfe\xff"},
	{"application/json", `{"resource_type":"measurement","action":"finished","measurement_uuid":"0c7b2f3e-8f1a-4b8e-9a49-6f6d3b0c9a11"}`},
}

var seq struct {
	sync.Mutex
	n int
}

// newRecord builds a valid record the way ingest and the subscriber do.
func newRecord(t *testing.T, source, typ string, receivedAt time.Time) *event.Record {
	t.Helper()
	seq.Lock()
	seq.n++
	n := seq.n
	seq.Unlock()
	delivery := fmt.Sprintf("delivery-%d-%d", time.Now().UnixNano(), n)
	e := &event.Event{
		ID:         event.DeliveryID(source, delivery),
		Source:     source,
		Type:       typ,
		Time:       receivedAt.Add(-time.Duration(n%3) * time.Second),
		ReceivedAt: receivedAt,
		DeliveryID: delivery,
	}
	b := bodies[n%len(bodies)]
	if err := e.SetData(b.ct, []byte(b.body)); err != nil {
		t.Fatal(err)
	}
	// Every store keeps the verification evidence with the event (rotation tracking counts it).
	e.Verification = event.Verification{Scheme: "standard-webhooks", Key: n % 3, BodySHA256: sha256.Sum256([]byte(b.body)), SignedID: n%4 != 0}
	if n%2 == 0 {
		e.Verification.SkewMS, e.Verification.HasSkew = -int64(n%1000), true
	}
	r, err := event.NewRecord(e, receivedAt.Add(150*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func put(t *testing.T, s pipeline.Store, rs ...*event.Record) {
	t.Helper()
	// Concurrent, like the subscriber's batches, and to keep the suite fast.
	var wg sync.WaitGroup
	errs := make([]error, len(rs))
	sem := make(chan struct{}, 8)
	for i, r := range rs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			inserted, err := s.PutNew(testctx.New(t), r)
			if err == nil && !inserted {
				err = fmt.Errorf("PutNew(%s) = false for a new id", r.Event.ID)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// newestFirst is the order every List must return: ReceivedAt descending, then id descending.
func newestFirst(rs []*event.Record) []string {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b *event.Record) int {
		if c := b.Event.ReceivedAt.Compare(a.Event.ReceivedAt); c != 0 {
			return c
		}
		return strings.Compare(b.Event.ID, a.Event.ID)
	})
	ids := make([]string, len(sorted))
	for i, r := range sorted {
		ids[i] = r.Event.ID
	}
	return ids
}

func ids(rs []*event.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Event.ID
	}
	return out
}

func list(t *testing.T, s pipeline.Store, q pipeline.Query) pipeline.Page {
	t.Helper()
	p, err := s.List(testctx.New(t), q)
	if err != nil {
		t.Fatalf("List(%+v): %v", q, err)
	}
	return p
}

// listAll walks every page of q and fails if a cursor repeats or the walk does not end.
func listAll(t *testing.T, s pipeline.Store, q pipeline.Query) []*event.Record {
	t.Helper()
	var all []*event.Record
	seen := map[string]bool{}
	for range 1000 {
		p := list(t, s, q)
		if q.Limit > 0 && len(p.Records) > q.Limit {
			t.Fatalf("page of %d records, limit %d", len(p.Records), q.Limit)
		}
		if p.Cursor != "" && len(p.Records) == 0 {
			t.Fatalf("empty page with a cursor")
		}
		all = append(all, p.Records...)
		if p.Cursor == "" {
			return all
		}
		if seen[p.Cursor] {
			t.Fatalf("cursor %q repeated", p.Cursor)
		}
		seen[p.Cursor] = true
		q.Cursor = p.Cursor
	}
	t.Fatal("pagination did not end")
	return nil
}

func testPutNewInsertsOnce(t *testing.T, s pipeline.Store) {
	ctx := testctx.New(t)
	r := newRecord(t, "github", "push", base)
	inserted, err := s.PutNew(ctx, r)
	if err != nil || !inserted {
		t.Fatalf("first PutNew = %v, %v; want true, nil", inserted, err)
	}
	// A redelivery of the same id with other content (a later stored_at, say) must not overwrite.
	dup := newRecord(t, "github", "ping", base.Add(time.Minute))
	dup.Event.ID = r.Event.ID
	dup.StoredAt = base.Add(time.Hour)
	inserted, err = s.PutNew(ctx, dup)
	if err != nil || inserted {
		t.Fatalf("duplicate PutNew = %v, %v; want false, nil", inserted, err)
	}
	got, err := s.Get(ctx, r.Event.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("after duplicate, Get (-first +got):\n%s", diff)
	}
}

func testPutNewConcurrent(t *testing.T, s pipeline.Store) {
	r := newRecord(t, "stripe", "invoice.paid", base)
	const writers = 8
	var wg sync.WaitGroup
	results := make([]bool, writers)
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			c := *r // each writer has its own record, like separate Lambda invocations
			results[i], errs[i] = s.PutNew(testctx.New(t), &c)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := len(slices.DeleteFunc(results, func(b bool) bool { return !b })); n != 1 {
		t.Errorf("%d of %d concurrent PutNew inserted, want exactly 1", n, writers)
	}
	if p := list(t, s, pipeline.Query{}); len(p.Records) != 1 {
		t.Errorf("List after concurrent puts: %d records, want 1", len(p.Records))
	}
}

func testGetMissing(t *testing.T, s pipeline.Store) {
	put(t, s, newRecord(t, "github", "push", base))
	id, err := event.NewID()
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(testctx.New(t), id)
	if !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("Get(missing) err = %v, want ErrNotFound", err)
	}
}

func testGetReturnsRecord(t *testing.T, s pipeline.Store) {
	var rs []*event.Record
	for i := range bodies {
		rs = append(rs, newRecord(t, "billing", "invoice.created", base.Add(time.Duration(i)*time.Second)))
	}
	rs[0].Event.DataVersion = "2024-06-01"
	rs[1].Event.DeliveryID = "" // a hand-posted event names no delivery
	empty := newRecord(t, "postman", event.UnknownType, base)
	if err := empty.Event.SetData("", nil); err != nil {
		t.Fatal(err)
	}
	rs = append(rs, empty)
	put(t, s, rs...)
	for _, want := range rs {
		got, err := s.Get(testctx.New(t), want.Event.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get(%s) (-put +got):\n%s", want.Event.ID, diff)
		}
		if got.Status() != "stored" {
			t.Errorf("Status() = %q, want stored", got.Status())
		}
	}
}

func testMarkNotified(t *testing.T, s pipeline.Store) {
	ctx := testctx.New(t)
	r := newRecord(t, "github", "push", base)
	other := newRecord(t, "github", "push", base.Add(time.Second))
	put(t, s, r, other)
	first := base.Add(2*time.Second + 123456789)
	if at, err := s.NotifiedAt(ctx, r.Event.ID); err != nil || !at.IsZero() {
		t.Fatalf("NotifiedAt before marking = %v, %v; want zero, nil", at, err)
	}
	if err := s.MarkNotified(ctx, r.Event.ID, first); err != nil {
		t.Fatal(err)
	}
	if at, err := s.NotifiedAt(ctx, r.Event.ID); err != nil || !at.Equal(first) {
		t.Fatalf("NotifiedAt after marking = %v, %v; want %v", at, err, first)
	}
	// A redelivered stream record marks again: no error, the first time stays.
	if err := s.MarkNotified(ctx, r.Event.ID, first.Add(time.Minute)); err != nil {
		t.Fatalf("second MarkNotified: %v", err)
	}
	got, err := s.Get(ctx, r.Event.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *r
	want.NotifiedAt = first
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("after MarkNotified (-want +got):\n%s", diff)
	}
	if got.Status() != "notified" {
		t.Errorf("Status() = %q, want notified", got.Status())
	}
	// List shows the status too.
	p := list(t, s, pipeline.Query{Source: "github"})
	if len(p.Records) != 2 || !p.Records[1].NotifiedAt.Equal(first) || !p.Records[0].NotifiedAt.IsZero() {
		t.Errorf("List after MarkNotified: %v", p.Records)
	}

	missing, err := event.NewID()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkNotified(ctx, missing, first); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("MarkNotified(missing) err = %v, want ErrNotFound", err)
	}
	if _, err := s.NotifiedAt(ctx, missing); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("NotifiedAt(missing) err = %v, want ErrNotFound", err)
	}
}

// fixture stores a mix of sources and types, some received at the same instant.
func fixture(t *testing.T, s pipeline.Store) []*event.Record {
	t.Helper()
	specs := []struct {
		source, typ string
		at          time.Duration
	}{
		{"github", "push", 0},
		{"github", "pull_request", time.Minute},
		{"stripe", "invoice.paid", 2 * time.Minute},
		{"github", "push", 3 * time.Minute},
		{"intdash", "measurement.finished", 3 * time.Minute}, // same instant as the previous
		{"stripe", "push", 4 * time.Minute},                  // same type, other source
		{"github", "push", 5*time.Minute + 1},                // a nanosecond after a minute
		{"github", "push", 5 * time.Minute},
		{"intdash", "measurement.finished", 6 * time.Minute},
	}
	var rs []*event.Record
	for _, sp := range specs {
		rs = append(rs, newRecord(t, sp.source, sp.typ, base.Add(sp.at)))
	}
	put(t, s, rs...)
	return rs
}

func testListNewestFirst(t *testing.T, s pipeline.Store) {
	rs := fixture(t, s)
	p := list(t, s, pipeline.Query{})
	if diff := cmp.Diff(newestFirst(rs), ids(p.Records)); diff != "" {
		t.Errorf("List order (-want +got):\n%s", diff)
	}
	if p.Cursor != "" {
		t.Errorf("single page has cursor %q", p.Cursor)
	}
	byID := map[string]*event.Record{}
	for _, r := range rs {
		byID[r.Event.ID] = r
	}
	for _, got := range p.Records {
		if diff := cmp.Diff(byID[got.Event.ID], got); diff != "" {
			t.Errorf("listed record %s (-put +got):\n%s", got.Event.ID, diff)
		}
	}
}

func where(rs []*event.Record, keep func(*event.Event) bool) []*event.Record {
	var out []*event.Record
	for _, r := range rs {
		if keep(r.Event) {
			out = append(out, r)
		}
	}
	return out
}

func testListFilters(t *testing.T, s pipeline.Store) {
	rs := fixture(t, s)
	tests := []struct {
		q    pipeline.Query
		keep func(*event.Event) bool
	}{
		{pipeline.Query{Source: "github"}, func(e *event.Event) bool { return e.Source == "github" }},
		{pipeline.Query{Type: "push"}, func(e *event.Event) bool { return e.Type == "push" }},
		{pipeline.Query{Source: "github", Type: "push"}, func(e *event.Event) bool { return e.Source == "github" && e.Type == "push" }},
		{pipeline.Query{Source: "stripe", Type: "push"}, func(e *event.Event) bool { return e.Source == "stripe" && e.Type == "push" }},
		{pipeline.Query{Source: "nobody"}, func(*event.Event) bool { return false }},
		{pipeline.Query{Source: "github", Type: "ping"}, func(*event.Event) bool { return false }},
	}
	for _, tt := range tests {
		want := newestFirst(where(rs, tt.keep))
		got := ids(list(t, s, tt.q).Records)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("List(source %q, type %q) (-want +got):\n%s", tt.q.Source, tt.q.Type, diff)
		}
		// The same through small pages: a filter must not break pagination.
		tt.q.Limit = 1
		if diff := cmp.Diff(want, ids(listAll(t, s, tt.q))); diff != "" {
			t.Errorf("paged List(source %q, type %q) (-want +got):\n%s", tt.q.Source, tt.q.Type, diff)
		}
	}
}

// testListTypePrefix: "?type=issues." selects the types one segment below the prefix (GitHub's
// <event>.<action>), "?type=issues.opened" only that type, with or without a source.
func testListTypePrefix(t *testing.T, s pipeline.Store) {
	var rs []*event.Record
	types := []string{"issues.opened", "issues.closed", "issues", "issues.opened.extra", "issuesx.opened",
		"pull_request.closed", "push", "orders/create", "orders/updated", "orders.create"}
	for i, typ := range types {
		for j, src := range []string{"github", "shop"} {
			rs = append(rs, newRecord(t, src, typ, base.Add(time.Duration(2*i+j)*time.Second)))
		}
	}
	put(t, s, rs...)
	tests := []struct {
		source, typ string
		want        []string // the types selected
	}{
		{"", "issues.", []string{"issues.opened", "issues.closed"}},
		{"", "issues.opened", []string{"issues.opened"}},
		{"", "issues", []string{"issues"}},
		{"", "issues.opened.", []string{"issues.opened.extra"}},
		{"", "orders/", []string{"orders/create", "orders/updated"}},
		{"", "orders.", []string{"orders.create"}},
		{"", "pull_request.", []string{"pull_request.closed"}},
		{"", "push.", nil},
		{"github", "issues.", []string{"issues.opened", "issues.closed"}},
		{"shop", "orders/", []string{"orders/create", "orders/updated"}},
		{"shop", "issues.closed", []string{"issues.closed"}},
	}
	for _, tt := range tests {
		want := newestFirst(where(rs, func(e *event.Event) bool {
			return (tt.source == "" || e.Source == tt.source) && slices.Contains(tt.want, e.Type)
		}))
		q := pipeline.Query{Source: tt.source, Type: tt.typ}
		if diff := cmp.Diff(want, ids(list(t, s, q).Records)); diff != "" {
			t.Errorf("List(source %q, type %q) (-want +got):\n%s", tt.source, tt.typ, diff)
		}
		q.Limit = 1
		if diff := cmp.Diff(want, ids(listAll(t, s, q))); diff != "" {
			t.Errorf("paged List(source %q, type %q) (-want +got):\n%s", tt.source, tt.typ, diff)
		}
	}
}

func testListSinceUntil(t *testing.T, s pipeline.Store) {
	rs := fixture(t, s)
	in := func(since, until time.Time) func(*event.Event) bool {
		return func(e *event.Event) bool {
			return (since.IsZero() || !e.ReceivedAt.Before(since)) && (until.IsZero() || e.ReceivedAt.Before(until))
		}
	}
	at := func(d time.Duration) time.Time { return base.Add(d) }
	tests := []struct {
		name         string
		q            pipeline.Query
		since, until time.Time
	}{
		{"since is inclusive", pipeline.Query{}, at(3 * time.Minute), time.Time{}},
		{"until is exclusive", pipeline.Query{}, time.Time{}, at(3 * time.Minute)},
		{"both", pipeline.Query{}, at(time.Minute), at(5*time.Minute + 1)},
		{"nanosecond range", pipeline.Query{}, at(5*time.Minute + 1), at(5*time.Minute + 2)},
		{"empty range", pipeline.Query{}, at(2 * time.Minute), at(2 * time.Minute)},
		{"inverted range", pipeline.Query{}, at(4 * time.Minute), at(2 * time.Minute)},
		{"with source", pipeline.Query{Source: "github"}, at(time.Minute), at(5 * time.Minute)},
		{"with type", pipeline.Query{Type: "push"}, at(0), at(4 * time.Minute)},
		{"with both", pipeline.Query{Source: "github", Type: "push"}, at(time.Second), time.Time{}},
		{"other time zone", pipeline.Query{}, at(3 * time.Minute).In(time.FixedZone("PDT", -7*3600)), time.Time{}},
	}
	for _, tt := range tests {
		q := tt.q
		q.Since, q.Until = tt.since, tt.until
		keep := in(tt.since, tt.until)
		want := newestFirst(where(rs, func(e *event.Event) bool {
			return keep(e) && (q.Source == "" || e.Source == q.Source) && (q.Type == "" || e.Type == q.Type)
		}))
		if diff := cmp.Diff(want, ids(list(t, s, q).Records)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
		q.Limit = 2
		if diff := cmp.Diff(want, ids(listAll(t, s, q))); diff != "" {
			t.Errorf("%s, paged (-want +got):\n%s", tt.name, diff)
		}
	}
}

func testListPagination(t *testing.T, s pipeline.Store) {
	var rs []*event.Record
	// Five events in the same nanosecond from several sources, around others.
	same := base.Add(10 * time.Minute)
	for i, src := range []string{"github", "stripe", "github", "intdash", "billing"} {
		rs = append(rs, newRecord(t, src, "push", same))
		rs = append(rs, newRecord(t, src, "push", same.Add(time.Duration(i+1)*time.Second)))
		rs = append(rs, newRecord(t, src, "push", same.Add(-time.Duration(i+1)*time.Millisecond)))
	}
	put(t, s, rs...)
	want := newestFirst(rs)
	for _, limit := range []int{1, 2, 3, 4, 7, len(rs) - 1, len(rs), len(rs) + 1} {
		got := listAll(t, s, pipeline.Query{Limit: limit})
		if diff := cmp.Diff(want, ids(got)); diff != "" {
			t.Errorf("pages of %d (-want +got):\n%s", limit, diff)
		}
	}
	// The last page ends the walk: a full final page must not leave a cursor to an empty page.
	p := list(t, s, pipeline.Query{Limit: len(rs)})
	if len(p.Records) != len(rs) || p.Cursor != "" {
		t.Errorf("List(limit = all) = %d records, cursor %q; want %d, none", len(p.Records), p.Cursor, len(rs))
	}
	// A cursor keeps working after newer events arrive: they are above it.
	first := list(t, s, pipeline.Query{Limit: 5})
	put(t, s, newRecord(t, "github", "push", same.Add(time.Hour)))
	rest := listAll(t, s, pipeline.Query{Limit: 5, Cursor: first.Cursor})
	if diff := cmp.Diff(want, append(ids(first.Records), ids(rest)...)); diff != "" {
		t.Errorf("walk with an insert between pages (-want +got):\n%s", diff)
	}
}

func testListInvalidCursor(t *testing.T, s pipeline.Store) {
	put(t, s, newRecord(t, "github", "push", base))
	for _, c := range []string{
		"!!!",
		"not-a-cursor",
		base64.RawURLEncoding.EncodeToString([]byte("{}")),
		base64.RawURLEncoding.EncodeToString([]byte(`{"before":"yesterday"}`)),
		base64.RawURLEncoding.EncodeToString([]byte("\x00\x01")),
	} {
		_, err := s.List(testctx.New(t), pipeline.Query{Cursor: c})
		if pipeline.KindOf(err) != pipeline.KindInvalid {
			t.Errorf("List(cursor %q) err = %v (kind %v), want KindInvalid", c, err, pipeline.KindOf(err))
		}
	}
}

func testListLimits(t *testing.T, s pipeline.Store) {
	var rs []*event.Record
	for i := range pipeline.DefaultLimit + 3 {
		rs = append(rs, newRecord(t, "github", "push", base.Add(time.Duration(i)*time.Millisecond)))
	}
	put(t, s, rs...)
	want := newestFirst(rs)
	p := list(t, s, pipeline.Query{})
	if len(p.Records) != pipeline.DefaultLimit || p.Cursor == "" {
		t.Errorf("List(limit 0) = %d records, cursor %q; want %d and a cursor", len(p.Records), p.Cursor, pipeline.DefaultLimit)
	}
	for _, limit := range []int{pipeline.MaxLimit, pipeline.MaxLimit + 1, 1 << 30} {
		p = list(t, s, pipeline.Query{Limit: limit})
		if diff := cmp.Diff(want, ids(p.Records)); diff != "" || p.Cursor != "" {
			t.Errorf("List(limit %d): cursor %q, (-want +got):\n%s", limit, p.Cursor, diff)
		}
	}
}
