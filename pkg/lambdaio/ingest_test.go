package lambdaio_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/event"
	"hookline/pkg/lambdaio"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/publishertest"
	"hookline/pkg/problem"
	"hookline/pkg/sender"
	"hookline/pkg/source"
)

const ghSecret = "it's-a-secret-0123"

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func sources(t testing.TB) *source.Set {
	t.Helper()
	set, err := source.Parse([]byte(`{"sources": {
		"github":  {"scheme": "github", "secrets": ["old-secret-0123456", "it's-a-secret-0123"]},
		"postman": {"scheme": "token",  "secrets": ["dev-token-0123456"]}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func newHandler(t testing.TB, pub pipeline.Publisher, logTo io.Writer) *lambdaio.IngestHandler {
	return &lambdaio.IngestHandler{
		Service: &pipeline.Ingest{Sources: sources(t), Publisher: pub, Now: func() time.Time { return now }},
		Log:     slog.New(slog.NewJSONHandler(logTo, nil)),
	}
}

func githubRequest(body, delivery string) events.APIGatewayV2HTTPRequest {
	signed, err := sender.Sign(sender.Request{Scheme: sender.GitHub, Secret: ghSecret, Body: []byte(body), Type: "push", DeliveryID: delivery})
	if err != nil {
		panic(err) // only for an empty secret
	}
	headers := map[string]string{"user-agent": "GitHub-Hookshot/abc"}
	for _, k := range []string{"Content-Type", "X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256"} {
		headers[strings.ToLower(k)] = signed.Get(k) // API Gateway lower-cases header names
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "ANY /webhooks/{source}", RawPath: "/webhooks/github",
		Headers:        headers,
		PathParameters: map[string]string{"source": "github"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-1",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/webhooks/github"},
		},
		Body: body,
	}
}

func TestIngestAccepts(t *testing.T) {
	t.Parallel()
	pub := &publishertest.Recorder{}
	var logs strings.Builder
	h := newHandler(t, pub, &logs)
	body := `{"ref":"refs/heads/main","zen":"Keep it logically awesome."}`
	resp, err := h.Handle(context.Background(), githubRequest(body, "72d3162e-cc78-11e3-81ab-4c9367dc0958"))
	if err != nil {
		t.Fatal(err)
	}
	// GitHub signs no delivery id: the identity is the signed body.
	wantID := event.BodyID("github", []byte(body))
	if resp.StatusCode != http.StatusAccepted || resp.Body != `{"id":"`+wantID+`","status":"accepted"}` {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
	}
	if resp.Headers["Location"] != "/events/"+wantID || resp.Headers["Content-Type"] != "application/json" {
		t.Errorf("headers = %v", resp.Headers)
	}
	if pub.Len() != 1 {
		t.Fatalf("published %d messages, want 1", pub.Len())
	}
	m := pub.All()[0]
	if m.ID != wantID || m.Source != "github" || m.Type != "push" {
		t.Errorf("message attrs = %+v", m)
	}
	e, err := event.Decode(m.Body)
	if err != nil {
		t.Fatalf("published body is not an event: %v", err)
	}
	if string(e.Data) != body || e.DeliveryID != "72d3162e-cc78-11e3-81ab-4c9367dc0958" || !e.ReceivedAt.Equal(now) {
		t.Errorf("event = %+v", e)
	}
	wantV := event.Verification{Scheme: "github", Key: 1, BodySHA256: sha256.Sum256([]byte(body)), SignedID: true}
	if e.Verification != wantV {
		t.Errorf("verification = %+v, want %+v", e.Verification, wantV)
	}
	// One JSON log line with the id, and never the signature or secret.
	var line map[string]any
	if err := json.Unmarshal([]byte(logs.String()), &line); err != nil {
		t.Fatalf("log is not one JSON line: %q", logs.String())
	}
	if line["event_id"] != wantID || line["status"] != float64(202) || line["type"] != "push" || line["source"] != "github" {
		t.Errorf("log line = %v", line)
	}
	if strings.Contains(logs.String(), "sha256=") || strings.Contains(logs.String(), ghSecret) {
		t.Errorf("log leaks a signature or secret: %s", logs.String())
	}
}

func TestIngestRetrySameID(t *testing.T) {
	t.Parallel()
	pub := &publishertest.Recorder{}
	h := newHandler(t, pub, io.Discard)
	r1, _ := h.Handle(context.Background(), githubRequest(`{"a":1}`, "d-1"))
	r2, _ := h.Handle(context.Background(), githubRequest(`{"a":1}`, "d-1"))
	r3, _ := h.Handle(context.Background(), githubRequest(`{"a":2}`, "d-2"))
	if r1.StatusCode != 202 || r1.Body != r2.Body {
		t.Errorf("retried delivery got a new id: %s vs %s", r1.Body, r2.Body)
	}
	if r1.Body == r3.Body {
		t.Errorf("a new delivery got the old id: %s", r3.Body)
	}
}

func TestIngestBase64Body(t *testing.T) {
	t.Parallel()
	pub := &publishertest.Recorder{}
	h := newHandler(t, pub, io.Discard)
	body := "\x00\x01\x02binary"
	req := githubRequest(body, "d-bin")
	req.Headers["content-type"] = "application/octet-stream"
	req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
	resp, _ := h.Handle(context.Background(), req)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
	}
	e, err := event.Decode(pub.All()[0].Body)
	if err != nil || string(e.DataBase64) != body {
		t.Fatalf("event = %+v, %v; want the decoded bytes in data_base64", e, err)
	}
}

func TestIngestProblems(t *testing.T) {
	t.Parallel()
	body := `{"a":1}`
	tests := []struct {
		name       string
		edit       func(*events.APIGatewayV2HTTPRequest)
		pubErr     error
		wantStatus int
		wantDetail string
	}{
		{"browser GET", func(r *events.APIGatewayV2HTTPRequest) { r.RequestContext.HTTP.Method = "GET" }, nil, 405, "GET is not allowed on /webhooks/github; use POST"},
		{"unknown source", func(r *events.APIGatewayV2HTTPRequest) { r.PathParameters["source"] = "nope" }, nil, 404, `no source named "nope" is configured`},
		{"missing signature", func(r *events.APIGatewayV2HTTPRequest) { delete(r.Headers, "x-hub-signature-256") }, nil, 401, "missing signature"},
		{"tampered body", func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"a":2}` }, nil, 401, "no matching signature"},
		{"compressed", func(r *events.APIGatewayV2HTTPRequest) { r.Headers["content-encoding"] = "gzip" }, nil, 415, `Content-Encoding "gzip" is not accepted`},
		{"bad base64", func(r *events.APIGatewayV2HTTPRequest) { r.Body, r.IsBase64Encoded = "!!", true }, nil, 400, "base64"},
		{"bus down", func(*events.APIGatewayV2HTTPRequest) {}, errors.New("dial tcp 10.0.0.1:443: i/o timeout"), 503, "the event bus is unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pub := &publishertest.Recorder{}
			pub.Fail(tt.pubErr)
			req := githubRequest(body, "d-1")
			tt.edit(&req)
			resp, err := newHandler(t, pub, io.Discard).Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var p problem.Details
			if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
				t.Fatalf("body is not a problem: %q", resp.Body)
			}
			if resp.StatusCode != tt.wantStatus || p.Status != tt.wantStatus || resp.Headers["Content-Type"] != "application/problem+json" {
				t.Errorf("got %d (%d, %s), want %d", resp.StatusCode, p.Status, resp.Headers["Content-Type"], tt.wantStatus)
			}
			if !strings.Contains(p.Detail, tt.wantDetail) || p.Title != http.StatusText(tt.wantStatus) || p.Type != "about:blank" {
				t.Errorf("problem = %+v, want detail containing %q", p, tt.wantDetail)
			}
			if strings.Contains(resp.Body, "10.0.0.1") || strings.Contains(resp.Body, ghSecret) {
				t.Errorf("problem leaks internals: %s", resp.Body)
			}
			if pub.Len() != 0 {
				t.Errorf("published %d messages on a failed request", pub.Len())
			}
		})
	}
}

