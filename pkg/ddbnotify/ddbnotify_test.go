package ddbnotify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"hookline/internal/ddbrecorder"
	"hookline/internal/testenv"
	"hookline/pkg/awsjson"
	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbnotify"
	"hookline/pkg/ddbstore"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/digesttest"
	"hookline/pkg/pipeline/storetest"
)

// notifierStore is what functions/notifier asks of its store.
type notifierStore interface {
	pipeline.NotifiedMarker
	pipeline.DigestStore
	Get(ctx context.Context, id string) (*event.Record, error)
}

var (
	due = time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	// Not in UTC, and a fraction with trailing zeros: the table's fixed format keeps them.
	at = time.Date(2026, 12, 2, 15, 0, 1, 120000000, time.FixedZone("CET", 3600))
)

// storedItem is the item ddbitem.Marshal writes for an event, as DynamoDB JSON.
func storedItem(t *testing.T, id string, notified bool) string {
	t.Helper()
	e := &event.Event{ID: id, Source: "github", Type: "push", Time: at, ReceivedAt: at, DeliveryID: "d-" + id}
	if err := e.SetData("application/json", []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	r := &event.Record{Event: e, StoredAt: at.Add(time.Second)}
	if notified {
		r.NotifiedAt = at.Add(2 * time.Second)
	}
	av, err := ddbitem.Marshal(r, at.AddDate(10, 0, 0)) // a TTL years ahead: a live event (one past it is not found)
	if err != nil {
		t.Fatal(err)
	}
	img, err := ddbitem.ToStreamImage(av)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(img)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// outcome sums up an error as the notifier tells errors apart.
func outcome(err error) string {
	var perr *pipeline.Error
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, pipeline.ErrNotFound):
		return "not found"
	case errors.Is(err, pipeline.ErrDigestTaken):
		return "digest taken"
	case errors.As(err, &perr) && perr.Kind == pipeline.KindThrottled:
		return "throttled"
	case errors.As(err, &perr):
		return fmt.Sprintf("kind %d", perr.Kind)
	}
	return "other error"
}

// The notifier's two stores of the table "events", which ddbrecorder.Pair builds over one
// recorder: ddbstore's, through the SDK's DynamoDB client, and ddbnotify's, as
// functions/notifier builds it.
func sdkStore(c *dynamodb.Client) (*ddbstore.Store, error)    { return ddbstore.New(c, "events") }
func notifyStore(c *awsjson.Client) (*ddbnotify.Store, error) { return ddbnotify.New(c, "events") }

