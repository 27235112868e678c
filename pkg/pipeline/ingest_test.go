package pipeline_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/publishertest"
	"hookline/pkg/source"
)

const (
	handToken = "hand-token-0123456"
	ghSecret  = "pipeline-github-secret"
	tsSecret  = "pipeline-hmac-ts-secret"
)

var received = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

// header is a verify.Header over lower-case names.
type header map[string]string

func (h header) Get(name string) string { return h[name] }

// failingSources is a Sources whose config cannot be read.
type failingSources struct{ err error }

func (f failingSources) Lookup(context.Context, string) (*source.Source, bool, error) {
	return nil, false, f.err
}

// limiter refuses with wait when wait > 0 and records the time it was asked at.
type limiter struct {
	wait  time.Duration
	asked []time.Time
}

func (l *limiter) Allow(_ *source.Source, now time.Time) (time.Duration, bool) {
	l.asked = append(l.asked, now)
	return l.wait, l.wait <= 0
}

func ingestSources(t testing.TB) *source.Set {
	t.Helper()
	set, err := source.Parse([]byte(`{"sources": {
		"hand":   {"scheme": "token", "secrets": ["` + handToken + `"]},
		"gh":     {"scheme": "github", "secrets": ["pipeline-retired-secret", "` + ghSecret + `"]},
		"fenced": {"scheme": "token", "secrets": ["` + handToken + `"], "allow": ["192.0.2.0/24"]},
		"ts":     {"scheme": "hmac-sha256", "header": "X-Sig", "timestamp_header": "X-Ts", "template": "{timestamp}.{body}", "secrets": ["` + tsSecret + `"]}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func newIngest(t testing.TB, b *publishertest.Recorder) *pipeline.Ingest {
	return &pipeline.Ingest{Sources: ingestSources(t), Publisher: b, Now: func() time.Time { return received }}
}

// handRequest is a token-authenticated JSON post with an Idempotency-Key, so its id is fixed.
func handRequest(body string) pipeline.IngestRequest {
	return pipeline.IngestRequest{
		Source: "hand",
		Header: header{"authorization": "Bearer " + handToken, "content-type": "application/json", "idempotency-key": "k-1"},
		Body:   []byte(body),
	}
}

func ghRequest(body string) pipeline.IngestRequest {
	mac := hmac.New(sha256.New, []byte(ghSecret))
	mac.Write([]byte(body))
	return pipeline.IngestRequest{
		Source: "gh",
		Header: header{"x-hub-signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil)), "x-github-event": "push",
			"x-github-delivery": "d-7", "content-type": "application/json"},
		Body: []byte(body),
	}
}

// jsonBody is a JSON document of exactly n bytes (n ≥ 8).
func jsonBody(n int) string {
	return `{"a":"` + strings.Repeat("x", n-8) + `"}`
}

// TestIngestBodyLimitBoundary: a body of exactly MaxBodyBytes is read further (and here only
// refused because its envelope cannot fit a bus message); one byte more is refused as a body.
func TestIngestBodyLimitBoundary(t *testing.T) {
	t.Parallel()
	b := &publishertest.Recorder{}
	in := newIngest(t, b)
	_, err := in.Accept(context.Background(), handRequest(jsonBody(pipeline.MaxBodyBytes)))
	if pipeline.KindOf(err) != pipeline.KindTooLarge || !strings.Contains(pipeline.DetailOf(err), "the event would be") {
		t.Errorf("body of exactly %d bytes: %v; want it read, then refused as a message over the limit", pipeline.MaxBodyBytes, err)
	}
	_, err = in.Accept(context.Background(), handRequest(jsonBody(pipeline.MaxBodyBytes+1)))
	want := fmt.Sprintf("the body is %d bytes, over the %d-byte limit", pipeline.MaxBodyBytes+1, pipeline.MaxBodyBytes)
	if pipeline.KindOf(err) != pipeline.KindTooLarge || !strings.Contains(pipeline.DetailOf(err), want) {
		t.Errorf("body of %d bytes: %v; want %q", pipeline.MaxBodyBytes+1, err, want)
	}
	if d := pipeline.BodyTooLarge(7).Detail; !strings.HasPrefix(d, "the body is 7 bytes") {
		t.Errorf("BodyTooLarge(7) = %q", d)
	}
	if b.Len() != 0 {
		t.Errorf("published %d over-size messages", b.Len())
	}
}

// TestIngestMessageLimitBoundary finds the body length whose message is exactly
// MaxMessageBytes (a JSON body travels verbatim, so the message grows byte for byte with it):
// that one is published, one byte more is refused with the message size in the detail.
func TestIngestMessageLimitBoundary(t *testing.T) {
	t.Parallel()
	b := &publishertest.Recorder{}
	in := newIngest(t, b)
	const probe = 100
	if _, err := in.Accept(context.Background(), handRequest(jsonBody(probe))); err != nil {
		t.Fatal(err)
	}
	n := probe + pipeline.MaxMessageBytes - b.All()[0].Size()
	if _, err := in.Accept(context.Background(), handRequest(jsonBody(n))); err != nil {
		t.Fatalf("message of exactly %d bytes refused: %v", pipeline.MaxMessageBytes, err)
	}
	if got := b.All()[1].Size(); got != pipeline.MaxMessageBytes {
		t.Fatalf("message size %d, want exactly %d (the envelope no longer grows byte for byte?)", got, pipeline.MaxMessageBytes)
	}
	_, err := in.Accept(context.Background(), handRequest(jsonBody(n+1)))
	want := fmt.Sprintf("the event would be %d bytes, over the %d-byte bus message limit", pipeline.MaxMessageBytes+1, pipeline.MaxMessageBytes)
	if pipeline.KindOf(err) != pipeline.KindTooLarge || !strings.Contains(pipeline.DetailOf(err), want) {
		t.Errorf("one byte over: %v; want %q", err, want)
	}
	if b.Len() != 2 {
		t.Errorf("published %d messages, want the 2 that fit", b.Len())
	}
}

func TestMessageSize(t *testing.T) {
	t.Parallel()
	m := pipeline.Message{ID: "x", Source: "github", Type: "push", Body: []byte("12345")}
	// SNS counts the body and each attribute's name, type ("String") and value.
	if got, want := m.Size(), 5+len("type")+len("String")+len("push")+len("source")+len("String")+len("github"); got != want {
		t.Errorf("Size = %d, want %d", got, want)
	}
}

func TestIngestRefusals(t *testing.T) {
	t.Parallel()
	readErr := errors.New("secretsmanager: AccessDenied")
	busErr := errors.New("dial tcp 10.0.0.9:443: i/o timeout")
	tests := []struct {
		name    string
		sources pipeline.Sources
		req     func() pipeline.IngestRequest
		busErr  error
		kind    pipeline.Kind
		detail  string
		cause   error
	}{
		{"config unreadable", failingSources{readErr}, func() pipeline.IngestRequest { return handRequest(`{}`) }, nil,
			pipeline.KindUnavailable, "the sources config cannot be read right now; retry later", readErr},
		{"unknown source", nil, func() pipeline.IngestRequest { r := handRequest(`{}`); r.Source = "nope"; return r }, nil,
			pipeline.KindNotFound, `no source named "nope" is configured`, nil},
		{"address unknown", nil, func() pipeline.IngestRequest { r := handRequest(`{}`); r.Source = "fenced"; return r }, nil,
			pipeline.KindForbidden, `source "fenced" accepts only listed addresses, and the caller's address is unknown`, nil},
		{"address not listed", nil, func() pipeline.IngestRequest {
			r := handRequest(`{}`)
			r.Source, r.SourceIP = "fenced", netip.MustParseAddr("::ffff:198.51.100.7")
			return r
		}, nil, pipeline.KindForbidden, `source "fenced" does not accept requests from 198.51.100.7`, nil},
		{"compressed", nil, func() pipeline.IngestRequest {
			r := handRequest(`{}`)
			r.Header.(header)["content-encoding"] = "gzip"
			return r
		}, nil, pipeline.KindUnsupportedMedia, `Content-Encoding "gzip" is not accepted`, nil},
		{"bad token", nil, func() pipeline.IngestRequest {
			r := handRequest(`{}`)
			r.Header.(header)["authorization"] = "Bearer wrong-token-0123456"
			return r
		}, nil, pipeline.KindUnauthorized, "", nil},
		{"multipart", nil, func() pipeline.IngestRequest {
			r := handRequest(`{}`)
			r.Header.(header)["content-type"] = "multipart/form-data; boundary=x"
			return r
		}, nil, pipeline.KindUnsupportedMedia, "multipart/form-data bodies are not accepted", event.ErrUnsupportedMedia},
		{"Content-Type twice", nil, func() pipeline.IngestRequest {
			r := handRequest(`{}`)
			r.Header.(header)["content-type"] = "application/json,text/plain" // as API Gateway joins a repeated header
			return r
		}, nil, pipeline.KindInvalid, "Content-Type holds more than one media type", nil},
		{"invalid JSON", nil, func() pipeline.IngestRequest { return handRequest(`{"a":`) }, nil,
			pipeline.KindInvalid, "body is not valid JSON", event.ErrInvalidJSON},
		{"bus down", nil, func() pipeline.IngestRequest { return handRequest(`{}`) }, busErr,
			pipeline.KindUnavailable, "the event bus is unavailable; nothing was accepted, retry later", busErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &publishertest.Recorder{}
			b.Fail(tt.busErr)
			in := newIngest(t, b)
			if tt.sources != nil {
				in.Sources = tt.sources
			}
			acc, err := in.Accept(context.Background(), tt.req())
			// A failed publish, and a body that does not fit its Content-Type (refused once the
			// id is known), name the event they would have been (for the log lines); nothing
			// refused earlier has an id.
			named := tt.busErr != nil || errors.Is(tt.cause, event.ErrUnsupportedMedia) || errors.Is(tt.cause, event.ErrInvalidJSON)
			if err == nil || (acc.ID != "") != named {
				t.Fatalf("Accept = %+v, %v; want a refusal, with the event's id %v", acc, err, named)
			}
			if k := pipeline.KindOf(err); k != tt.kind {
				t.Errorf("kind %v, want %v (%v)", k, tt.kind, err)
			}
			if d := pipeline.DetailOf(err); !strings.Contains(d, tt.detail) || d == "" {
				t.Errorf("detail %q, want it to contain %q", d, tt.detail)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("error %v does not wrap %v", err, tt.cause)
			}
			if strings.Contains(pipeline.DetailOf(err), "10.0.0.9") || strings.Contains(pipeline.DetailOf(err), "AccessDenied") {
				t.Errorf("detail leaks the cause: %q", pipeline.DetailOf(err))
			}
			if b.Len() != 0 {
				t.Errorf("published %d messages on a refusal", b.Len())
			}
		})
	}
}

