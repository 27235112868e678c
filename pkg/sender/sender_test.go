package sender_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hookline/pkg/sender"
	"hookline/pkg/source"
	"hookline/pkg/verify/verifytest"
)

// TestProviderVectors signs each vector's body, secret, timestamp and id and expects the very
// header bytes the provider's library produced.
func TestProviderVectors(t *testing.T) {
	t.Parallel()
	vs := verifytest.Load(t)
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			r := sender.Request{Scheme: v.Scheme(), Secret: v.Secret, Body: []byte(v.Body), Timestamp: time.Unix(v.Timestamp, 0), ContentType: v.ContentType, URL: v.URL}
			if v.Provider == "shopify" { // the topic and webhook id travel beside the signature
				r.Type, r.DeliveryID = v.Headers["x-shopify-topic"], v.Headers["x-shopify-webhook-id"]
			}
			if ts := v.Headers["x-slack-request-timestamp"] + v.Headers["x-zm-request-timestamp"]; ts != "" {
				n, _ := strconv.ParseInt(ts, 10, 64)
				r.Timestamp = time.Unix(n, 0)
			}
			// Standard Webhooks and Svix sign the id and timestamp they send.
			if id := v.Headers["webhook-id"] + v.Headers["svix-id"]; id != "" {
				r.DeliveryID = id
				ts, _ := strconv.ParseInt(v.Headers["webhook-timestamp"]+v.Headers["svix-timestamp"], 10, 64)
				r.Timestamp = time.Unix(ts, 0)
			}
			h, err := sender.Sign(r)
			if err != nil {
				t.Fatal(err)
			}
			if v.Provider == "svix" {
				sender.AsSvix(h)
			}
			got := map[string]string{}
			want := map[string]string{}
			for name, val := range v.Headers {
				if name == "x-shopify-shop-domain" {
					continue // the shop's name, not part of the signature
				}
				want[name] = val
				got[name] = h.Get(name)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("headers (-provider +sender):\n%s", diff)
			}
		})
	}
}