// TestSameRequestsAsDDBStore: for each of the notifier's six operations, ddbnotify sends
// ddbstore's requests through the SDK's client value for value, and reads each answer as it
// does: the item or its absence, a mark or none, a failed condition (a duplicate mark, a taken
// digest), throttling (KindThrottled) and any other error.
func TestSameRequestsAsDDBStore(t *testing.T) {
	const id = "0190b4c2-0000-7000-8000-000000000001"
	const (
		empty     = `{}`
		condition = `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`
		throttled = `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`
		invalid   = `{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"bad"}`
	)
	ops := map[string]func(s notifierStore) (any, error){
		"MarkNotified": func(s notifierStore) (any, error) { return nil, s.MarkNotified(context.Background(), id, at) },
		"NotifiedAt":   func(s notifierStore) (any, error) { return s.NotifiedAt(context.Background(), id) },
		"Get":          func(s notifierStore) (any, error) { return s.Get(context.Background(), id) },
		"AddToDigest": func(s notifierStore) (any, error) {
			// Four ids that fall in different shards, so every key is compared.
			for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
				if err := s.AddToDigest(context.Background(), "github", due, id); err != nil {
					return nil, err
				}
			}
			return nil, nil
		},
		"TakeDigest": func(s notifierStore) (any, error) { return s.TakeDigest(context.Background(), "stripe", due) },
		"DoneDigest": func(s notifierStore) (any, error) { return nil, s.DoneDigest(context.Background(), "stripe", due) },
	}
	answers := []struct {
		first  string // if set, the first call's answer, status 400
		status int
		body   string
	}{
		{condition, http.StatusOK, empty},                                // MarkNotified: not marked, and the item is missing
		{condition, http.StatusOK, `{"Item":{"id":{"S":"` + id + `"}}}`}, // marked before
		{"", http.StatusOK, empty},
		{"", http.StatusOK, `{"Item":` + storedItem(t, id, false) + `}`},
		{"", http.StatusOK, `{"Item":` + storedItem(t, id, true) + `}`},
		{"", http.StatusOK, `{"Item":{"id":{"S":"` + id + `"},"notified_at":{"S":"2026-12-02T14:00:02.5Z"}}}`},
		{"", http.StatusOK, `{"Item":{"id":{"S":"` + id + `"}}}`},
		{"", http.StatusOK, `{"Attributes":{"ids":{"SS":["b","a"]},"taken":{"BOOL":true}}}`},
		{"", http.StatusOK, `{"Attributes":{"ids":{"SS":["c"]},"taken":{"BOOL":true},"done":{"BOOL":true}}}`},
		{"", http.StatusBadRequest, condition},
		{"", http.StatusBadRequest, throttled},
		{"", http.StatusBadRequest, invalid},
	}
	rec := ddbrecorder.New(t)
	sdk, ours := ddbrecorder.Pair(t, rec, sdkStore, notifyStore)
	outcomes := map[string]bool{}
	for name, op := range ops {
		for _, a := range answers {
			rec.Reply(a.status, a.body)
			var got [2][]ddbrecorder.Request
			var res [2]any
			var errs [2]error
			for i, s := range []notifierStore{sdk, ours} {
				if a.first != "" {
					rec.ReplyOnce(http.StatusBadRequest, a.first)
				}
				res[i], errs[i] = op(s)
				got[i] = rec.Take()
			}
			if len(got[0]) == 0 {
				t.Errorf("%s, answer %s: ddbstore made no request", name, a.first+a.body)
			}
			if diff := cmp.Diff(got[0], got[1]); diff != "" {
				t.Errorf("%s, answer %s: requests differ (-ddbstore +ddbnotify):\n%s", name, a.first+a.body, diff)
			}
			if diff := cmp.Diff(res[0], res[1]); diff != "" {
				t.Errorf("%s, answer %s: results differ (-ddbstore +ddbnotify):\n%s", name, a.first+a.body, diff)
			}
			if o, want := outcome(errs[1]), outcome(errs[0]); o != want {
				t.Errorf("%s, answer %s: %v (%s), ddbstore %v (%s)", name, a.first+a.body, errs[1], o, errs[0], want)
			}
			outcomes[name+": "+outcome(errs[0])] = true
		}
	}
	// The answers above reach every outcome the notifier tells apart, for each operation.
	for _, want := range []string{
		"MarkNotified: ok", "MarkNotified: not found", "MarkNotified: throttled", "MarkNotified: other error",
		"NotifiedAt: ok", "NotifiedAt: not found", "NotifiedAt: throttled", "NotifiedAt: other error",
		"Get: ok", "Get: not found", "Get: throttled", "Get: other error",
		"AddToDigest: ok", "AddToDigest: digest taken", "AddToDigest: throttled", "AddToDigest: other error",
		"TakeDigest: ok", "TakeDigest: throttled", "TakeDigest: other error",
		"DoneDigest: ok", "DoneDigest: throttled", "DoneDigest: other error",
	} {
		if !outcomes[want] {
			t.Errorf("no answer made %s", want)
		}
	}
}