// A source over its rate is refused with KindThrottled and the limiter's wait, before any
// signature work; Content-Encoding "identity" is no encoding at all.
func TestIngestRateLimit(t *testing.T) {
	t.Parallel()
	b := &publishertest.Recorder{}
	lim := &limiter{wait: 1500 * time.Millisecond}
	in := newIngest(t, b)
	in.Limiter = lim
	req := handRequest(`{}`)
	req.Header.(header)["authorization"] = "Bearer wrong-token-0123456" // never checked
	_, err := in.Accept(context.Background(), req)
	if pipeline.KindOf(err) != pipeline.KindThrottled || pipeline.RetryAfterOf(err) != 1500*time.Millisecond ||
		!strings.Contains(pipeline.DetailOf(err), `source "hand" is over its rate limit`) {
		t.Fatalf("over the rate: %v (retry after %v)", err, pipeline.RetryAfterOf(err))
	}
	if len(lim.asked) != 1 || !lim.asked[0].Equal(received) {
		t.Errorf("limiter asked at %v, want once at the receive time", lim.asked)
	}
	lim.wait = 0
	req = handRequest(`{}`)
	req.Header.(header)["content-encoding"] = "Identity"
	if _, err := in.Accept(context.Background(), req); err != nil || b.Len() != 1 {
		t.Fatalf("under the rate with Content-Encoding identity: %v, %d published", err, b.Len())
	}
}

