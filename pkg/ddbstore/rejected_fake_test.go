package ddbstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/ddbstore"
	"hookline/pkg/pipeline"
)

// The quarantine's requests against a fake table, on a clock the test sets: which day
// partitions List reads and how much it asks of each, how it reads the page's items, and
// where the seven days end. The dynalite contract (TestRejectedContract) checks the answers;
// these check the reads that give them.

// rejNow is the tests' "now": midday, so today and the seven days before are whole dates.
var rejNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// rejIndex is a fake events table holding rejections: GetItem and BatchGetItem by id, Query
// on IndexRejected (newest first, BETWEEN / >=, Limit counting items before the filter, and
// LastEvaluatedKey), and a log of the queries.
type rejIndex struct {
	mu      sync.Mutex
	items   map[string]map[string]types.AttributeValue // by id
	page    int                                        // items a query evaluates per answer when it has no Limit (0: all)
	queries []string                                   // "<day> limit=<n>" or "<day> filter=<expr>"
	batches []int                                      // keys per BatchGetItem
	// unprocessed, when set, picks the keys a BatchGetItem leaves unprocessed (call counts from 1).
	unprocessed func(call int, keys []map[string]types.AttributeValue) []map[string]types.AttributeValue
	onBatch     func(call int)
}

func newRejIndex(t *testing.T, rs ...*pipeline.Rejection) *rejIndex {
	t.Helper()
	x := &rejIndex{items: map[string]map[string]types.AttributeValue{}}
	for _, r := range rs {
		item, err := ddbstore.MarshalRejection(r)
		if err != nil {
			t.Fatal(err)
		}
		x.items[str(item["id"])] = item
	}
	return x
}

func str(av types.AttributeValue) string { return av.(*types.AttributeValueMemberS).Value }

func (x *rejIndex) store(t *testing.T) *ddbstore.Rejected {
	t.Helper()
	f := &fakeAPI{t: t, query: x.query, batch: x.batch, get: x.get}
	q, err := ddbstore.NewRejected(f, "events")
	if err != nil {
		t.Fatal(err)
	}
	ddbstore.SetRejectedClock(q, func() time.Time { return rejNow })
	return q
}

func (x *rejIndex) get(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{Item: x.items[str(in.Key["id"])]}, nil
}

func (x *rejIndex) query(in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	v := in.ExpressionAttributeValues
	day, lo := str(v[":pk"]), str(v[":lo"])
	if in.Limit != nil {
		x.queries = append(x.queries, fmt.Sprintf("%s limit=%d", day, *in.Limit))
	} else {
		x.queries = append(x.queries, fmt.Sprintf("%s filter=%s", day, aws.ToString(in.FilterExpression)))
	}
	var part []map[string]types.AttributeValue
	for _, it := range x.items {
		k := str(it[ddbstore.AttrRejectedKey])
		if str(it[ddbstore.AttrRejectedDay]) != day || k < lo {
			continue
		}
		if hi, ok := v[":hi"]; ok && k > str(hi) {
			continue
		}
		part = append(part, it)
	}
	slices.SortFunc(part, func(a, b map[string]types.AttributeValue) int { // newest first
		return strings.Compare(str(b[ddbstore.AttrRejectedKey]), str(a[ddbstore.AttrRejectedKey]))
	})
	if start, ok := in.ExclusiveStartKey[ddbstore.AttrRejectedKey]; ok {
		i := slices.IndexFunc(part, func(it map[string]types.AttributeValue) bool {
			return str(it[ddbstore.AttrRejectedKey]) < str(start)
		})
		if i < 0 {
			i = len(part)
		}
		part = part[i:]
	}
	n := len(part)
	if in.Limit != nil {
		n = min(n, int(*in.Limit))
	} else if x.page > 0 {
		n = min(n, x.page)
	}
	out := &dynamodb.QueryOutput{}
	for _, it := range part[:n] {
		if src, ok := v[":source"]; ok && str(it["source"]) != str(src) {
			continue
		}
		out.Items = append(out.Items, map[string]types.AttributeValue{
			"id": it["id"], ddbstore.AttrRejectedDay: it[ddbstore.AttrRejectedDay], ddbstore.AttrRejectedKey: it[ddbstore.AttrRejectedKey],
		})
	}
	if n < len(part) {
		out.LastEvaluatedKey = map[string]types.AttributeValue{ddbstore.AttrRejectedKey: part[n-1][ddbstore.AttrRejectedKey]}
	}
	return out, nil
}