// TestNotifiedAtReadsTheTableFormat: a mark reads back as the instant it names, in UTC as the
// table's times are (one written with an offset too), and a mark that is not RFC 3339 is an
// error naming the attribute and its value, by ddbnotify and ddbstore alike.
func TestNotifiedAtReadsTheTableFormat(t *testing.T) {
	const id = "0190b4c2-0000-7000-8000-000000000001"
	rec := ddbrecorder.New(t)
	sdk, ours := ddbrecorder.Pair(t, rec, sdkStore, notifyStore)
	mark := func(v string) { rec.Reply(http.StatusOK, `{"Item":{"id":{"S":"`+id+`"},"notified_at":{"S":"`+v+`"}}}`) }
	for name, s := range map[string]notifierStore{"ddbstore": sdk, "ddbnotify": ours} {
		for v, want := range map[string]time.Time{
			"2026-12-02T14:00:02.120000000Z": time.Date(2026, 12, 2, 14, 0, 2, 120000000, time.UTC),
			"2026-12-02T15:00:02.5+01:00":    time.Date(2026, 12, 2, 14, 0, 2, 500000000, time.UTC),
		} {
			mark(v)
			if got, err := s.NotifiedAt(context.Background(), id); err != nil || got != want {
				t.Errorf("%s: NotifiedAt of %s = %v, %v; want %v", name, v, got, err, want)
			}
		}
		mark("soon")
		if _, err := s.NotifiedAt(context.Background(), id); err == nil || !strings.Contains(err.Error(), `notified_at "soon" is not RFC 3339`) {
			t.Errorf("%s: NotifiedAt of soon = %v", name, err)
		}
	}
}

// TestControlIDs: the registry and the digests are not events: no call is made for them.
func TestControlIDs(t *testing.T) {
	rec := ddbrecorder.New(t)
	_, calls := rec.Clients(t)
	s, err := ddbnotify.New(calls, "events")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"~groups", "~"} {
		if err := s.MarkNotified(context.Background(), id, at); !errors.Is(err, pipeline.ErrNotFound) {
			t.Errorf("MarkNotified(%q) = %v", id, err)
		}
		if _, err := s.NotifiedAt(context.Background(), id); !errors.Is(err, pipeline.ErrNotFound) {
			t.Errorf("NotifiedAt(%q) = %v", id, err)
		}
		if _, err := s.Get(context.Background(), id); !errors.Is(err, pipeline.ErrNotFound) {
			t.Errorf("Get(%q) = %v", id, err)
		}
	}
	if n := len(rec.Take()); n != 0 {
		t.Errorf("%d requests for control ids", n)
	}
	if _, err := ddbnotify.New(nil, "events"); err == nil {
		t.Error("New without a client")
	}
	if _, err := ddbnotify.New(calls, ""); err == nil {
		t.Error("New without a table")
	}
}

var tableSeq atomic.Int64

// onDynalite returns a fresh events table on one dynalite: ddbstore's Store (which writes and
// lists events, as the subscriber and the history do) and ddbnotify's, as functions/notifier
// builds it.
func onDynalite(t *testing.T, endpoint string) (*ddbstore.Store, *ddbnotify.Store) {
	t.Helper()
	client := testenv.DynamoDB(t, endpoint)
	table := fmt.Sprintf("events-%d", tableSeq.Add(1))
	sdk := ddbrecorder.Table(t, client, table)
	calls, err := awsjson.New(t.Context(), aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("fake", "fake", "")}, awsjson.DynamoDB)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ddbnotify.New(calls, table)
	if err != nil {
		t.Fatal(err)
	}
	return sdk, s
}

// marker is a pipeline.Store whose marks and reads are ddbnotify's.
type marker struct {
	*ddbstore.Store
	n *ddbnotify.Store
}

func (m marker) MarkNotified(ctx context.Context, id string, at time.Time) error {
	return m.n.MarkNotified(ctx, id, at)
}

func (m marker) NotifiedAt(ctx context.Context, id string) (time.Time, error) {
	return m.n.NotifiedAt(ctx, id)
}

func (m marker) Get(ctx context.Context, id string) (*event.Record, error) { return m.n.Get(ctx, id) }

// TestContract runs the store's suite on dynalite with ddbnotify's MarkNotified, NotifiedAt
// and Get over events ddbstore wrote, and the digest store's suite on ddbnotify alone.
func TestContract(t *testing.T) {
	endpoint := testenv.StartDynalite(t)
	t.Run("Store", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) pipeline.Store {
			sdk, n := onDynalite(t, endpoint)
			return marker{sdk, n}
		})
	})
	t.Run("Digests", func(t *testing.T) {
		digesttest.Run(t, func(t *testing.T) pipeline.DigestStore { _, n := onDynalite(t, endpoint); return n })
	})
}
