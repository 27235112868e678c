// Package ddbrecorder is a DynamoDB endpoint on 127.0.0.1 for tests that hold a hand-written
// DynamoDB JSON adapter (ddbkeep, ddbput, ddbnotify) to the requests the SDK's client makes
// for ddbstore: it keeps each request's target and decoded body, and answers every call alike
// (or, for a two-call operation, the next ones as ReplyOnce says), or passes every call on to a
// real endpoint (dynalite, Forward) and gives its answer. Table is those tests' events table on
// such an endpoint.
package ddbrecorder

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hookline/pkg/awsjson"
	"hookline/pkg/ddbstore"
)

// Request is one call: its X-Amz-Target and its JSON body, decoded.
type Request struct {
	Target string
	Body   any
}

// Recorder records the calls it serves; it closes when the test ends.
type Recorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []Request
	status   int
	answer   string
	once     []reply // answered first, in order, before status and answer
	upstream string  // Forward's endpoint; "" answers from the fields above
}

type reply struct {
	status int
	answer string
}

// New starts a recorder that answers 200 with {} until Reply says otherwise.
func New(t testing.TB) *Recorder {
	rec := &Recorder{status: http.StatusOK, answer: `{}`}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("a request body that is not JSON: %q", b)
		}
		rec.mu.Lock()
		rec.requests = append(rec.requests, Request{r.Header.Get("X-Amz-Target"), body})
		status, answer := rec.status, rec.answer
		if len(rec.once) > 0 {
			status, answer = rec.once[0].status, rec.once[0].answer
			rec.once = rec.once[1:]
		}
		upstream := rec.upstream
		rec.mu.Unlock()
		if upstream != "" {
			status, answer = forward(t, upstream, r, b)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// Reply makes every later call (but those ReplyOnce has set) answer status with body answer.
func (rec *Recorder) Reply(status int, answer string) {
	rec.mu.Lock()
	rec.status, rec.answer = status, answer
	rec.mu.Unlock()
}

// ReplyOnce makes the next call (after those of earlier ReplyOnce calls) answer status with
// body answer; the calls after it answer as before.
func (rec *Recorder) ReplyOnce(status int, answer string) {
	rec.mu.Lock()
	rec.once = append(rec.once, reply{status, answer})
	rec.mu.Unlock()
}

// Forward makes every later call go to the DynamoDB endpoint upstream, whose answer it gives;
// "" stops it.
func (rec *Recorder) Forward(upstream string) {
	rec.mu.Lock()
	rec.upstream = upstream
	rec.mu.Unlock()
}

// forward sends r (its body b) to upstream with the same headers and returns the answer.
func forward(t testing.TB, upstream string, r *http.Request, b []byte) (int, string) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, upstream, bytes.NewReader(b))
	if err != nil {
		t.Errorf("forward: %v", err)
		return http.StatusBadGateway, `{}`
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("forward: %v", err)
		return http.StatusBadGateway, `{}`
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("forward: %v", err)
	}
	return resp.StatusCode, string(answer)
}

// Take returns the calls recorded since the last Take.
func (rec *Recorder) Take() []Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.requests
	rec.requests = nil
	return out
}

// Clients returns the two kinds of client of the recorder, region us-east-1, neither retrying:
// the SDK's DynamoDB client and an awsjson one.
func (rec *Recorder) Clients(t testing.TB) (*dynamodb.Client, *awsjson.Client) {
	t.Helper()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(rec.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}
	sdk := dynamodb.NewFromConfig(cfg)
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	calls, err := awsjson.New(context.Background(), cfg, awsjson.DynamoDB)
	if err != nil {
		t.Fatal(err)
	}
	return sdk, calls
}

// Pair builds the two sides a test compares over rec: sdk's, on the SDK's DynamoDB client
// (ddbstore's adapter), and ours, on the awsjson client (the hand-written adapter, as its
// function builds it), both from Clients; the test fails if either constructor does.
func Pair[S, O any](t testing.TB, rec *Recorder, sdk func(*dynamodb.Client) (S, error), ours func(*awsjson.Client) (O, error)) (S, O) {
	t.Helper()
	sdkClient, calls := rec.Clients(t)
	s, err := sdk(sdkClient)
	if err != nil {
		t.Fatal(err)
	}
	o, err := ours(calls)
	if err != nil {
		t.Fatal(err)
	}
	return s, o
}

// Table creates the events table named table through client (on dynalite, or a recorder that
// forwards to it) and returns ddbstore's Store of it, made with opts; the test fails if either
// fails.
func Table(t testing.TB, client *dynamodb.Client, table string, opts ...ddbstore.Option) *ddbstore.Store {
	t.Helper()
	if err := ddbstore.CreateTable(t.Context(), client, table); err != nil {
		t.Fatal(err)
	}
	s, err := ddbstore.New(client, table, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
