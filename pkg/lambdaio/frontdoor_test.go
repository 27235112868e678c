package lambdaio_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"hookline/internal/sink"
	"hookline/pkg/ddbitem"
	"hookline/pkg/email"
	"hookline/pkg/event"
	"hookline/pkg/historyapi"
	"hookline/pkg/lambdaio"
	"hookline/pkg/metrics"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/mailertest"
	"hookline/pkg/pipeline/publishertest"
	"hookline/pkg/pipeline/storetest"
	"hookline/pkg/problem"
	"hookline/pkg/sender"
	"hookline/pkg/source"
	"hookline/pkg/verify"
)

var _ lambdaio.IngestMetrics = (*metrics.EMF)(nil)

// Secrets of the front-door sources; each at least the 16 bytes the config requires.
const (
	fdGitHub  = "frontdoor-github-secret"
	fdStripe  = "whsec_frontdoor_stripe"
	fdWhsec   = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	fdIntdash = "frontdoor-intdash-secret"
	fdHMAC    = "frontdoor-hmac-secret"
	fdToken   = "frontdoor-token-0123"
	fdSlack   = "frontdoor-slack-signing-secret"
	fdShopify = "frontdoor-shopify-app-secret"
	fdMeta    = "frontdoor-meta-app-secret"
	fdTwilio  = "frontdoor-twilio-auth-token"
	fdZoom    = "frontdoor-zoom-secret-token"
	fdCE      = "frontdoor-cloudevents-secret"
)

// twilioURL is the webhook URL as configured at Twilio: it signs it, and the source names it.
const twilioURL = "https://hooks.example.com/webhooks/twilio"

var signedIDOptions = sender.HMACOptions{Header: "X-Sig", TimestampHeader: "X-Ts", DeliveryHeader: "X-Delivery", Template: "{id}.{timestamp}.{body}"}

