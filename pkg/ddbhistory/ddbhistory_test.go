package ddbhistory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"hookline/internal/ddbrecorder"
	"hookline/internal/testenv"
	"hookline/pkg/awsjson"
	"hookline/pkg/ddbhistory"
	"hookline/pkg/ddbstore"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/storetest"
)

// The two readers of the table "events", which ddbrecorder.Pair builds over one recorder:
// ddbstore's, through the SDK's DynamoDB client, and ddbhistory's, as functions/history builds it.
func sdkReader(c *dynamodb.Client) (*ddbstore.Store, error)       { return ddbstore.New(c, "events") }
func historyReader(c *awsjson.Client) (*ddbhistory.Reader, error) { return ddbhistory.New(c, "events") }

// sorted orders requests by their JSON: List's first round of queries runs in parallel, so the
// order of its requests is not the code's.
func sorted(t *testing.T, reqs []ddbrecorder.Request) []ddbrecorder.Request {
	t.Helper()
	key := func(r ddbrecorder.Request) string {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	slices.SortFunc(reqs, func(a, b ddbrecorder.Request) int { return strings.Compare(key(a), key(b)) })
	return reqs
}

// TestSameRequestsAsDDBStore: on a table in dynalite holding events of several sources and
// type groups, ddbhistory makes ddbstore's requests, value for value, and answers the same
// records and cursors, for Get (found, notified, missing, a control id) and for List with
// every kind of filter, time bounds and a walk through the pages by cursor.
func TestSameRequestsAsDDBStore(t *testing.T) {
	ctx := context.Background()
	endpoint := testenv.StartDynalite(t)
	client := testenv.DynamoDB(t, endpoint)
	writer := ddbrecorder.Table(t, client, "events")
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	types := []struct{ source, typ string }{
		{"github", "issues.opened"}, {"github", "issues.closed"}, {"github", "push"},
		{"stripe", "invoice.paid"}, {"stripe", "invoice.created"}, {"shop", "orders/created"},
	}
	var ids []string
	for i := range 40 {
		ty := types[i%len(types)]
		at := base.Add(time.Duration(i/2) * time.Second) // pairs share a receive time: ties by id
		id := fmt.Sprintf("0190b4c2-0000-7000-8000-%012d", i)
		e := &event.Event{ID: id, Source: ty.source, Type: ty.typ, Time: at, ReceivedAt: at, DeliveryID: "d-" + id}
		if err := e.SetData("application/json", []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
		r, err := event.NewRecord(e, at.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := writer.PutNew(ctx, r); !ok || err != nil {
			t.Fatalf("PutNew %s = %v, %v", id, ok, err)
		}
		ids = append(ids, id)
	}
	if err := writer.MarkNotified(ctx, ids[3], base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}

	rec := ddbrecorder.New(t)
	rec.Forward(endpoint)
	sdk, hist := ddbrecorder.Pair(t, rec, sdkReader, historyReader)

	for _, id := range []string{ids[0], ids[3], "0190b4c2-0000-7000-8000-999999999999", ddbstore.GroupsID} {
		var got [2][]ddbrecorder.Request
		var recs [2]*event.Record
		var errs [2]error
		for i, h := range []pipeline.History{sdk, hist} {
			recs[i], errs[i] = h.Get(ctx, id)
			got[i] = rec.Take()
		}
		if diff := cmp.Diff(got[0], got[1]); diff != "" {
			t.Errorf("Get(%s): requests differ (-ddbstore +ddbhistory):\n%s", id, diff)
		}
		if diff := cmp.Diff(recs[0], recs[1]); diff != "" {
			t.Errorf("Get(%s): records differ (-ddbstore +ddbhistory):\n%s", id, diff)
		}
		if (errs[0] == nil) != (errs[1] == nil) || pipeline.KindOf(errs[0]) != pipeline.KindOf(errs[1]) || errors.Is(errs[0], pipeline.ErrNotFound) != errors.Is(errs[1], pipeline.ErrNotFound) {
			t.Errorf("Get(%s): errors %v and %v", id, errs[0], errs[1])
		}
	}

	queries := []pipeline.Query{
		{},
		{Limit: 7},
		{Source: "github"},
		{Type: "issues.opened"},
		{Type: "invoice."},
		{Source: "github", Type: "issues.closed", Limit: 2},
		{Source: "shop", Type: "orders/", Limit: 3},
		{Source: "github", Type: "push", Since: base.Add(3 * time.Second), Until: base.Add(15 * time.Second)},
		{Since: base.Add(5 * time.Second), Limit: 4},
		{Until: base.Add(10 * time.Second), Limit: 3},
		{Source: "nobody"},
		{Since: base.Add(time.Minute), Until: base},
		{Cursor: "!!"},
	}
	wholeTable := map[int]int{0: 1, 7: 6} // the pages of the queries of everything, by limit
	for _, q := range queries {
		pages, records, first := 0, 0, q
		for {
			var got [2][]ddbrecorder.Request
			var res [2]pipeline.Page
			var errs [2]error
			for i, h := range []pipeline.History{sdk, hist} {
				res[i], errs[i] = h.List(ctx, q)
				got[i] = sorted(t, rec.Take())
			}
			if diff := cmp.Diff(got[0], got[1]); diff != "" {
				t.Errorf("List(%+v): requests differ (-ddbstore +ddbhistory):\n%s", q, diff)
			}
			if diff := cmp.Diff(res[0], res[1]); diff != "" {
				t.Errorf("List(%+v): pages differ (-ddbstore +ddbhistory):\n%s", q, diff)
			}
			if (errs[0] == nil) != (errs[1] == nil) || pipeline.KindOf(errs[0]) != pipeline.KindOf(errs[1]) {
				t.Errorf("List(%+v): errors %v and %v", q, errs[0], errs[1])
			}
			records += len(res[1].Records)
			if pages++; res[1].Cursor == "" || pages > 40 {
				break
			}
			q.Cursor = res[1].Cursor
		}
		// The walks of the whole table see every event once, in pages of the limit.
		if want, walk := wholeTable[q.Limit]; walk && first == (pipeline.Query{Limit: q.Limit}) && (records != 40 || pages != want) {
			t.Errorf("List(%+v): %d records in %d pages; want 40 in %d", q, records, pages, want)
		}
	}

	// DynamoDB's refusals, through the same recorder: throttling is KindThrottled for both.
	rec.Forward("")
	rec.Reply(http.StatusBadRequest, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`)
	for _, call := range []func(pipeline.History) error{
		func(h pipeline.History) error { _, err := h.Get(ctx, ids[0]); return err },
		func(h pipeline.History) error { _, err := h.List(ctx, pipeline.Query{}); return err },
		func(h pipeline.History) error {
			_, err := h.List(ctx, pipeline.Query{Source: "github", Type: "push"})
			return err
		},
	} {
		for _, h := range []pipeline.History{sdk, hist} {
			if err := call(h); pipeline.KindOf(err) != pipeline.KindThrottled {
				t.Errorf("%T: %v (kind %v); want KindThrottled", h, err, pipeline.KindOf(err))
			}
		}
	}
}

// composite is the pipeline.Store of the contract suite: ddbstore writes and marks, ddbhistory
// reads.
type composite struct {
	*ddbstore.Store
	hist *ddbhistory.Reader
}

func (c composite) Get(ctx context.Context, id string) (*event.Record, error) {
	return c.hist.Get(ctx, id)
}

func (c composite) List(ctx context.Context, q pipeline.Query) (pipeline.Page, error) {
	return c.hist.List(ctx, q)
}

// TestContract runs the shared store suite against dynalite with ddbhistory reading everything
// the suite reads.
func TestContract(t *testing.T) {
	open := onDynalite(t, "events")
	storetest.Run(t, func(t *testing.T) pipeline.Store { return open(t) })
}

// TestExpiryContract runs the expiry suite with ddbhistory reading (dynalite has no TTL: an
// expired event stays, as on DynamoDB until its deletion comes round).
func TestExpiryContract(t *testing.T) {
	open := onDynalite(t, "expiry")
	storetest.RunExpiry(t, func(t *testing.T, retention time.Duration) pipeline.Store {
		return open(t, ddbstore.WithRetention(retention))
	})
}

// onDynalite starts dynalite and returns a function that makes a new table on it (prefix-1,
// prefix-2, …) and a store whose writes are ddbstore's, with opts, and whose history reads
// are ddbhistory's, through the recorder.
func onDynalite(t *testing.T, prefix string) func(*testing.T, ...ddbstore.Option) pipeline.Store {
	endpoint := testenv.StartDynalite(t)
	client := testenv.DynamoDB(t, endpoint)
	rec := ddbrecorder.New(t)
	rec.Forward(endpoint)
	_, calls := rec.Clients(t)
	var n atomic.Int64
	return func(t *testing.T, opts ...ddbstore.Option) pipeline.Store {
		table := fmt.Sprintf("%s-%d", prefix, n.Add(1))
		s := ddbrecorder.Table(t, client, table, opts...)
		h, err := ddbhistory.New(calls, table)
		if err != nil {
			t.Fatal(err)
		}
		return composite{s, h}
	}
}

// caller answers every call with answer (JSON) and counts the calls.
type caller struct {
	answer string
	calls  map[string]int
}

func (c *caller) Call(_ context.Context, op string, _, out any) error {
	c.calls[op]++
	if c.calls[op] > 20 { // a List that never gives up would loop here for ever
		return errors.New("still asking after 20 calls")
	}
	return json.Unmarshal([]byte(c.answer), out)
}

// TestListGivesUpOnUnprocessedKeys: keys DynamoDB keeps leaving unprocessed are asked for 9
// times in all (with back-off), then the List fails as throttled (429), not internal.
func TestListGivesUpOnUnprocessedKeys(t *testing.T) {
	t.Parallel()
	// One answer for both calls: Query reads Items, BatchGetItem reads UnprocessedKeys.
	c := &caller{calls: map[string]int{}, answer: `{
		"Items": [{"id": {"S": "a"}, "received_key": {"S": "2026-12-02T09:30:00.000000000Z#a"}}],
		"UnprocessedKeys": {"events": {"Keys": [{"id": {"S": "a"}}]}}}`}
	r, err := ddbhistory.New(c, "events")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.List(context.Background(), pipeline.Query{Source: "github", Type: "push"})
	if pipeline.KindOf(err) != pipeline.KindThrottled || c.calls["BatchGetItem"] != 9 {
		t.Errorf("List = %v (kind %v) after %d BatchGetItem calls; want throttled after 9", err, pipeline.KindOf(err), c.calls["BatchGetItem"])
	}
}

// TestGetRefusesBadItems: an item that is not an event's is an error that names what is wrong
// with it, not a record.
func TestGetRefusesBadItems(t *testing.T) {
	env := `{"specversion":"1.0","id":"a","source":"github","type":"push","time":"2026-12-02T09:30:00Z","receivedat":"2026-12-02T09:30:00Z"}`
	for name, item := range map[string]string{
		"no envelope":     `{"id": {"S": "a"}, "stored_at": {"S": "2026-12-02T09:30:01.000000000Z"}}`,
		"envelope not S":  `{"id": {"S": "a"}, "envelope": {"N": "1"}, "stored_at": {"S": "2026-12-02T09:30:01.000000000Z"}}`,
		"stored_at not S": fmt.Sprintf(`{"id": {"S": "a"}, "envelope": {"S": %q}, "stored_at": {"SS": ["x"]}}`, env),
	} {
		c := &caller{calls: map[string]int{}, answer: `{"Item": ` + item + `}`}
		r, err := ddbhistory.New(c, "events")
		if err != nil {
			t.Fatal(err)
		}
		if rec, err := r.Get(context.Background(), "a"); err == nil || rec != nil {
			t.Errorf("%s: Get = %v, %v; want an error", name, rec, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if _, err := ddbhistory.New(nil, "events"); err == nil {
		t.Error("New without a client")
	}
	if _, err := ddbhistory.New(&caller{}, ""); err == nil {
		t.Error("New without a table")
	}
}