func TestIngestTooLarge(t *testing.T) {
	t.Parallel()
	pub := &publishertest.Recorder{}
	// Binary bodies grow by a third in base64: 200 KiB of them no longer fits in 256 KiB.
	raw := strings.Repeat("\xff", 200*1024)
	req := githubRequest(raw, "d-big")
	req.Headers["content-type"] = "application/octet-stream"
	resp, _ := newHandler(t, pub, io.Discard).Handle(context.Background(), req)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(resp.Body, "bus message limit") {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
	}
	if pub.Len() != 0 {
		t.Error("published an over-size event")
	}
}

func TestIngestTokenFreshIDs(t *testing.T) {
	t.Parallel()
	pub := &publishertest.Recorder{}
	h := newHandler(t, pub, io.Discard)
	req := events.APIGatewayV2HTTPRequest{
		RawPath:        "/webhooks/postman",
		Headers:        map[string]string{"Authorization": "Bearer dev-token-0123456", "Content-Type": "text/plain"},
		PathParameters: map[string]string{"source": "postman"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}},
		Body:           "A new message has been published",
	}
	r1, _ := h.Handle(context.Background(), req)
	r2, _ := h.Handle(context.Background(), req)
	if r1.StatusCode != 202 || r2.StatusCode != 202 || r1.Body == r2.Body {
		t.Fatalf("two hand posts: %d %s / %d %s; want two accepted events with distinct ids", r1.StatusCode, r1.Body, r2.StatusCode, r2.Body)
	}
	e, _ := event.Decode(pub.All()[0].Body)
	if string(e.Data) != `"A new message has been published"` || e.Type != event.UnknownType {
		t.Errorf("event data = %s type = %s", e.Data, e.Type)
	}
	req.Headers["Idempotency-Key"] = "k-1"
	r3, _ := h.Handle(context.Background(), req)
	r4, _ := h.Handle(context.Background(), req)
	if r3.Body != r4.Body {
		t.Errorf("Idempotency-Key did not make the id stable: %s vs %s", r3.Body, r4.Body)
	}
}

// TestIngestBase64SizeBoundary: API Gateway's base64 bodies are measured before decoding. One
// that decodes to exactly MaxBodyBytes passes that check (and is only refused later, as an
// event too large for a bus message); one a few bytes longer is refused as a body, undecoded.
func TestIngestBase64SizeBoundary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n      int
		detail string
	}{
		{pipeline.MaxBodyBytes, "the event would be"},
		// The check sees whole base64 quanta: 3 bytes more is the first size it can tell apart.
		{pipeline.MaxBodyBytes + 3, fmt.Sprintf("the body is %d bytes", pipeline.MaxBodyBytes+3)},
	} {
		pub := &publishertest.Recorder{}
		raw := make([]byte, tc.n)
		req := githubRequest(string(raw), "d-b64") // signed over the decoded bytes
		req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString(raw), true
		req.Headers["content-type"] = "application/octet-stream"
		resp, _ := newHandler(t, pub, io.Discard).Handle(context.Background(), req)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(resp.Body, tc.detail) {
			t.Errorf("%d bytes in base64: %d %s; want 413 with %q", tc.n, resp.StatusCode, resp.Body, tc.detail)
		}
	}
}