func (x *rejIndex) batch(in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	keys := in.RequestItems["events"].Keys
	x.batches = append(x.batches, len(keys))
	call := len(x.batches)
	var left []map[string]types.AttributeValue
	if x.unprocessed != nil {
		left = x.unprocessed(call, keys)
	}
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	for _, k := range keys {
		if slices.ContainsFunc(left, func(l map[string]types.AttributeValue) bool { return str(l["id"]) == str(k["id"]) }) {
			continue
		}
		out.Responses["events"] = append(out.Responses["events"], x.items[str(k["id"])])
	}
	if len(left) > 0 {
		out.UnprocessedKeys = map[string]types.KeysAndAttributes{"events": {Keys: left}}
	}
	if x.onBatch != nil {
		x.onBatch(call)
	}
	return out, nil
}

// rejectedAt makes a rejection of source received at at; its id says when, for messages.
func rejectedAt(source string, at time.Time) *pipeline.Rejection {
	return &pipeline.Rejection{
		ID: "r-" + at.Format("0102T150405.000"), Source: source, Reason: pipeline.ReasonUnauthorized,
		ReceivedAt: at, Body: []byte("x"), BodySize: 1,
	}
}

// rejectedBefore is n github rejections, newest first, received step, 2×step, … before rejNow.
func rejectedBefore(n int, step time.Duration) []*pipeline.Rejection {
	rs := make([]*pipeline.Rejection, n)
	for i := range rs {
		rs[i] = rejectedAt("github", rejNow.Add(-time.Duration(i+1)*step))
	}
	return rs
}

func rejectionIDs(rs []*pipeline.Rejection) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