func TestIngestIdentityAndEvidence(t *testing.T) {
	t.Parallel()
	b := &publishertest.Recorder{}
	in := newIngest(t, b)
	ctx := context.Background()

	// A trusted Idempotency-Key names the event; the key index is the matching secret's.
	acc, err := in.Accept(ctx, handRequest(`{"type":"x"}`))
	if err != nil || acc.ID != event.DeliveryID("hand", "k-1") || acc.Verification.Key != 0 || acc.Verification.Scheme != "token" {
		t.Fatalf("hand post: %+v, %v", acc, err)
	}
	// GitHub: the body hash, whatever the (unsigned) delivery header says; the second secret matched.
	body := `{"zen":"Keep it logically awesome."}`
	acc, err = in.Accept(ctx, ghRequest(body))
	if err != nil || acc.ID != event.BodyHashID("gh", sha256.Sum256([]byte(body))) || acc.Type != "push" || acc.Verification.Key != 1 {
		t.Fatalf("github post: %+v, %v", acc, err)
	}
	e, err := event.Decode(b.All()[1].Body)
	if err != nil {
		t.Fatal(err)
	}
	if e.DeliveryID != "d-7" || !e.Time.Equal(received) || !e.ReceivedAt.Equal(received) || e.Verification.HasSkew ||
		e.Verification.BodySHA256 != sha256.Sum256([]byte(body)) || string(e.Data) != body {
		t.Errorf("github envelope = %+v", e)
	}
	if m := b.All()[1]; m.ID != acc.ID || m.Source != "gh" || m.Type != "push" {
		t.Errorf("message = %+v", m)
	}
	// Without a key, a token post gets a fresh id each time.
	r := handRequest(`{}`)
	delete(r.Header.(header), "idempotency-key")
	a1, err1 := in.Accept(ctx, r)
	a2, err2 := in.Accept(ctx, r)
	if err1 != nil || err2 != nil || a1.ID == a2.ID || !event.ValidID(a1.ID) {
		t.Errorf("fresh ids: %q, %q (%v, %v)", a1.ID, a2.ID, err1, err2)
	}
	// A signed timestamp is the event time, and its skew is kept.
	signedAt := received.Add(-90 * time.Second)
	ts := strconv.FormatInt(signedAt.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(tsSecret))
	mac.Write([]byte(ts + "." + `{}`))
	acc, err = in.Accept(ctx, pipeline.IngestRequest{Source: "ts", Body: []byte(`{}`),
		Header: header{"x-sig": hex.EncodeToString(mac.Sum(nil)), "x-ts": ts, "content-type": "application/json"}})
	if err != nil {
		t.Fatal(err)
	}
	e, _ = event.Decode(b.All()[b.Len()-1].Body)
	if !e.Time.Equal(signedAt) || !e.Verification.HasSkew || e.Verification.SkewMS != -90_000 || acc.Verification.SkewMS != -90_000 {
		t.Errorf("signed timestamp: time %v, skew %d (%v); want %v, -90000", e.Time, e.Verification.SkewMS, e.Verification.HasSkew, signedAt)
	}
}

