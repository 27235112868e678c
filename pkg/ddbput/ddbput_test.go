package ddbput_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"hookline/pkg/awsjson"
	"hookline/pkg/ddbput"
	"hookline/pkg/ddbstore"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// recorder is a DynamoDB endpoint on 127.0.0.1 that keeps each request's target and decoded
// body, and answers every call with status and answer.
type recorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []any
	status   int
	answer   string
}

func newRecorder(t *testing.T) *recorder {
	rec := &recorder{status: http.StatusOK, answer: `{}`}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("a request body that is not JSON: %q", b)
		}
		rec.mu.Lock()
		rec.requests = append(rec.requests, []any{r.Header.Get("X-Amz-Target"), body})
		status, answer := rec.status, rec.answer
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) take() []any {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.requests
	rec.requests = nil
	return out
}

// writers returns the two writers of the table "events", both sending to rec: ddbstore's,
// through the SDK's DynamoDB client, and ddbput's, as functions/subscriber builds it.
func writers(t *testing.T, rec *recorder, retention time.Duration) (pipeline.EventWriter, pipeline.EventWriter) {
	t.Helper()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(rec.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}
	sdk, err := ddbstore.New(dynamodb.NewFromConfig(cfg), "events", ddbstore.WithRetention(retention))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	calls, err := awsjson.New(context.Background(), cfg, awsjson.DynamoDB)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ddbput.New(calls, "events", retention)
	if err != nil {
		t.Fatal(err)
	}
	return sdk, w
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
		rec := newRecorder(t)
		sdk, put := writers(t, rec, retention)
		for _, r := range []*event.Record{
			record(t, "0190b4c2-0000-7000-8000-000000000001", "github", "issues.opened", false),
			record(t, "0190b4c2-0000-7000-8000-000000000002", "github", "issues.closed", true), // same partition: no UpdateItem
			record(t, "0190b4c2-0000-7000-8000-000000000003", "stripe", "invoice.paid", false),
		} {
			var got [2][]any
			for i, w := range []pipeline.EventWriter{sdk, put} {
				if ok, err := w.PutNew(ctx, r); !ok || err != nil {
					t.Fatalf("%T.PutNew = %v, %v", w, ok, err)
				}
				got[i] = rec.take()
			}
			if diff := cmp.Diff(got[0], got[1]); diff != "" {
				t.Errorf("retention %v, event %s: requests differ (-ddbstore +ddbput):\n%s", retention, r.Event.ID, diff)
			}
		}
		rec.status, rec.answer = http.StatusBadRequest, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`
		dup := record(t, "0190b4c2-0000-7000-8000-000000000001", "github", "issues.opened", false)
		for _, w := range []pipeline.EventWriter{sdk, put} {
			if ok, err := w.PutNew(ctx, dup); ok || err != nil {
				t.Errorf("%T.PutNew of a duplicate = %v, %v; want false, no error", w, ok, err)
			}
		}
		rec.answer = `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`
		var perr *pipeline.Error
		if ok, err := put.PutNew(ctx, dup); ok || !errors.As(err, &perr) || perr.Kind != pipeline.KindThrottled {
			t.Errorf("PutNew throttled = %v, %v; want a KindThrottled error", ok, err)
		}
		rec.answer = `{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"bad"}`
		if ok, err := put.PutNew(ctx, record(t, "0190b4c2-0000-7000-8000-000000000009", "new", "x.y", false)); ok || err == nil || errors.As(err, &perr) {
			t.Errorf("PutNew (the registry refused) = %v, %v; want an error, not a pipeline.Error", ok, err)
		}
	}
}

// TestRefusesWhatDDBStoreRefuses: no call is made for a record without an event, an id in the
// control range, or an invalid event.
func TestRefusesWhatDDBStoreRefuses(t *testing.T) {
	rec := newRecorder(t)
	_, put := writers(t, rec, 0)
	bad := record(t, "0190b4c2-0000-7000-8000-000000000004", "github", "push", false)
	bad.Event.Source = ""
	control := record(t, "0190b4c2-0000-7000-8000-000000000005", "github", "push", false)
	control.Event.ID = "~groups"
	var perr *pipeline.Error
	for name, r := range map[string]*event.Record{"nil": nil, "no event": {}, "invalid": bad} {
		if ok, err := put.PutNew(context.Background(), r); ok || err == nil {
			t.Errorf("%s: PutNew = %v, %v; want an error", name, ok, err)
		}
	}
	if ok, err := put.PutNew(context.Background(), control); ok || !errors.As(err, &perr) || perr.Kind != pipeline.KindInvalid {
		t.Errorf("control id: PutNew = %v, %v; want KindInvalid", ok, err)
	}
	if n := len(rec.take()); n != 0 {
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