// TestRejectedListWalksDays: List reads today's partition, then each day before, asking each
// for what the page still needs plus one (for a cursor) plus the cursor's own item; it stops
// at the first day that fills the page, and walks no further back than the seven days.
func TestRejectedListWalksDays(t *testing.T) {
	t.Parallel()
	at := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, time.UTC) }
	x := newRejIndex(t,
		rejectedAt("github", at(20, 10)), rejectedAt("github", at(20, 11)),
		rejectedAt("github", at(19, 9)), rejectedAt("github", at(19, 10)), rejectedAt("github", at(19, 11)),
		rejectedAt("github", at(18, 1)), rejectedAt("github", at(18, 2)),
		rejectedAt("github", at(12, 13)), // received before the seven days: never read
	)
	q := x.store(t)
	ctx := context.Background()
	id := func(day, hour int) string { return rejectedAt("", at(day, hour)).ID }

	for _, c := range []struct {
		limit   int
		want    []string
		queries []string
	}{
		// The page is full after today: one more record (yesterday's newest) says there is a next page.
		{2, []string{id(20, 11), id(20, 10)}, []string{"2026-11-20 limit=4", "2026-11-19 limit=2"}},
		{4, []string{id(20, 11), id(20, 10), id(19, 11), id(19, 10)}, []string{"2026-11-20 limit=6", "2026-11-19 limit=4"}},
	} {
		x.queries = nil
		page, err := q.List(ctx, pipeline.RejectedQuery{Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		if got := rejectionIDs(page.Rejections); !slices.Equal(got, c.want) || page.Cursor == "" {
			t.Errorf("limit %d: page %v, cursor %q; want %v and a cursor", c.limit, got, page.Cursor, c.want)
		}
		if !slices.Equal(x.queries, c.queries) {
			t.Errorf("limit %d: queries %q, want %q", c.limit, x.queries, c.queries)
		}
		if c.limit != 4 {
			continue
		}
		// The next page starts at the cursor's day and goes back to the seventh day before today.
		x.queries = nil
		page, err = q.List(ctx, pipeline.RejectedQuery{Limit: c.limit, Cursor: page.Cursor})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rejectionIDs(page.Rejections), []string{id(19, 9), id(18, 2), id(18, 1)}; !slices.Equal(got, want) || page.Cursor != "" {
			t.Errorf("second page %v, cursor %q; want %v and no cursor", got, page.Cursor, want)
		}
		want := []string{"2026-11-19 limit=6", "2026-11-18 limit=5"}
		for d := 17; d >= 13; d-- { // 3 found, 2 more wanted
			want = append(want, fmt.Sprintf("2026-11-%d limit=3", d))
		}
		if !slices.Equal(x.queries, want) {
			t.Errorf("second page: queries %q, want %q", x.queries, want)
		}
	}
}

// TestRejectedListFilteredStopsWhenFull: a filtered query has no Limit (DynamoDB's Limit counts
// items before the filter); List reads a day's answers only until they fill the page.
func TestRejectedListFilteredStopsWhenFull(t *testing.T) {
	t.Parallel()
	rs := rejectedBefore(9, time.Minute)
	x := newRejIndex(t, rs...)
	x.page = 3 // each answer evaluates 3 items, as a 1 MB page would
	page, err := x.store(t).List(context.Background(), pipeline.RejectedQuery{Source: "github", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rejectionIDs(page.Rejections), rejectionIDs(rs[:2]); !slices.Equal(got, want) || page.Cursor == "" {
		t.Errorf("page %v, cursor %q; want %v and a cursor", got, page.Cursor, want)
	}
	if want := []string{"2026-11-20 filter=#source = :source"}; !slices.Equal(x.queries, want) {
		t.Errorf("queries %q, want %q: the first answer's 3 keys fill a page of 2 and its cursor", x.queries, want)
	}
}

// TestRejectedListReadsAHundredKeysPerRequest: the page's items are read with BatchGetItem
// requests of at most 100 keys, in the index's order.
func TestRejectedListReadsAHundredKeysPerRequest(t *testing.T) {
	t.Parallel()
	rs := rejectedBefore(150, time.Second)
	for _, c := range []struct {
		limit   int
		batches []int
	}{{100, []int{100}}, {150, []int{100, 50}}} {
		x := newRejIndex(t, rs...)
		page, err := x.store(t).List(context.Background(), pipeline.RejectedQuery{Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rejectionIDs(page.Rejections), rejectionIDs(rs[:c.limit]); !slices.Equal(got, want) {
			t.Errorf("limit %d: got %d rejections, not the %d newest in order", c.limit, len(got), c.limit)
		}
		if !slices.Equal(x.batches, c.batches) {
			t.Errorf("limit %d: BatchGetItem sizes %v, want %v", c.limit, x.batches, c.batches)
		}
	}
}

// TestRejectedListRetriesUnprocessedKeys: keys BatchGetItem leaves unprocessed are asked for
// again after a pause, which an ended context cuts short; once every key is read there is no
// pause left to wait out, so a context ending then changes nothing.
func TestRejectedListRetriesUnprocessedKeys(t *testing.T) {
	t.Parallel()
	rs := []*pipeline.Rejection{
		rejectedAt("github", rejNow.Add(-3*time.Minute)), rejectedAt("github", rejNow.Add(-2*time.Minute)), rejectedAt("github", rejNow.Add(-time.Minute)),
	}
	slices.Reverse(rs) // newest first
	leaveTwo := func(call int, keys []map[string]types.AttributeValue) []map[string]types.AttributeValue {
		if call == 1 {
			return keys[1:]
		}
		return nil
	}

	t.Run("retried", func(t *testing.T) {
		x := newRejIndex(t, rs...)
		x.unprocessed = leaveTwo
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		x.onBatch = func(call int) {
			if call == 2 {
				cancel() // after the last read: the List has everything
			}
		}
		page, err := x.store(t).List(ctx, pipeline.RejectedQuery{})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if got, want := rejectionIDs(page.Rejections), rejectionIDs(rs); !slices.Equal(got, want) || !slices.Equal(x.batches, []int{3, 2}) {
			t.Errorf("page %v after BatchGetItem sizes %v; want %v after [3 2]", got, x.batches, want)
		}
	})
	t.Run("context ends in the pause", func(t *testing.T) {
		x := newRejIndex(t, rs...)
		x.unprocessed = leaveTwo
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		x.onBatch = func(int) { cancel() }
		if _, err := x.store(t).List(ctx, pipeline.RejectedQuery{}); err != context.Canceled || len(x.batches) != 1 {
			t.Errorf("List = %v after %d BatchGetItem calls; want context.Canceled after 1", err, len(x.batches))
		}
	})
}

// TestRejectedGetExpiresAfterSevenDays: a rejection is found until the second its seven days
// (its TTL attribute) end, and not after, whether or not TTL has deleted it.
func TestRejectedGetExpiresAfterSevenDays(t *testing.T) {
	t.Parallel()
	r := rejectedAt("github", rejNow.Add(-pipeline.KeptFor))
	x := newRejIndex(t, r)
	q := x.store(t)
	for _, c := range []struct {
		now   time.Time
		found bool
	}{{rejNow, true}, {rejNow.Add(time.Second), false}} {
		ddbstore.SetRejectedClock(q, func() time.Time { return c.now })
		got, err := q.Get(context.Background(), r.ID)
		if found := err == nil && got != nil && got.ID == r.ID; found != c.found || (!found && pipeline.KindOf(err) != pipeline.KindNotFound) {
			t.Errorf("Get at %v = %v, %v; want found %v (or not found)", c.now, got, err, c.found)
		}
	}
}

// TestTakeRequest: the counter of a minute's kept rejections is one conditional ADD whose
// limit is the caller's, and it expires when the minute after it ends.
func TestTakeRequest(t *testing.T) {
	t.Parallel()
	var got *dynamodb.UpdateItemInput
	f := &fakeAPI{t: t, update: func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		got = in
		return &dynamodb.UpdateItemOutput{}, nil
	}}
	q, err := ddbstore.NewRejected(f, "events")
	if err != nil {
		t.Fatal(err)
	}
	const minute = 29_000_000
	if ok, err := q.Take(context.Background(), "github", minute, 7); !ok || err != nil {
		t.Fatalf("Take = %v, %v", ok, err)
	}
	v := got.ExpressionAttributeValues
	if id := str(got.Key["id"]); id != ddbstore.KeptCounterPrefix+"29000000#github" {
		t.Errorf("counter id %q", id)
	}
	if ttl := v[":ttl"].(*types.AttributeValueMemberN).Value; ttl != strconv.Itoa((minute+2)*60) {
		t.Errorf("counter TTL %s, want %d (the end of the next minute)", ttl, (minute+2)*60)
	}
	if limit := v[":limit"].(*types.AttributeValueMemberN).Value; limit != "7" || aws.ToString(got.ConditionExpression) != "attribute_not_exists(#n) OR #n < :limit" {
		t.Errorf("condition %q with limit %s", aws.ToString(got.ConditionExpression), limit)
	}
}

// TestNewRejectedValidates: a quarantine needs a client and a table name.
func TestNewRejectedValidates(t *testing.T) {
	t.Parallel()
	if _, err := ddbstore.NewRejected(nil, "events"); err == nil {
		t.Error("NewRejected accepted a nil client")
	}
	if _, err := ddbstore.NewRejected(&fakeAPI{t: t}, ""); err == nil {
		t.Error("NewRejected accepted an empty table name")
	}
}

// TestDigestErrors: a failed write of a digest item is an error naming the source, throttling
// kept as throttling (429), not a taken digest or a success.
func TestDigestErrors(t *testing.T) {
	t.Parallel()
	throttled := wireError("ThrottlingException")
	s := newStore(t, &fakeAPI{update: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, throttled }})
	ctx, due := context.Background(), rejNow
	_, takeErr := s.TakeDigest(ctx, "github", due)
	for name, err := range map[string]error{
		"AddToDigest": s.AddToDigest(ctx, "github", due, "ev-1"),
		"TakeDigest":  takeErr,
		"DoneDigest":  s.DoneDigest(ctx, "github", due),
	} {
		if !errors.Is(err, throttled) || errors.Is(err, pipeline.ErrDigestTaken) || pipeline.KindOf(err) != pipeline.KindThrottled || !strings.Contains(err.Error(), "github") {
			t.Errorf("%s = %v (kind %v); want the throttling error, naming the source", name, err, pipeline.KindOf(err))
		}
	}
}