// Without a clock the real one is used.
func TestIngestRealClock(t *testing.T) {
	t.Parallel()
	b := &publishertest.Recorder{}
	in := &pipeline.Ingest{Sources: ingestSources(t), Publisher: b}
	before := time.Now().UTC().Round(0)
	if _, err := in.Accept(context.Background(), handRequest(`{}`)); err != nil {
		t.Fatal(err)
	}
	e, _ := event.Decode(b.All()[0].Body)
	if e.ReceivedAt.Before(before.Truncate(time.Millisecond)) {
		t.Errorf("received at %v, before the call at %v", e.ReceivedAt, before)
	}
}

// TestBodyTooLargeFor: the refusal says why the limit is what it is — a bus message up to
// MaxBodyBytes, the ingest function's payload above it (with a blob store).
func TestBodyTooLargeFor(t *testing.T) {
	t.Parallel()
	for limit, why := range map[int]string{
		pipeline.MaxBodyBytes:       "an event must fit one bus message",
		pipeline.MaxBodyBytes + 1:   "larger bodies cannot reach the ingest function",
		pipeline.LambdaPayloadBytes: "larger bodies cannot reach the ingest function",
	} {
		e := pipeline.BodyTooLargeFor(limit+1, limit)
		want := fmt.Sprintf("the body is %d bytes, over the %d-byte limit (%s)", limit+1, limit, why)
		if e.Kind != pipeline.KindTooLarge || !strings.Contains(e.Detail, want) {
			t.Errorf("BodyTooLargeFor(%d, %d) = %v, %q; want %q", limit+1, limit, e.Kind, e.Detail, want)
		}
	}
}

// TestContentTypeQuotedComma: a comma inside a quoted parameter value is one media type, not
// a list, so the request is accepted.
func TestContentTypeQuotedComma(t *testing.T) {
	t.Parallel()
	r := handRequest(`{"a":1}`)
	r.Header.(header)["content-type"] = `application/json; profile="https://example.com/a,b\",c"`
	if _, err := newIngest(t, &publishertest.Recorder{}).Accept(context.Background(), r); err != nil {
		t.Errorf("a quoted comma in a parameter: %v, want accepted", err)
	}
}
