package lambdaio_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/internal/sink"
	"hookline/pkg/event"
	"hookline/pkg/lambdaio"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/publishertest"
)

// TestIngestLogLevels: one line per request, at a level an operator can alert on: server-side
// failures are errors, refusals warnings, acceptances info.
func TestIngestLogLevels(t *testing.T) {
	t.Parallel()
	logs := &sink.Buffer{}
	for _, tc := range []struct {
		name   string
		pubErr error
		edit   func(*events.APIGatewayV2HTTPRequest)
		status int
		level  string
	}{
		{"accepted", nil, func(*events.APIGatewayV2HTTPRequest) {}, 202, "INFO"},
		{"malformed (400)", nil, func(r *events.APIGatewayV2HTTPRequest) { r.Body, r.IsBase64Encoded = "!!", true }, 400, "WARN"},
		{"bad signature (401)", nil, func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"a":2}` }, 401, "WARN"},
		{"wrong method (405)", nil, func(r *events.APIGatewayV2HTTPRequest) { r.RequestContext.HTTP.Method = "GET" }, 405, "WARN"},
		{"bus down (503)", errors.New("sns: 500"), func(*events.APIGatewayV2HTTPRequest) {}, 503, "ERROR"},
	} {
		req := githubRequest(`{"a":1}`, "d-1")
		tc.edit(&req)
		pub := &publishertest.Recorder{}
		pub.Fail(tc.pubErr)
		resp, _ := newHandler(t, pub, logs).Handle(context.Background(), req)
		lines := logs.TakeLines(t)
		if resp.StatusCode != tc.status || len(lines) != 1 {
			t.Fatalf("%s: status %d, %d log lines; want %d and one line", tc.name, resp.StatusCode, len(lines), tc.status)
		}
		if l := lines[0]; l["level"] != tc.level || l["msg"] != "ingest" || l["status"] != float64(tc.status) || l["source"] != "github" {
			t.Errorf("%s: log line %v, want level %s", tc.name, l, tc.level)
		}
	}
	// Below the handler's level nothing is built or written.
	quietH := newHandler(t, &publishertest.Recorder{}, logs)
	quietH.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))
	req := githubRequest(`{"a":1}`, "d-1")
	req.Body = `{"a":2}`
	if resp, _ := quietH.Handle(context.Background(), req); resp.StatusCode != 401 || len(logs.TakeLines(t)) != 0 {
		t.Errorf("a 401 logged at level ERROR or above")
	}
}

// failingBlobs refuses every body, as S3 does when it is down or the role may not write.
type failingBlobs struct{}

func (failingBlobs) Put(context.Context, string, []byte, string) (string, error) {
	return "", errors.New("s3: AccessDenied")
}

// TestIngestFailureLogNamesEvent: when the bus or the body store fails, nothing is accepted
// (503), and the request's log line still names the event it would have been, the id a retry
// gets: every log line carries the event id.
func TestIngestFailureLogNamesEvent(t *testing.T) {
	t.Parallel()
	logs := &sink.Buffer{}
	large := `{"pad":"` + strings.Repeat("x", pipeline.MaxMessageBytes) + `"}`
	for _, tc := range []struct {
		name  string
		body  string
		blobs pipeline.BlobStore
	}{
		{"bus down", `{"a":1}`, nil},
		{"claim check fails", large, failingBlobs{}},
	} {
		pub := &publishertest.Recorder{}
		pub.Fail(errors.New("sns: 500"))
		var h *lambdaio.IngestHandler
		if tc.blobs == nil {
			h = newHandler(t, pub, logs)
		} else {
			h = newHandler(t, &publishertest.Recorder{}, logs)
			h.Service.Blobs = tc.blobs
		}
		resp, _ := h.Handle(context.Background(), githubRequest(tc.body, "d-1"))
		lines := logs.TakeLines(t)
		if resp.StatusCode != 503 || len(lines) != 1 {
			t.Fatalf("%s: %d, %d log lines; want 503 and one line", tc.name, resp.StatusCode, len(lines))
		}
		// A GitHub delivery's id is its body's hash: the id the 202 of a retry gives.
		want := event.BodyHashID("github", sha256.Sum256([]byte(tc.body)))
		if l := lines[0]; l["event_id"] != want || l["level"] != "ERROR" {
			t.Errorf("%s: log line %v, want event_id %s at ERROR", tc.name, l, want)
		}
	}
}

// failingHistory fails every read with err.
type failingHistory struct{ err error }

func (f failingHistory) Get(context.Context, string) (*event.Record, error) { return nil, f.err }
func (f failingHistory) List(context.Context, pipeline.Query) (pipeline.Page, error) {
	return pipeline.Page{}, f.err
}

// TestHistoryLogLevels: a store failure is an error in the log, a caller's mistake is not.
func TestHistoryLogLevels(t *testing.T) {
	t.Parallel()
	logs := &sink.Buffer{}
	id := event.DeliveryID("github", "d")
	for _, tc := range []struct {
		name   string
		err    error
		params map[string]string
		query  map[string]string
		status int
		level  string
		errLog bool
	}{
		{"store down on get", errors.New("dynamodb: 500"), map[string]string{"id": id}, nil, 500, "ERROR", true},
		{"store throttled on list", &pipeline.Error{Kind: pipeline.KindThrottled, Detail: "busy"}, nil, nil, 429, "INFO", true},
		{"unknown id", pipeline.ErrNotFound, map[string]string{"id": id}, nil, 404, "INFO", true},
		{"bad query", nil, nil, map[string]string{"limit": "0"}, 400, "INFO", true},
	} {
		h := &lambdaio.HistoryHandler{History: failingHistory{tc.err}, Log: slog.New(slog.NewJSONHandler(logs, nil)), Now: func() time.Time { return storedAt }}
		resp, err := h.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
			RawPath: "/events", PathParameters: tc.params, QueryStringParameters: tc.query,
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}},
		})
		lines := logs.TakeLines(t)
		if err != nil || resp.StatusCode != tc.status || len(lines) != 1 {
			t.Fatalf("%s: %d (%v), %d log lines; want %d and one line", tc.name, resp.StatusCode, err, len(lines), tc.status)
		}
		l := lines[0]
		if l["level"] != tc.level || l["status"] != float64(tc.status) || (l["error"] != nil) != tc.errLog {
			t.Errorf("%s: log line %v, want level %s", tc.name, l, tc.level)
		}
	}
}

// TestHeaderNamesAnyCase: API Gateway lower-cases header names, hand-built requests may not;
// a name is found whatever its case, even when its only capital is an A or a Z.
func TestHeaderNamesAnyCase(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"authorization", "Authorization", "authoriZation", "AUTHORIZATION"} {
		req := events.APIGatewayV2HTTPRequest{
			RawPath:        "/webhooks/postman",
			Headers:        map[string]string{name: "Bearer dev-token-0123456", "content-type": "text/plain"},
			PathParameters: map[string]string{"source": "postman"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}},
			Body:           "hello",
		}
		if resp, _ := newHandler(t, &publishertest.Recorder{}, io.Discard).Handle(context.Background(), req); resp.StatusCode != 202 {
			t.Errorf("header %q: %d %s", name, resp.StatusCode, resp.Body)
		}
	}
}