// TestVerifierAccepts signs with every scheme and checks that the verifier the sources config
// builds for the same settings accepts it, and reads the type and delivery id as intended.
func TestVerifierAccepts(t *testing.T) {
	t.Parallel()
	const whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	now := time.Now()
	const s16 = "sixteen-byte-key" // the shortest secret the sources config accepts
	tests := []struct {
		name         string
		cfg          source.Config
		req          sender.Request
		wantType     string
		wantDelivery string
		wantIdentity source.Identity
		wantKey      string // the identity material for a signed id or a trusted key
	}{
		{
			name:     "github",
			cfg:      source.Config{Scheme: "github", Secrets: []string{s16}},
			req:      sender.Request{Scheme: sender.GitHub, Secret: s16, Type: "push", DeliveryID: "d-1"},
			wantType: "push", wantDelivery: "d-1", wantIdentity: source.IdentityBody,
		},
		{
			name:     "github default type",
			cfg:      source.Config{Scheme: "github", Secrets: []string{s16}},
			req:      sender.Request{Scheme: sender.GitHub, Secret: s16, DeliveryID: "d-2"},
			wantType: "ping", wantDelivery: "d-2", wantIdentity: source.IdentityBody,
		},
		{
			name:     "stripe",
			cfg:      source.Config{Scheme: "stripe", Secrets: []string{"whsec_stripe_0123456"}},
			req:      sender.Request{Scheme: sender.Stripe, Secret: "whsec_stripe_0123456", Body: []byte(`{"id":"evt_9","type":"invoice.paid"}`), DeliveryID: "ignored"},
			wantType: "invoice.paid", wantDelivery: "evt_9", wantIdentity: source.IdentitySignedID, wantKey: "evt_9",
		},
		{
			name:     "standard-webhooks",
			cfg:      source.Config{Scheme: "standard-webhooks", Secrets: []string{whsec}},
			req:      sender.Request{Scheme: sender.StandardWebhooks, Secret: whsec, DeliveryID: "msg_1", Body: []byte(`{"type":"user.created"}`)},
			wantType: "user.created", wantDelivery: "msg_1", wantIdentity: source.IdentitySignedID, wantKey: "msg_1",
		},
		{
			name:     "intdash",
			cfg:      source.Config{Scheme: "intdash", Secrets: []string{s16}},
			req:      sender.Request{Scheme: sender.Intdash, Secret: s16, Body: []byte(`{"resource_type":"measurement","action":"finished"}`)},
			wantType: "measurement.finished", wantIdentity: source.IdentityBody,
		},
		{
			name:     "hmac-sha256 hex",
			cfg:      source.Config{Scheme: "hmac-sha256", Header: "X-Signature", Secrets: []string{s16}},
			req:      sender.Request{Scheme: sender.HMACSHA256, Secret: s16, HMAC: sender.HMACOptions{Header: "X-Signature"}, Body: []byte(`{"event":"user.registered"}`)},
			wantType: "user.registered", wantIdentity: source.IdentityBody,
		},
		{
			name: "hmac-sha256 base64 prefix timestamp type header",
			cfg: source.Config{Scheme: "hmac-sha256", Header: "X-Sig", Encoding: "base64", Prefix: "sha256=",
				TimestampHeader: "X-Timestamp", TypeHeader: "X-Event", Secrets: []string{s16}},
			req: sender.Request{Scheme: sender.HMACSHA256, Secret: s16, Type: "order.paid", TypeHeader: "X-Event", DeliveryID: "k-1",
				HMAC: sender.HMACOptions{Header: "X-Sig", Encoding: "base64", Prefix: "sha256=", TimestampHeader: "X-Timestamp"}},
			wantType: "order.paid", wantDelivery: "k-1", wantIdentity: source.IdentityBody,
		},
		{
			name: "hmac-sha256 custom template",
			cfg:  source.Config{Scheme: "hmac-sha256", Header: "X-Sig", TimestampHeader: "X-Ts", Template: "v0:{timestamp}:{body}", Secrets: []string{s16}},
			req: sender.Request{Scheme: sender.HMACSHA256, Secret: s16, Body: []byte("plain text"),
				HMAC: sender.HMACOptions{Header: "X-Sig", TimestampHeader: "X-Ts", Template: "v0:{timestamp}:{body}"}},
			wantType: "unknown", wantIdentity: source.IdentityBody,
		},
		{
			name: "hmac-sha256 signed id",
			cfg: source.Config{Scheme: "hmac-sha256", Header: "X-Sig", TimestampHeader: "X-Ts", DeliveryHeader: "X-Delivery",
				Template: "{id}.{timestamp}.{body}", Secrets: []string{s16}},
			req: sender.Request{Scheme: sender.HMACSHA256, Secret: s16, Body: []byte(`{}`), DeliveryID: "del-{timestamp}-1",
				HMAC: sender.HMACOptions{Header: "X-Sig", TimestampHeader: "X-Ts", DeliveryHeader: "X-Delivery", Template: "{id}.{timestamp}.{body}"}},
			wantType: "unknown", wantDelivery: "del-{timestamp}-1", wantIdentity: source.IdentitySignedID, wantKey: "del-{timestamp}-1",
		},
		{
			name:     "token",
			cfg:      source.Config{Scheme: "token", Secrets: []string{"dev-token-0123456"}},
			req:      sender.Request{Scheme: sender.Token, Secret: "dev-token-0123456", Body: []byte(`A new message has been published`)},
			wantType: "unknown", wantIdentity: source.IdentityFresh,
		},
		{
			name:     "token with Idempotency-Key",
			cfg:      source.Config{Scheme: "token", Secrets: []string{"dev-token-0123456"}},
			req:      sender.Request{Scheme: sender.Token, Secret: "dev-token-0123456", Body: []byte(`hi`), DeliveryID: "k-7"},
			wantType: "unknown", wantDelivery: "k-7", wantIdentity: source.IdentityKey, wantKey: "k-7",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := source.New(source.File{Sources: map[string]source.Config{"s": tt.cfg}})
			if err != nil {
				t.Fatal(err)
			}
			src, _, _ := set.Lookup(context.Background(), "s")
			h, err := sender.Sign(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			res, err := src.Verifier.Verify(h, tt.req.Body, now)
			if err != nil {
				t.Fatalf("verify: %v (headers %v)", err, h)
			}
			meta := src.Describe(h, tt.req.Body, res)
			if meta.Identity != tt.wantIdentity || meta.Key != tt.wantKey {
				t.Errorf("identity %v %q, want %v %q", meta.Identity, meta.Key, tt.wantIdentity, tt.wantKey)
			}
			if meta.Type != tt.wantType {
				t.Errorf("type %q, want %q", meta.Type, tt.wantType)
			}
			if tt.wantDelivery != "" && meta.DeliveryID != tt.wantDelivery {
				t.Errorf("delivery id %q, want %q", meta.DeliveryID, tt.wantDelivery)
			}
			// A different body must not verify: the signature covers the bytes.
			if _, err := src.Verifier.Verify(h, append([]byte("x"), tt.req.Body...), now); err == nil && tt.req.Scheme != sender.Token {
				t.Error("a changed body verified")
			}
		})
	}
}

