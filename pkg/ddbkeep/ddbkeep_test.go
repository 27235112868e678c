package ddbkeep_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"hookline/internal/ddbrecorder"
	"hookline/pkg/awsjson"
	"hookline/pkg/ddbkeep"
	"hookline/pkg/ddbstore"
	"hookline/pkg/pipeline"
)

// The quarantine's two writers of the table "events", which ddbrecorder.Pair builds over one
// recorder: ddbstore's, through the SDK's DynamoDB client, and ddbkeep's, as functions/ingest
// builds it.
func sdkWriter(c *dynamodb.Client) (*ddbstore.Rejected, error) {
	return ddbstore.NewRejected(c, "events")
}
func keepWriter(c *awsjson.Client) (*ddbkeep.Writer, error) { return ddbkeep.New(c, "events") }

// TestSameRequestsAsDDBStore: ddbkeep's PutItem and UpdateItem are ddbstore's, value for value
// — the items `hookline rejected` reads and the counters every ingest instance shares — and
// a spent allowance (ConditionalCheckFailedException) is false, no error, for both.
func TestSameRequestsAsDDBStore(t *testing.T) {
	ctx := context.Background()
	rec := ddbrecorder.New(t)
	sdk, keep := ddbrecorder.Pair(t, rec, sdkWriter, keepWriter)
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
		got := rec.Take()
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
		got := rec.Take()
		if diff := cmp.Diff(got[0], got[1]); diff != "" {
			t.Errorf("UpdateItem differs (-ddbstore +ddbkeep):\n%s", diff)
		}
	}

	rec.Reply(http.StatusBadRequest, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`)
	for _, w := range []pipeline.KeepQuota{sdk, keep} {
		if ok, err := w.Take(ctx, "github", 29_700_000, 10); ok || err != nil {
			t.Errorf("%T.Take with the allowance spent = %v, %v; want false, no error", w, ok, err)
		}
	}
	rec.Reply(http.StatusBadRequest, `{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"bad"}`)
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
	rec := ddbrecorder.New(t)
	_, keep := ddbrecorder.Pair(t, rec, sdkWriter, keepWriter)
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
