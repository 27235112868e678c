package ddbput_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"hookline/internal/ddbrecorder"
	"hookline/pkg/awsjson"
	"hookline/pkg/ddbput"
	"hookline/pkg/ddbstore"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// writers returns the two writers of the table "events", both sending to rec: ddbstore's,
// through the SDK's DynamoDB client, and ddbput's, as functions/subscriber builds it.
func writers(t *testing.T, rec *ddbrecorder.Recorder, retention time.Duration) (pipeline.EventWriter, pipeline.EventWriter) {
	t.Helper()
	return ddbrecorder.Pair(t, rec,
		func(c *dynamodb.Client) (pipeline.EventWriter, error) {
			return ddbstore.New(c, "events", ddbstore.WithRetention(retention))
		},
		func(c *awsjson.Client) (pipeline.EventWriter, error) { return ddbput.New(c, "events", retention) })
}

func record(t *testing.T, id, source, typ string, notified bool) *event.Record {
	t.Helper()
	at := time.Date(2026, 12, 2, 9, 30, 0, 123456789, time.FixedZone("CET", 3600))
	e := &event.Event{ID: id, Source: source, Type: typ, Time: at, ReceivedAt: at, DeliveryID: "d-" + id}
	if err := e.SetData("application/json", []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	r, err := event.NewRecord(e, at.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if notified {
		r.NotifiedAt = at.Add(2 * time.Second)
	}
	return r
}

// TestSameRequestsAsDDBStore: ddbput's requests are ddbstore's PutNew's, value for value — the
// registry's UpdateItem once per history partition, then the conditional PutItem of the item
// the history and the notifier read — with and without a TTL; a duplicate
// (ConditionalCheckFailedException) is false, no error, and throttling is KindThrottled, for
// both.
func TestSameRequestsAsDDBStore(t *testing.T) {
	ctx := context.Background()
	for _, retention := range []time.Duration{0, 90 * 24 * time.Hour} {
		rec := ddbrecorder.New(t)
		sdk, put := writers(t, rec, retention)
		for _, r := range []*event.Record{
			record(t, "0190b4c2-0000-7000-8000-000000000001", "github", "issues.opened", false),
			record(t, "0190b4c2-0000-7000-8000-000000000002", "github", "issues.closed", true), // same partition: no UpdateItem
			record(t, "0190b4c2-0000-7000-8000-000000000003", "stripe", "invoice.paid", false),
		} {
			var got [2][]ddbrecorder.Request
			for i, w := range []pipeline.EventWriter{sdk, put} {
				if ok, err := w.PutNew(ctx, r); !ok || err != nil {
					t.Fatalf("%T.PutNew = %v, %v", w, ok, err)
				}
				got[i] = rec.Take()
			}
			if diff := cmp.Diff(got[0], got[1]); diff != "" {
				t.Errorf("retention %v, event %s: requests differ (-ddbstore +ddbput):\n%s", retention, r.Event.ID, diff)
			}
		}
		rec.Reply(http.StatusBadRequest, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`)
		dup := record(t, "0190b4c2-0000-7000-8000-000000000001", "github", "issues.opened", false)
		for _, w := range []pipeline.EventWriter{sdk, put} {
			if ok, err := w.PutNew(ctx, dup); ok || err != nil {
				t.Errorf("%T.PutNew of a duplicate = %v, %v; want false, no error", w, ok, err)
			}
		}
		rec.Reply(http.StatusBadRequest, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`)
		var perr *pipeline.Error
		if ok, err := put.PutNew(ctx, dup); ok || !errors.As(err, &perr) || perr.Kind != pipeline.KindThrottled {
			t.Errorf("PutNew throttled = %v, %v; want a KindThrottled error", ok, err)
		}
		rec.Reply(http.StatusBadRequest, `{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"bad"}`)
		if ok, err := put.PutNew(ctx, record(t, "0190b4c2-0000-7000-8000-000000000009", "new", "x.y", false)); ok || err == nil || errors.As(err, &perr) {
			t.Errorf("PutNew (the registry refused) = %v, %v; want an error, not a pipeline.Error", ok, err)
		}
	}
}

// TestRefusesWhatDDBStoreRefuses: no call is made for a record without an event, an id in the
// control range, or an invalid event.
func TestRefusesWhatDDBStoreRefuses(t *testing.T) {
	rec := ddbrecorder.New(t)
	_, put := writers(t, rec, 0)
	bad := record(t, "0190b4c2-0000-7000-8000-000000000004", "github", "push", false)
	bad.Event.Source = ""
	var perr *pipeline.Error
	for name, r := range map[string]*event.Record{"nil": nil, "no event": {}, "invalid": bad} {
		if ok, err := put.PutNew(context.Background(), r); ok || err == nil {
			t.Errorf("%s: PutNew = %v, %v; want an error", name, ok, err)
		}
	}
	// "~" alone is in the control range too: the prefix's whole length, not more.
	for _, id := range []string{"~groups", "~"} {
		control := record(t, "0190b4c2-0000-7000-8000-000000000005", "github", "push", false)
		control.Event.ID = id
		if ok, err := put.PutNew(context.Background(), control); ok || !errors.As(err, &perr) || perr.Kind != pipeline.KindInvalid {
			t.Errorf("control id %q: PutNew = %v, %v; want KindInvalid", id, ok, err)
		}
	}
	if n := len(rec.Take()); n != 0 {
		t.Errorf("%d requests for records that are refused", n)
	}
	if _, err := ddbput.New(nil, "events", 0); err == nil {
		t.Error("New without a client")
	}
	calls, _ := awsjson.New(context.Background(), aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}, awsjson.DynamoDB)
	if _, err := ddbput.New(calls, "", 0); err == nil {
		t.Error("New without a table")
	}
	if _, err := ddbput.New(calls, "events", -time.Second); err == nil {
		t.Error("New with a negative retention")
	}
}