func TestSignDefaults(t *testing.T) {
	t.Parallel()
	h, err := sender.Sign(sender.Request{Scheme: sender.GitHub, Secret: "s", Body: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("content type of text %q", got)
	}
	if len(h.Get("X-GitHub-Delivery")) != 36 {
		t.Errorf("generated delivery %q is not a UUID", h.Get("X-GitHub-Delivery"))
	}
	h, _ = sender.Sign(sender.Request{Scheme: sender.StandardWebhooks, Secret: "whsec_c2VjcmV0", Body: []byte(`{}`)})
	if got := h.Get("Content-Type"); got != "application/json" {
		t.Errorf("content type of JSON %q", got)
	}
	if !strings.HasPrefix(h.Get("Webhook-Id"), "msg_") {
		t.Errorf("generated webhook-id %q", h.Get("Webhook-Id"))
	}
	h, _ = sender.Sign(sender.Request{Scheme: sender.Token, Secret: "t", Header: http.Header{"Authorization": {"Bearer wrong"}, "X-Extra": {"1"}}})
	if h.Get("Authorization") != "Bearer wrong" || h.Get("X-Extra") != "1" {
		t.Errorf("extra headers not applied: %v", h)
	}
}

func TestSignErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  sender.Request
		want string
	}{
		{"no secret", sender.Request{Scheme: sender.GitHub}, "secret is empty"},
		{"no scheme", sender.Request{Secret: "s"}, "no scheme"},
		{"unknown scheme", sender.Request{Scheme: "svix", Secret: "s"}, `unknown scheme "svix"`},
		{"bad whsec", sender.Request{Scheme: sender.StandardWebhooks, Secret: "whsec_!!"}, "not whsec_<base64>"},
		{"hmac no header", sender.Request{Scheme: sender.HMACSHA256, Secret: "s"}, "no signature header"},
		{"hmac encoding", sender.Request{Scheme: sender.HMACSHA256, Secret: "s", HMAC: sender.HMACOptions{Header: "X", Encoding: "b32"}}, `encoding "b32"`},
		{"hmac template", sender.Request{Scheme: sender.HMACSHA256, Secret: "s", HMAC: sender.HMACOptions{Header: "X", Template: "{timestamp}"}}, "exactly once"},
		{"hmac {id} without header", sender.Request{Scheme: sender.HMACSHA256, Secret: "s", HMAC: sender.HMACOptions{Header: "X", Template: "{id}.{body}"}}, "needs a delivery header"},
		{"intdash options", sender.Request{Scheme: sender.Intdash, Secret: "s", HMAC: sender.HMACOptions{Header: "X"}}, "preset"},
		{"type in body", sender.Request{Scheme: sender.Stripe, Secret: "s", Type: "x"}, "type: the stripe scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sender.Sign(tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSendPrints(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/webhooks/demo" || r.Header.Get("Authorization") != "Bearer t" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Location", "/events/0190-x")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"id":"0190-x","status":"accepted"}`))
	}))
	defer srv.Close()
	resp, err := sender.Send(context.Background(), srv.Client(), srv.URL+"/", "demo", sender.Request{Scheme: sender.Token, Secret: "t", Body: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	resp.Print(&out)
	want := "202 Accepted\n{\"id\":\"0190-x\",\"status\":\"accepted\"}\nevent id: 0190-x\n"
	if diff := cmp.Diff(want, out.String()); diff != "" || !resp.OK() {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestReadBody(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(path, []byte(`{"a":1}`), 0o600)
	for arg, want := range map[string]string{"-": "from stdin", "@" + path: `{"a":1}`, "literal": "literal"} {
		got, err := sender.ReadBody(arg, strings.NewReader("from stdin"))
		if err != nil || string(got) != want {
			t.Errorf("ReadBody(%q) = %q, %v; want %q", arg, got, err, want)
		}
	}
	if _, err := sender.ReadBody("@/nonexistent/x", nil); err == nil {
		t.Error("missing file: no error")
	}
}
