package ddbkeep_test

import (
	"context"
	"encoding/json"
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
	"hookline/pkg/ddbkeep"
	"hookline/pkg/ddbstore"
	"hookline/pkg/pipeline"
)

// recorder is a DynamoDB endpoint on 127.0.0.1 that keeps each request's target and decoded
// body, and answers every call with answer (or {}).
type recorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	status   int
	answer   string
}

type request struct {
	Target string
	Body   any
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
		rec.requests = append(rec.requests, request{r.Header.Get("X-Amz-Target"), body})
		status, answer := rec.status, rec.answer
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) take() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.requests
	rec.requests = nil
	return out
}

// writers returns the quarantine's two writers of the table "events", both sending to rec:
// ddbstore's, through the SDK's DynamoDB client, and ddbkeep's, as functions/ingest builds it.
func writers(t *testing.T, rec *recorder) (*ddbstore.Rejected, *ddbkeep.Writer) {
	t.Helper()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(rec.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}
	sdk, err := ddbstore.NewRejected(dynamodb.NewFromConfig(cfg), "events")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	calls, err := awsjson.New(context.Background(), cfg, awsjson.DynamoDB)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ddbkeep.New(calls, "events")
	if err != nil {
		t.Fatal(err)
	}
	return sdk, w
}

// TestSameRequestsAsDDBStore: ddbkeep's PutItem and UpdateItem are ddbstore's, value for value
// — the items `hookline rejected` reads and the counters every ingest instance shares — and
// a spent allowance (ConditionalCheckFailedException) is false, no error, for both.
func TestSameRequestsAsDDBStore(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder(t)
	sdk, keep := writers(t, rec)
	at := time.Date(2026, 12, 2, 9, 30, 0, 123456789, time.FixedZone("CET", 3600))
	full := &pipeline.Rejection{
		ID: "01a2a000-0000-7000-8000-000000000001", Source: "github", Reason: pipeline.ReasonUnauthorized,
		Detail: "signature does not match", ReceivedAt: at, SourceIP: "192.0.2.7", RawPath: "/webhooks/github",
		RawQuery: "a=1&b=2", Header: map[string]string{"content-type": "application/json", "x-hub-signature-256": pipeline.Redacted},
		Sealed: []byte{1, 2, 3}, Body: []byte(`{"zen":"x"}`), BodySize: 11,
	}
	for name, r := range map[string]*pipeline.Rejection{
		"every attribute": full,
		"the fewest":      {ID: "01a2a000-0000-7000-8000-000000000002", Source: "", Reason: pipeline.ReasonNotFound, ReceivedAt: at},
		"empty, not nil":  {ID: "01a2a000-0000-7000-8000-000000000003", Source: "x", Reason: pipeline.ReasonUnauthorized, ReceivedAt: at, Header: map[string]string{}, Sealed: []byte{}, Body: []byte{}},
	} {
		if err := sdk.Keep(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := keep.Keep(ctx, r); err != nil {
			t.Fatal(err)
		}
		got := rec.take()
		if len(got) != 2 {
			t.Fatalf("%s: %d requests, want 2", name, len(got))
		}
		if diff := cmp.Diff(got[0], got[1]); diff != "" {
			t.Errorf("%s: PutItem differs (-ddbstore +ddbkeep):\n%s", name, diff)
		}
	}
	for _, tc := range []struct {
		key    string
		minute int64
		limit  int
	}{{"github", 29_700_000, 10}, {"", 29_700_001, 1}} {
		for _, w := range []pipeline.KeepQuota{sdk, keep} {
			if ok, err := w.Take(ctx, tc.key, tc.minute, tc.limit); !ok || err != nil {
				t.Fatalf("%T.Take = %v, %v", w, ok, err)
			}
		}
		got := rec.take()
		if diff := cmp.Diff(got[0], got[1]); diff != "" {
			t.Errorf("UpdateItem differs (-ddbstore +ddbkeep):\n%s", diff)
		}
	}

	rec.status, rec.answer = http.StatusBadRequest, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`
	for _, w := range []pipeline.KeepQuota{sdk, keep} {
		if ok, err := w.Take(ctx, "github", 29_700_000, 10); ok || err != nil {
			t.Errorf("%T.Take with the allowance spent = %v, %v; want false, no error", w, ok, err)
		}
	}
	rec.answer = `{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"bad"}`
	if ok, err := keep.Take(ctx, "github", 29_700_000, 10); ok || err == nil {
		t.Errorf("Take answered ValidationException = %v, %v; want an error", ok, err)
	}
	if err := keep.Keep(ctx, full); err == nil {
		t.Error("Keep answered ValidationException: no error")
	}
	if err := keep.Keep(ctx, &pipeline.Rejection{}); err == nil {
		t.Error("Keep of a rejection without an id: no error")
	}
}

func TestNew(t *testing.T) {
	rec := newRecorder(t)
	_, keep := writers(t, rec)
	if keep == nil {
		t.Fatal("no writer")
	}
	if _, err := ddbkeep.New(nil, "events"); err == nil {
		t.Error("New without a client")
	}
	calls, _ := awsjson.New(context.Background(), aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}, awsjson.DynamoDB)
	if _, err := ddbkeep.New(calls, ""); err == nil {
		t.Error("New without a table")
	}
}