func frontDoorSources(t testing.TB) *source.Set {
	t.Helper()
	set, err := source.Parse([]byte(`{"sources": {
		"github":  {"scheme": "github", "secrets": ["retired-github-secret", "` + fdGitHub + `"]},
		"stripe":  {"scheme": "stripe", "secrets": ["` + fdStripe + `"]},
		"billing": {"scheme": "standard-webhooks", "secrets": ["` + fdWhsec + `"]},
		"intdash": {"scheme": "intdash", "secrets": ["` + fdIntdash + `"]},
		"plain":   {"scheme": "hmac-sha256", "header": "X-Sig", "delivery_header": "X-Delivery", "secrets": ["` + fdHMAC + `"]},
		"signed":  {"scheme": "hmac-sha256", "header": "X-Sig", "timestamp_header": "X-Ts", "delivery_header": "X-Delivery",
		            "template": "{id}.{timestamp}.{body}", "secrets": ["` + fdHMAC + `"]},
		"postman": {"scheme": "token", "secrets": ["` + fdToken + `"]},
		"fenced":  {"scheme": "token", "secrets": ["` + fdToken + `"], "allow": ["192.30.252.0/22", "2a0a:a440::/29"]},
		"optin":   {"scheme": "hmac-sha256", "header": "X-Sig", "delivery_header": "X-Delivery", "idempotency_key": true, "secrets": ["` + fdHMAC + `"]},
		"slack":   {"scheme": "slack", "secrets": ["` + fdSlack + `"]},
		"shopify": {"scheme": "shopify", "secrets": ["` + fdShopify + `"]},
		"meta":    {"scheme": "meta", "secrets": ["` + fdMeta + `"]},
		"twilio":  {"scheme": "twilio", "secrets": ["` + fdTwilio + `"], "url": "` + twilioURL + `"},
		"zoom":    {"scheme": "zoom", "secrets": ["` + fdZoom + `"]},
		"cetoken": {"scheme": "cloudevents", "secrets": ["` + fdCE + `"]},
		"cehmac":  {"scheme": "cloudevents", "auth": "hmac-sha256", "header": "X-Signature", "secrets": ["` + fdCE + `"]}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// apiRequest is what API Gateway hands the ingest function for a POST from ip.
func apiRequest(src string, h http.Header, body []byte, ip string) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for k, vs := range h {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "ANY /webhooks/{source}", RawPath: "/webhooks/" + src,
		Headers: headers, PathParameters: map[string]string{"source": src},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/webhooks/" + src, SourceIP: ip},
		},
		Body: string(body),
	}
}

// chain runs the three handlers as the pipeline does: every published message goes to the
// subscriber, every new item to the notifier. It counts what arrives at each stage.
type chain struct {
	ingest     *lambdaio.IngestHandler
	subscriber *lambdaio.SubscriberHandler
	notifier   *lambdaio.NotifierHandler
	store      *storetest.Memory
	box        *mailertest.Recorder
	pub        *publishertest.Recorder
	keys       *keyCounter
}

type keyCounter struct {
	mu       sync.Mutex
	n        map[string]int // "source/key" → matches
	rejected map[string]int // "source/reason" → refusals
}

func (k *keyCounter) Accepted(source string, key int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.n[source+"/"+string(rune('0'+key))]++
}

func (k *keyCounter) Rejected(source, reason string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.rejected == nil {
		k.rejected = map[string]int{}
	}
	k.rejected[source+"/"+reason]++
}

func newChain(t *testing.T, receivedAt time.Time) *chain {
	t.Helper()
	composer, err := email.NewComposer("", 0)
	if err != nil {
		t.Fatal(err)
	}
	c := &chain{store: &storetest.Memory{}, box: &mailertest.Recorder{}, pub: &publishertest.Recorder{}, keys: &keyCounter{n: map[string]int{}}}
	c.ingest = &lambdaio.IngestHandler{
		Service: &pipeline.Ingest{Sources: frontDoorSources(t), Publisher: c.pub, Now: func() time.Time { return receivedAt }},
		Log:     quiet(), Metrics: c.keys,
	}
	c.subscriber = &lambdaio.SubscriberHandler{Service: &pipeline.Record{Events: c.store}, Log: quiet()}
	c.notifier = &lambdaio.NotifierHandler{DecodeImage: ddbitem.FromStreamImage, Service: &pipeline.Notify{Store: c.store, Composer: composer, Mailer: c.box}, Log: quiet()}
	return c
}

// post sends req through the chain and returns the ingest response.
func (c *chain) post(t *testing.T, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	published := c.pub.Len()
	resp, err := c.ingest.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if c.pub.Len() == published {
		return resp
	}
	m := c.pub.All()[c.pub.Len()-1]
	inserts := c.store.Inserts()
	sub, err := c.subscriber.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: m.ID, Body: string(m.Body)}}})
	if err != nil || len(sub.BatchItemFailures) != 0 {
		t.Fatalf("subscriber: %v %+v", err, sub)
	}
	if c.store.Inserts() == inserts {
		return resp // a duplicate: DynamoDB Streams would carry no INSERT
	}
	rec := insertRecord(t, c.store.Record(m.ID), m.ID)
	if out, err := c.notifier.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}}); err != nil || len(out.BatchItemFailures) != 0 {
		t.Fatalf("notifier: %v %+v", err, out)
	}
	return resp
}

func acceptedID(t *testing.T, resp events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	var a struct{ ID, Status string }
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal([]byte(resp.Body), &a) != nil || a.ID == "" {
		t.Fatalf("want 202 with an id, got %d %s", resp.StatusCode, resp.Body)
	}
	return a.ID
}

// replayCase is one captured delivery and the ways an attacker re-posts it.
type replayCase struct {
	source string
	req    sender.Request
	svix   bool                         // send the Standard Webhooks headers under svix-*
	edits  map[string]func(http.Header) // replay variants: headers no signature covers
}

func replayCases(signedAt time.Time) []replayCase {
	newKey := func(h http.Header) { h.Set("Idempotency-Key", "replay-key-2") }
	return []replayCase{
		{"github", sender.Request{Scheme: sender.GitHub, Secret: fdGitHub, Body: []byte(`{"zen":"Design for failure."}`), Type: "push", DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958"}, false, map[string]func(http.Header){
			"new X-GitHub-Delivery":  func(h http.Header) { h.Set("X-GitHub-Delivery", "00000000-0000-4000-8000-000000000002") },
			"new Idempotency-Key":    newKey,
			"changed X-GitHub-Event": func(h http.Header) { h.Set("X-GitHub-Event", "ping") },
		}},
		{"stripe", sender.Request{Scheme: sender.Stripe, Secret: fdStripe, Timestamp: signedAt, Body: []byte(`{"id":"evt_1","type":"invoice.paid"}`)}, false, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		{"billing", sender.Request{Scheme: sender.StandardWebhooks, Secret: fdWhsec, Timestamp: signedAt, DeliveryID: "msg_1", Body: []byte(`{"type":"user.created"}`)}, false, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		{"billing", sender.Request{Scheme: sender.StandardWebhooks, Secret: fdWhsec, Timestamp: signedAt, DeliveryID: "msg_svix", Body: []byte(`{"type":"user.deleted"}`)}, true, map[string]func(http.Header){
			"forged webhook-id beside svix headers": func(h http.Header) { h.Set("Webhook-Id", "msg_forged") },
			"new Idempotency-Key":                   newKey,
		}},
		{"intdash", sender.Request{Scheme: sender.Intdash, Secret: fdIntdash, Body: []byte(`{"resource_type":"measurement","action":"finished","measurement_uuid":"u-1"}`)}, false, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		{"plain", sender.Request{Scheme: sender.HMACSHA256, Secret: fdHMAC, DeliveryID: "del-1", HMAC: sender.HMACOptions{Header: "X-Sig", DeliveryHeader: "X-Delivery"}, Body: []byte(`{"event":"user.registered"}`)}, false, map[string]func(http.Header){
			"new unsigned X-Delivery": func(h http.Header) { h.Set("X-Delivery", "del-2") },
			"new Idempotency-Key":     newKey,
		}},
		{"signed", sender.Request{Scheme: sender.HMACSHA256, Secret: fdHMAC, Timestamp: signedAt, DeliveryID: "del-1", HMAC: signedIDOptions, Body: []byte(`{"event":"order.paid"}`)}, false, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		{"postman", sender.Request{Scheme: sender.Token, Secret: fdToken, DeliveryID: "replay-key-1", Body: []byte(`A new message has been published`)}, false, map[string]func(http.Header){
			"same Idempotency-Key, new X-Request-Id": func(h http.Header) { h.Set("X-Request-Id", "r-2") },
		}},
		// Opted in: the Idempotency-Key is identity, the unsigned delivery header still is not.
		{"optin", sender.Request{Scheme: sender.HMACSHA256, Secret: fdHMAC, HMAC: sender.HMACOptions{Header: "X-Sig"}, Header: http.Header{"Idempotency-Key": {"order-9"}, "X-Delivery": {"del-1"}}, Body: []byte(`{"event":"order.shipped"}`)}, false, map[string]func(http.Header){
			"new unsigned X-Delivery": func(h http.Header) { h.Set("X-Delivery", "del-2") },
		}},
		{"slack", sender.Request{Scheme: sender.Slack, Secret: fdSlack, Timestamp: signedAt, Body: []byte(`{"type":"event_callback","event_id":"Ev01","event":{"type":"app_mention","text":"hi"}}`)}, false, map[string]func(http.Header){
			"new X-Slack-Retry-Num": func(h http.Header) { h.Set("X-Slack-Retry-Num", "1"); h.Set("X-Slack-Retry-Reason", "http_timeout") },
			"new Idempotency-Key":   newKey,
		}},
		{"shopify", sender.Request{Scheme: sender.Shopify, Secret: fdShopify, DeliveryID: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", Body: []byte(`{"id":820982911946154500,"email":"jon@example.com"}`)}, false, map[string]func(http.Header){
			"new X-Shopify-Webhook-Id": func(h http.Header) { h.Set("X-Shopify-Webhook-Id", "00000000-0000-4000-8000-000000000002") },
			"changed X-Shopify-Topic":  func(h http.Header) { h.Set("X-Shopify-Topic", "orders/delete") },
			"new Idempotency-Key":      newKey,
		}},
		{"meta", sender.Request{Scheme: sender.Meta, Secret: fdMeta, Body: []byte(`{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"item":"post"}}]}]}`)}, false, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		{"twilio", sender.Request{Scheme: sender.Twilio, Secret: fdTwilio, URL: twilioURL, DeliveryID: "tok-1", ContentType: "application/x-www-form-urlencoded", Body: []byte(`MessageSid=SM1&MessageStatus=delivered&To=%2B15558675310`)}, false, map[string]func(http.Header){
			"new I-Twilio-Idempotency-Token": func(h http.Header) { h.Set("I-Twilio-Idempotency-Token", "tok-2") },
			"new Idempotency-Key":            newKey,
		}},
		{"zoom", sender.Request{Scheme: sender.Zoom, Secret: fdZoom, Timestamp: signedAt, Body: []byte(`{"event":"meeting.started","payload":{"object":{"id":"85"}}}`)}, false, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		// The token holder is trusted: its CloudEvent's source and id decide, no other header.
		{"cetoken", sender.Request{Scheme: sender.CloudEvents, Secret: fdCE, ContentType: "application/cloudevents+json",
			Body: []byte(`{"specversion":"1.0","id":"A-1","source":"urn:sender","type":"com.example.thing.done","data":{"n":1}}`)}, false, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		// Binary mode with an HMAC over the body: the ce-* headers are not signed.
		{"cehmac", sender.Request{Scheme: sender.CloudEvents, Secret: fdCE, HMAC: sender.HMACOptions{Header: "X-Signature"},
			Header: http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"B-1"}, "Ce-Source": {"urn:sender"}, "Ce-Type": {"com.example.thing.done"}},
			Body:   []byte(`{"n":2}`)}, false, map[string]func(http.Header){
			"new ce-id":           func(h http.Header) { h.Set("Ce-Id", "B-2") },
			"changed ce-type":     func(h http.Header) { h.Set("Ce-Type", "com.example.thing.undone") },
			"new Idempotency-Key": newKey,
		}},
	}
}

func signed(t *testing.T, rc replayCase) http.Header {
	t.Helper()
	h, err := sender.Sign(rc.req)
	if err != nil {
		t.Fatal(err)
	}
	if rc.svix {
		sender.AsSvix(h)
	}
	return h
}

// TestReplayVariants: a captured delivery re-posted with any header that no signature covers
// changed gets the original id, and the chain stores one item and sends one email.
func TestReplayVariants(t *testing.T) {
	t.Parallel()
	signedAt := now
	for _, rc := range replayCases(signedAt) {
		name := rc.source
		if rc.svix {
			name += "/svix"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newChain(t, now.Add(412*time.Millisecond))
			orig := signed(t, rc)
			id := acceptedID(t, c.post(t, apiRequest(rc.source, orig, rc.req.Body, "192.0.2.1")))
			for variant, edit := range rc.edits {
				h := orig.Clone()
				edit(h)
				if got := acceptedID(t, c.post(t, apiRequest(rc.source, h, rc.req.Body, "192.0.2.1"))); got != id {
					t.Errorf("%s: id %s, want the original %s", variant, got, id)
				}
			}
			if c.pub.Len() != 1+len(rc.edits) || c.store.Inserts() != 1 || c.box.Len() != 1 {
				t.Errorf("published %d, stored %d, emailed %d; want %d, 1, 1", c.pub.Len(), c.store.Inserts(), c.box.Len(), 1+len(rc.edits))
			}
		})
	}
}

// TestSignedIDsCannotBeChanged: where the id is signed, changing it is a bad signature, not a
// new event.
func TestSignedIDsCannotBeChanged(t *testing.T) {
	t.Parallel()
	c := newChain(t, now)
	for _, tc := range []struct {
		source string
		req    sender.Request
		header string
	}{
		{"billing", sender.Request{Scheme: sender.StandardWebhooks, Secret: fdWhsec, Timestamp: now, DeliveryID: "msg_1", Body: []byte(`{}`)}, "Webhook-Id"},
		{"signed", sender.Request{Scheme: sender.HMACSHA256, Secret: fdHMAC, Timestamp: now, DeliveryID: "del-1", HMAC: signedIDOptions, Body: []byte(`{}`)}, "X-Delivery"},
	} {
		h := signed(t, replayCase{req: tc.req})
		h.Set(tc.header, "changed")
		if resp := c.post(t, apiRequest(tc.source, h, tc.req.Body, "192.0.2.1")); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a changed %s: %d %s, want 401", tc.source, tc.header, resp.StatusCode, resp.Body)
		}
	}
	if c.pub.Len() != 0 {
		t.Errorf("published %d", c.pub.Len())
	}
}

// TestVerificationEvidence: every scheme's event carries what verified it.
func TestVerificationEvidence(t *testing.T) {
	t.Parallel()
	received := now.Add(412 * time.Millisecond) // signed timestamps are whole seconds: now
	tests := []struct {
		source   string
		req      sender.Request
		svix     bool
		want     event.Verification
		wantSkew bool
	}{
		{"github", sender.Request{Scheme: sender.GitHub, Secret: fdGitHub, Body: []byte(`{"a":1}`)}, false, event.Verification{Scheme: "github", Key: 1, SignedID: true}, false},
		{"stripe", sender.Request{Scheme: sender.Stripe, Secret: fdStripe, Timestamp: now, Body: []byte(`{"id":"evt_2"}`)}, false, event.Verification{Scheme: "stripe", SignedID: true}, true},
		{"billing", sender.Request{Scheme: sender.StandardWebhooks, Secret: fdWhsec, Timestamp: now, Body: []byte(`{}`)}, false, event.Verification{Scheme: "standard-webhooks", SignedID: true}, true},
		{"billing", sender.Request{Scheme: sender.StandardWebhooks, Secret: fdWhsec, Timestamp: now, Body: []byte(`{"svix":1}`)}, true, event.Verification{Scheme: "standard-webhooks", SignedID: true}, true},
		{"intdash", sender.Request{Scheme: sender.Intdash, Secret: fdIntdash, Body: []byte(`{"b":2}`)}, false, event.Verification{Scheme: "intdash", SignedID: true}, false},
		{"plain", sender.Request{Scheme: sender.HMACSHA256, Secret: fdHMAC, HMAC: sender.HMACOptions{Header: "X-Sig"}, Body: []byte(`{"c":3}`)}, false, event.Verification{Scheme: "hmac-sha256", SignedID: true}, false},
		{"signed", sender.Request{Scheme: sender.HMACSHA256, Secret: fdHMAC, Timestamp: now, HMAC: signedIDOptions, Body: []byte(`{"d":4}`)}, false, event.Verification{Scheme: "hmac-sha256", SignedID: true}, true},
		{"postman", sender.Request{Scheme: sender.Token, Secret: fdToken, Body: []byte(`hello`)}, false, event.Verification{Scheme: "token"}, false},
		{"postman", sender.Request{Scheme: sender.Token, Secret: fdToken, DeliveryID: "k-1", Body: []byte(`hello`)}, false, event.Verification{Scheme: "token"}, false},
		{"slack", sender.Request{Scheme: sender.Slack, Secret: fdSlack, Timestamp: now, Body: []byte(`{"type":"event_callback","event_id":"Ev02","event":{"type":"message"}}`)}, false, event.Verification{Scheme: "slack", SignedID: true}, true},
		{"shopify", sender.Request{Scheme: sender.Shopify, Secret: fdShopify, Body: []byte(`{"id":1}`)}, false, event.Verification{Scheme: "shopify", SignedID: true}, false},
		{"meta", sender.Request{Scheme: sender.Meta, Secret: fdMeta, Body: []byte(`{"object":"page","entry":[]}`)}, false, event.Verification{Scheme: "meta", SignedID: true}, false},
		{"twilio", sender.Request{Scheme: sender.Twilio, Secret: fdTwilio, URL: twilioURL, ContentType: "application/x-www-form-urlencoded", Body: []byte(`CallSid=CA1&CallStatus=completed`)}, false, event.Verification{Scheme: "twilio", SignedID: true}, false},
		{"zoom", sender.Request{Scheme: sender.Zoom, Secret: fdZoom, Timestamp: now, Body: []byte(`{"event":"meeting.ended"}`)}, false, event.Verification{Scheme: "zoom", SignedID: true}, true},
		{"cetoken", sender.Request{Scheme: sender.CloudEvents, Secret: fdCE, ContentType: "application/cloudevents+json",
			Body: []byte(`{"specversion":"1.0","id":"C-1","source":"urn:sender","type":"t"}`)}, false, event.Verification{Scheme: "cloudevents"}, false},
		{"cehmac", sender.Request{Scheme: sender.CloudEvents, Secret: fdCE, HMAC: sender.HMACOptions{Header: "X-Signature"}, ContentType: "application/cloudevents+json",
			Body: []byte(`{"specversion":"1.0","id":"C-2","source":"urn:sender","type":"t"}`)}, false, event.Verification{Scheme: "cloudevents", SignedID: true}, false},
	}
	for _, tt := range tests {
		c := newChain(t, received)
		h := signed(t, replayCase{req: tt.req, svix: tt.svix})
		id := acceptedID(t, c.post(t, apiRequest(tt.source, h, tt.req.Body, "192.0.2.1")))
		e, err := event.Decode(c.pub.All()[0].Body)
		if err != nil {
			t.Fatal(err)
		}
		want := tt.want
		want.BodySHA256 = sha256.Sum256(tt.req.Body)
		if tt.wantSkew {
			want.SkewMS, want.HasSkew = -412, true
		}
		if e.Verification != want {
			t.Errorf("%s %s: verification %+v, want %+v", tt.source, tt.req.Scheme, e.Verification, want)
		}
		// And the history view shows it as the issue spells it.
		b, err := json.Marshal(historyapi.View(c.store.Record(id), true).Verification)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON := fmt.Sprintf(`{"scheme":%q,"key":%d`, want.Scheme, want.Key)
		if tt.wantSkew {
			wantJSON += `,"skew_ms":-412`
		}
		wantJSON += fmt.Sprintf(`,"body_sha256":%q,"signed_id":%v}`, want.BodySHA256Hex(), want.SignedID)
		if string(b) != wantJSON {
			t.Errorf("%s: view verification %s, want %s", tt.source, b, wantJSON)
		}
		if c.keys.n[tt.source+"/"+string(rune('0'+want.Key))] != 1 {
			t.Errorf("%s: key matches %v", tt.source, c.keys.n)
		}
	}
}

// countingVerifier counts Verify calls: a refusal that must come before any signature work
// leaves it at zero.
type countingVerifier struct{ calls atomic.Int64 }

func (v *countingVerifier) Verify(verify.Header, []byte, time.Time) (verify.Result, error) {
	v.calls.Add(1)
	return verify.Result{}, nil
}

type oneSource struct{ src *source.Source }

func (o oneSource) Lookup(_ context.Context, name string) (*source.Source, bool, error) {
	return o.src, name == o.src.Name, nil
}

// countingBlobs is a blob store that counts puts and keeps nothing.
type countingBlobs struct{ puts atomic.Int64 }

func (b *countingBlobs) Put(_ context.Context, key string, _ []byte, _ string) (string, error) {
	b.puts.Add(1)
	return "blob://" + key, nil
}

type stubLimiter struct{ wait time.Duration }

func (l stubLimiter) Allow(*source.Source, time.Time) (time.Duration, bool) {
	return l.wait, l.wait == 0
}

// TestCheapRejectionsFirst: size, source, allowlist and rate are refused before any signature
// is computed, as RFC 9457 problems, and nothing is published.
func TestCheapRejectionsFirst(t *testing.T) {
	t.Parallel()
	allowed, _ := source.Parse([]byte(`{"sources":{"x":{"scheme":"github","secrets":["0123456789abcdef"],"allow":["192.30.252.0/22","2a0a:a440::/29"]}}}`))
	fenced, _, _ := allowed.Lookup(context.Background(), "x")
	big := strings.Repeat("a", 7<<20) // 7 MB: more than Lambda's 6 MB, far more than a bus message
	tests := []struct {
		name       string
		req        events.APIGatewayV2HTTPRequest
		limiter    pipeline.Limiter
		wantStatus int
		wantDetail string
		wantRetry  string
		claimCheck bool // a blob store takes large bodies: the limit is Lambda's 6 MB payload
	}{
		{"7 MB body", apiRequest("x", http.Header{"Content-Type": {"text/plain"}}, []byte(big), "192.30.252.7"), nil, 413, "7340032 bytes, over the 262144-byte limit", "", false},
		{"7 MB base64 body", func() events.APIGatewayV2HTTPRequest {
			r := apiRequest("x", nil, nil, "192.30.252.7")
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(big)), true
			return r
		}(), nil, 413, "over the 262144-byte limit", "", false},
		{"7 MB body, claim check", apiRequest("x", http.Header{"Content-Type": {"text/plain"}}, []byte(big), "192.30.252.7"), nil, 413, "7340032 bytes, over the 6291456-byte limit", "", true},
		{"7 MB base64 body, claim check", func() events.APIGatewayV2HTTPRequest {
			r := apiRequest("x", nil, nil, "192.30.252.7")
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(big)), true
			return r
		}(), nil, 413, "over the 6291456-byte limit", "", true},
		{"unknown source", apiRequest("nope", nil, []byte(`{}`), "192.30.252.7"), nil, 404, `no source named "nope"`, "", false},
		{"allowlist miss v4", apiRequest("x", nil, []byte(`{}`), "203.0.113.9"), nil, 403, `source "x" does not accept requests from 203.0.113.9`, "", false},
		{"allowlist miss v6", apiRequest("x", nil, []byte(`{}`), "2001:db8::1"), nil, 403, `source "x" does not accept requests from 2001:db8::1`, "", false},
		{"no source ip", apiRequest("x", nil, []byte(`{}`), ""), nil, 403, `source "x" accepts only listed addresses`, "", false},
		{"over the rate", apiRequest("x", nil, []byte(`{}`), "192.30.252.7"), stubLimiter{1500 * time.Millisecond}, 429, `source "x" is over its rate limit`, "2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			counter := &countingVerifier{}
			src := *fenced
			src.Verifier = counter
			pub := &publishertest.Recorder{}
			h := &lambdaio.IngestHandler{Service: &pipeline.Ingest{Sources: oneSource{&src}, Publisher: pub, Limiter: tt.limiter, Now: func() time.Time { return now }}, Log: quiet()}
			blobs := &countingBlobs{}
			if tt.claimCheck {
				h.Service.Blobs = blobs
			}
			resp, err := h.Handle(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			checkProblem(t, resp, tt.wantStatus, tt.wantDetail)
			if got := resp.Headers["Retry-After"]; got != tt.wantRetry {
				t.Errorf("Retry-After = %q, want %q", got, tt.wantRetry)
			}
			if n := counter.calls.Load(); n != 0 {
				t.Errorf("Verify ran %d times before the refusal", n)
			}
			if pub.Len() != 0 || blobs.puts.Load() != 0 {
				t.Errorf("published %d messages, put %d bodies", pub.Len(), blobs.puts.Load())
			}
		})
	}
	// Inside the allowlist (an IPv4-mapped address too) the request reaches the verifier.
	for _, ip := range []string{"192.30.255.1", "::ffff:192.30.252.9", "2a0a:a441::5"} {
		counter := &countingVerifier{}
		src := *fenced
		src.Verifier = counter
		h := &lambdaio.IngestHandler{Service: &pipeline.Ingest{Sources: oneSource{&src}, Publisher: &publishertest.Recorder{}, Limiter: stubLimiter{}, Now: func() time.Time { return now }}, Log: quiet()}
		resp, _ := h.Handle(context.Background(), apiRequest("x", nil, []byte(`{}`), ip))
		if resp.StatusCode != http.StatusAccepted || counter.calls.Load() != 1 {
			t.Errorf("%s: %d %s, verified %d times", ip, resp.StatusCode, resp.Body, counter.calls.Load())
		}
	}
}

func checkProblem(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int, detail string) {
	t.Helper()
	var p problem.Details
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("body is not a problem: %q", resp.Body)
	}
	if resp.StatusCode != status || p.Status != status || resp.Headers["Content-Type"] != "application/problem+json" || p.Title != http.StatusText(status) {
		t.Errorf("got %d %s (%+v), want %d", resp.StatusCode, resp.Headers["Content-Type"], p, status)
	}
	if !strings.Contains(p.Detail, detail) {
		t.Errorf("detail %q, want it to contain %q", p.Detail, detail)
	}
}

// TestInvalidUTF8JSON: a JSON body that is not UTF-8 is malformed, after verification (an
// unauthenticated caller learns nothing about its body) and before anything is published.
func TestInvalidUTF8JSON(t *testing.T) {
	t.Parallel()
	c := newChain(t, now)
	body := []byte("{\"name\":\"caf\xe9\"}")
	h := signed(t, replayCase{req: sender.Request{Scheme: sender.GitHub, Secret: fdGitHub, Body: body, ContentType: "application/json"}})
	checkProblem(t, c.post(t, apiRequest("github", h, body, "192.0.2.1")), 400, "not valid UTF-8")
	if c.pub.Len() != 0 {
		t.Errorf("published %d", c.pub.Len())
	}
}

func TestIngestMetricsOnlyOnSuccess(t *testing.T) {
	t.Parallel()
	c := newChain(t, now)
	body := []byte(`{"a":1}`)
	h := signed(t, replayCase{req: sender.Request{Scheme: sender.GitHub, Secret: "retired-github-secret", Body: body}})
	c.post(t, apiRequest("github", h, body, "192.0.2.1"))
	c.post(t, apiRequest("github", h, []byte(`{"a":2}`), "192.0.2.1")) // 401
	if len(c.keys.n) != 1 || c.keys.n["github/0"] != 1 {
		t.Errorf("key matches = %v, want github/0 once", c.keys.n)
	}
	// The EMF metrics ride on the request's one log line: CloudWatch reads them from any line.
	var emf, logs strings.Builder
	c.ingest.Metrics = &metrics.EMF{W: &emf}
	c.ingest.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	c.post(t, apiRequest("github", h, body, "192.0.2.1"))
	c.post(t, apiRequest("github", h, []byte(`{"a":3}`), "192.0.2.1")) // 401
	if emf.Len() != 0 {
		t.Errorf("the sink wrote lines of its own: %s", emf.String())
	}
	lines := sink.JSONLines(t, logs.String())
	if len(lines) != 2 {
		t.Fatalf("%d log lines for two requests:\n%s", len(lines), logs.String())
	}
	accepted, rejected := lines[0], lines[1]
	aws, _ := accepted["_aws"].(map[string]any)
	if aws == nil || accepted["Source"] != "github" || accepted["Key"] != "0" || accepted["Accepted"] != 1.0 || accepted["SignatureKeyMatch"] != 1.0 ||
		accepted["status"] != 202.0 || accepted["event_id"] == "" {
		t.Errorf("accepted request's line = %v", accepted)
	}
	if cw, _ := aws["CloudWatchMetrics"].([]any); len(cw) != 2 {
		t.Errorf("_aws directives = %v, want Accepted and SignatureKeyMatch", aws["CloudWatchMetrics"])
	}
	if rejected["_aws"] == nil || rejected["Reason"] != "unauthorized" || rejected["Rejected"] != 1.0 || rejected["status"] != 401.0 {
		t.Errorf("rejected request's line = %v", rejected)
	}
	// The metrics take the record's last slot: the request's own attributes all stay, the
	// refusal's cause included, on a line that carries both.
	for _, l := range lines {
		for _, k := range []string{"event_id", "source", "type", "status", "duration_ms"} {
			if _, ok := l[k]; !ok {
				t.Errorf("log line without %q: %v", k, l)
			}
		}
	}
	if e, _ := rejected["error"].(string); e == "" {
		t.Errorf("rejected request's line has no error: %v", rejected)
	}
}

// TestRejectedReasons: every refusal the caller caused is counted with its reason, per source
// only when the path named a configured source; a bus outage is not a rejection.
func TestRejectedReasons(t *testing.T) {
	t.Parallel()
	c := newChain(t, now)
	body := []byte(`{"a":1}`)
	bad := signed(t, replayCase{req: sender.Request{Scheme: sender.GitHub, Secret: "wrong-secret-0123456789", Body: body}})
	c.post(t, apiRequest("github", bad, body, "192.0.2.1"))                                                   // 401
	c.post(t, apiRequest("nope", bad, body, "192.0.2.1"))                                                     // 404
	c.post(t, apiRequest("fenced", http.Header{"Authorization": {"Bearer " + fdToken}}, body, "203.0.113.1")) // 403
	c.post(t, apiRequest("postman", http.Header{"Content-Encoding": {"gzip"}}, body, "192.0.2.1"))            // 415
	c.post(t, apiRequest("github", nil, []byte(strings.Repeat("a", pipeline.MaxBodyBytes+1)), "192.0.2.1"))   // 413, before the lookup
	get := apiRequest("github", nil, nil, "192.0.2.1")
	get.RequestContext.HTTP.Method = http.MethodGet
	if _, err := c.ingest.Handle(context.Background(), get); err != nil { // 405, after the lookup (a GET may be a handshake)
		t.Fatal(err)
	}
	want := map[string]int{"github/unauthorized": 1, "/not_found": 1, "fenced/forbidden": 1, "postman/unsupported_media": 1, "/too_large": 1, "github/invalid": 1}
	if diff := cmp.Diff(want, c.keys.rejected); diff != "" {
		t.Errorf("rejections (-want +got):\n%s", diff)
	}
	c.pub.Fail(errors.New("sns down"))
	h := signed(t, replayCase{req: sender.Request{Scheme: sender.GitHub, Secret: fdGitHub, Body: body}})
	if resp := c.post(t, apiRequest("github", h, body, "192.0.2.1")); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	if diff := cmp.Diff(want, c.keys.rejected); diff != "" {
		t.Errorf("a 503 was counted as a rejection (-want +got):\n%s", diff)
	}
}

type pipelineCounter struct {
	mu                                      sync.Mutex
	stored, duplicate, notified, notifyFail []string
	toStored                                []time.Duration
	pendingFor                              []time.Duration
}

func (p *pipelineCounter) Stored(s string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stored, p.toStored = append(p.stored, s), append(p.toStored, d)
}
func (p *pipelineCounter) Duplicate(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.duplicate = append(p.duplicate, s)
}
func (p *pipelineCounter) Notified(s string, _ time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notified = append(p.notified, s)
}
func (p *pipelineCounter) NotifyFailed(s string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notifyFail, p.pendingFor = append(p.notifyFail, s), append(p.pendingFor, d)
}

// TestSubscriberAndNotifierMetrics: a new event counts Stored with its latency, a retry and a
// replay count Duplicate (the replay writes nothing), a failed email counts NotifyFailed with
// how long the event has been pending, a sent one Notified.
func TestSubscriberAndNotifierMetrics(t *testing.T) {
	t.Parallel()
	c := newChain(t, now)
	m := &pipelineCounter{}
	c.subscriber.Metrics, c.notifier.Metrics = m, m
	c.notifier.Now = func() time.Time { return now.Add(20 * time.Minute) }
	stored := now.Add(250 * time.Millisecond)
	c.subscriber.Service.Now = func() time.Time { return stored }
	body := []byte(`{"m":1}`)
	h := signed(t, replayCase{req: sender.Request{Scheme: sender.GitHub, Secret: fdGitHub, Body: body}})
	c.box.Fail(errors.New("mail server down"))
	if _, err := c.ingest.Handle(context.Background(), apiRequest("github", h, body, "192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	first := c.pub.All()[0]
	if resp, _ := c.subscriber.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: string(first.Body)}}}); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("subscriber: %+v", resp)
	}
	rec := insertRecord(t, c.store.Record(first.ID), "1")
	if out, _ := c.notifier.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}}); len(out.BatchItemFailures) != 1 {
		t.Fatalf("notifier with the mailer down: %+v", out)
	}
	if len(m.stored) != 1 || m.toStored[0] != 250*time.Millisecond || len(m.notifyFail) != 1 || m.pendingFor[0] != 20*time.Minute-250*time.Millisecond {
		t.Fatalf("first delivery: stored %v %v, notify failed %v %v", m.stored, m.toStored, m.notifyFail, m.pendingFor)
	}
	c.box.Fail(nil)
	if out, _ := c.notifier.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}}); len(out.BatchItemFailures) != 0 || len(m.notified) != 1 {
		t.Fatalf("notifier retried: %+v, notified %v", out, m.notified)
	}
	c.post(t, apiRequest("github", h, body, "192.0.2.1")) // the sender's retry: a duplicate
	msg := c.pub.All()[0]
	attr := "true"
	replay := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "r1", Body: string(msg.Body),
		MessageAttributes: map[string]events.SQSMessageAttribute{"replay": {DataType: "String", StringValue: &attr}}}}}
	inserts := c.store.Inserts()
	c.store.Delete(msg.ID) // even a missing event is not written back by a replay
	if resp, err := c.subscriber.Handle(context.Background(), replay); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("replay: %v %+v", err, resp)
	}
	if c.store.Inserts() != inserts || len(m.duplicate) != 2 || len(m.stored) != 1 {
		t.Errorf("after a retry and a replay: %d inserts (was %d), duplicates %v, stored %v", c.store.Inserts(), inserts, m.duplicate, m.stored)
	}
}

// TestWrongSecretGrowsRejectedInEMF: each request with a wrong secret writes one EMF line that
// publishes Rejected=1 under Reason=unauthorized (and per Source), as CloudWatch reads it. As on
// Lambda, the handler's log and the EMF sink share one writer: the metrics ride on the
// request's own log line.
func TestWrongSecretGrowsRejectedInEMF(t *testing.T) {
	t.Parallel()
	c := newChain(t, now)
	var buf strings.Builder
	c.ingest.Metrics = &metrics.EMF{W: &buf}
	c.ingest.Log = slog.New(slog.NewJSONHandler(&buf, nil))
	count := func() int {
		n := 0
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var v struct {
				AWS struct {
					CloudWatchMetrics []struct {
						Namespace  string
						Dimensions [][]string
						Metrics    []struct{ Name string }
					}
				} `json:"_aws"`
				Reason, Source string
				Rejected       float64
			}
			if json.Unmarshal([]byte(line), &v) != nil || len(v.AWS.CloudWatchMetrics) != 1 {
				continue
			}
			d := v.AWS.CloudWatchMetrics[0]
			if d.Namespace == "Hookline" && len(d.Metrics) == 1 && d.Metrics[0].Name == "Rejected" &&
				fmt.Sprint(d.Dimensions) == "[[Reason] [Source Reason]]" && v.Reason == "unauthorized" && v.Source == "github" && v.Rejected == 1 {
				n++
			}
		}
		return n
	}
	for i := 1; i <= 3; i++ {
		body := []byte(fmt.Sprintf(`{"try":%d}`, i))
		h := signed(t, replayCase{req: sender.Request{Scheme: sender.GitHub, Secret: "a-wrong-secret-0123456", Body: body}})
		if resp := c.post(t, apiRequest("github", h, body, "192.0.2.1")); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got := count(); got != i {
			t.Fatalf("after %d wrong-secret requests, %d EMF Rejected{Reason=unauthorized} lines:\n%s", i, got, buf.String())
		}
	}
}
