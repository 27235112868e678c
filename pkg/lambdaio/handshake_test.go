package lambdaio_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/lambdaio"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/publishertest"
	"hookline/pkg/sender"
	"hookline/pkg/source"
	"hookline/pkg/verify/verifytest"
)

const (
	slackSecret = "slack-signing-secret-handshake"
	zoomSecret  = "zoom-secret-token-vectors-0123" // the vectors' Zoom secret
	oktaToken   = "okta-event-hook-secret-0123"
	xSecret     = "x-consumer-secret-0123456789"
)

func handshakeHandler(t *testing.T, pub pipeline.Publisher, at time.Time) *lambdaio.IngestHandler {
	t.Helper()
	set, err := source.Parse([]byte(`{"sources": {
		"slack":   {"scheme": "slack", "secrets": ["` + slackSecret + `"], "challenge": "slack"},
		"meta":    {"scheme": "meta", "secrets": ["meta-app-secret-0123456"], "challenge": "meta", "verify_token": "meatyhamhock"},
		"zoom":    {"scheme": "zoom", "secrets": ["` + zoomSecret + `"], "challenge": "zoom"},
		"okta":    {"scheme": "token", "secrets": ["` + oktaToken + `"], "challenge": "okta"},
		"x":       {"scheme": "hmac-sha256", "header": "X-Twitter-Webhooks-Signature", "prefix": "sha256=", "encoding": "base64", "secrets": ["` + xSecret + `"], "challenge": "twitter-crc"},
		"github":  {"scheme": "github", "secrets": ["` + ghSecret + `"]}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	return &lambdaio.IngestHandler{Service: &pipeline.Ingest{Sources: set, Publisher: pub, Now: func() time.Time { return at }}, Log: quiet()}
}

func getRequest(src string, query map[string]string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	q := url.Values{}
	for k, v := range query {
		q.Set(k, v)
	}
	h := map[string]string{}
	for k, v := range headers {
		h[k] = v
	}
	req := events.APIGatewayV2HTTPRequest{
		RawPath: "/webhooks/" + src, RawQueryString: q.Encode(), Headers: h,
		PathParameters: map[string]string{"source": src}, QueryStringParameters: query,
	}
	req.RequestContext.HTTP.Method = http.MethodGet
	req.RequestContext.HTTP.SourceIP = "203.0.113.9"
	return req
}

func signedPost(t *testing.T, src string, r sender.Request) events.APIGatewayV2HTTPRequest {
	t.Helper()
	h, err := sender.Sign(r)
	if err != nil {
		t.Fatal(err)
	}
	return apiRequest(src, h, r.Body, "203.0.113.9")
}

// TestHandshakes: each provider's verification request gets the answer its documentation
// describes, with the documented example values where the provider publishes them, and
// nothing is published.
func TestHandshakes(t *testing.T) {
	at := time.Unix(1700001000, 0)
	var zoomVector verifytest.Vector
	for _, v := range verifytest.Load(t) {
		if v.Name == "zoom/url-validation" {
			zoomVector = v
		}
	}
	zoomAnswer, _ := json.Marshal(zoomVector.Answer)
	crc := hmac.New(sha256.New, []byte(xSecret))
	crc.Write([]byte("crc-token-from-x"))

	// Slack's documented url_verification body.
	slackBody := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	tests := []struct {
		name       string
		at         time.Time
		req        events.APIGatewayV2HTTPRequest
		wantStatus int
		wantType   string // Content-Type
		wantBody   string // exact, or JSON compared as JSON
	}{
		{"slack url_verification", at, signedPost(t, "slack", sender.Request{Scheme: sender.Slack, Secret: slackSecret, Body: []byte(slackBody), Timestamp: at}),
			200, "application/json", `{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`},
		{"slack unsigned", at, apiRequest("slack", http.Header{"Content-Type": {"application/json"}}, []byte(slackBody), "203.0.113.9"), 401, "application/problem+json", ""},
		// Meta's documented example: hub.challenge=1158201444, hub.verify_token=meatyhamhock.
		{"meta subscribe", at, getRequest("meta", map[string]string{"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "meatyhamhock"}, nil),
			200, "text/plain; charset=utf-8", "1158201444"},
		{"meta wrong token", at, getRequest("meta", map[string]string{"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "guess"}, nil), 401, "application/problem+json", ""},
		{"meta no challenge", at, getRequest("meta", map[string]string{"hub.mode": "subscribe", "hub.verify_token": "meatyhamhock"}, nil), 400, "application/problem+json", ""},
		// Zoom: the plainToken of Zoom's documentation, answered as @zoom/rivet answers it.
		{"zoom url_validation", time.Unix(zoomVector.Timestamp, 0), apiRequest("zoom", headerOf(zoomVector), []byte(zoomVector.Body), "203.0.113.9"),
			200, "application/json", string(zoomAnswer)},
		{"okta verification", at, getRequest("okta", nil, map[string]string{"x-okta-verification-challenge": "fe8d0a52b2d6b4a25a1c0b4a7a0e6d4b", "authorization": "Bearer " + oktaToken}),
			200, "application/json", `{"verification":"fe8d0a52b2d6b4a25a1c0b4a7a0e6d4b"}`},
		{"okta unauthenticated", at, getRequest("okta", nil, map[string]string{"x-okta-verification-challenge": "x"}), 401, "application/problem+json", ""},
		{"twitter crc", at, getRequest("x", map[string]string{"crc_token": "crc-token-from-x"}, nil),
			200, "application/json", `{"response_token":"sha256=` + base64.StdEncoding.EncodeToString(crc.Sum(nil)) + `"}`},
		{"twitter no token", at, getRequest("x", nil, nil), 400, "application/problem+json", ""},
		{"GET without a handshake", at, getRequest("github", nil, nil), 405, "application/problem+json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &publishertest.Recorder{}
			h := handshakeHandler(t, pub, tt.at)
			resp, _ := h.Handle(t.Context(), tt.req)
			if resp.StatusCode != tt.wantStatus || resp.Headers["Content-Type"] != tt.wantType {
				t.Fatalf("got %d %q %s, want %d %q", resp.StatusCode, resp.Headers["Content-Type"], resp.Body, tt.wantStatus, tt.wantType)
			}
			if tt.wantBody != "" {
				if tt.wantType == "application/json" {
					var got, want any
					if json.Unmarshal([]byte(resp.Body), &got) != nil || json.Unmarshal([]byte(tt.wantBody), &want) != nil || !jsonEqual(got, want) {
						t.Errorf("body %s, want %s", resp.Body, tt.wantBody)
					}
				} else if resp.Body != tt.wantBody {
					t.Errorf("body %q, want %q", resp.Body, tt.wantBody)
				}
			}
			if tt.wantStatus == 405 && resp.Headers["Allow"] != "POST" {
				t.Errorf("Allow = %q, want POST", resp.Headers["Allow"])
			}
			if pub.Len() != 0 {
				t.Errorf("a handshake published %d events", pub.Len())
			}
		})
	}
}

// TestHandshakeSourceStillDelivers: a source with a handshake takes ordinary signed events.
func TestHandshakeSourceStillDelivers(t *testing.T) {
	at := time.Unix(1700001000, 0)
	pub := &publishertest.Recorder{}
	h := handshakeHandler(t, pub, at)
	body := `{"token":"t","type":"event_callback","event_id":"Ev0PV52K21","event":{"type":"app_mention","text":"hi"}}`
	resp, _ := h.Handle(t.Context(), signedPost(t, "slack", sender.Request{Scheme: sender.Slack, Secret: slackSecret, Body: []byte(body), Timestamp: at}))
	if resp.StatusCode != 202 || pub.Len() != 1 || pub.All()[0].Type != "app_mention" {
		t.Fatalf("got %d %s, published %+v", resp.StatusCode, resp.Body, pub.All())
	}
	// A Slack retry is re-signed with a new timestamp; event_id, inside the signed body, keeps the id.
	first := pub.All()[0].ID
	resp, _ = h.Handle(t.Context(), signedPost(t, "slack", sender.Request{Scheme: sender.Slack, Secret: slackSecret, Body: []byte(body), Timestamp: at.Add(-time.Minute)}))
	if resp.StatusCode != 202 || pub.All()[1].ID != first {
		t.Fatalf("retry got %d, id %s, want %s", resp.StatusCode, pub.All()[1].ID, first)
	}
}

func headerOf(v verifytest.Vector) http.Header {
	h := http.Header{}
	for k, val := range v.Headers {
		h.Set(k, val)
	}
	h.Set("Content-Type", "application/json")
	return h
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

var _ = strconv.Itoa
