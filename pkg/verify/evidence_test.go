package verify

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestResultEvidence checks what every scheme reports beside "it verified": the index of the
// secret that matched (rotation tracking counts it) and the id the signature covers, which is
// never an id header that no signature covers.
func TestResultEvidence(t *testing.T) {
	const body = `{"id":"evt_1","type":"invoice.paid"}`
	ts := now.Unix()
	secrets := []string{"first-secret-0123456789", "second-secret-0123456789", "third-secret-0123456789"}
	sw := []string{swOld, swCur}

	gh, _ := NewGitHub(secrets)
	st, _ := NewStripe(secrets, 0)
	std, _ := NewStandardWebhooks(sw, 0)
	tok, _ := NewToken(secrets)
	plain, _ := NewHMAC(HMACConfig{Header: "X-Sig", Secrets: secrets})
	signedID, err := NewHMAC(HMACConfig{Header: "X-Sig", IDHeader: "X-Delivery", TimestampHeader: "X-Ts", Template: "{id}.{timestamp}.{body}", Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	hmacIDSig := func(secret, id string) string {
		return hex.EncodeToString(refMAC([]byte(secret), id, ".", fmt.Sprint(ts), ".", body))
	}
	swHeaders := func(prefix, secret, id string) hdr {
		return hdr{prefix + "-id": id, prefix + "-timestamp": fmt.Sprint(ts), prefix + "-signature": swSig(secret, id, ts, body)}
	}
	forged := swHeaders("svix", swCur, "msg_signed")
	forged["webhook-id"] = "msg_forged" // beside verified svix-* headers; no webhook-signature

	cases := []struct {
		name    string
		v       Verifier
		h       hdr
		wantKey int
		wantID  string
	}{
		{"github key 0", gh, hdr{"x-hub-signature-256": githubSig(secrets[0], body), "x-github-delivery": "d-1"}, 0, ""},
		{"github key 2", gh, hdr{"x-hub-signature-256": githubSig(secrets[2], body)}, 2, ""},
		{"stripe key 1", st, hdr{"stripe-signature": stripeHeader(secrets[1], ts, body), "idempotency-key": "k"}, 1, ""},
		{"standard webhooks key 0", std, swHeaders("webhook", swOld, "msg_1"), 0, "msg_1"},
		{"standard webhooks key 1", std, swHeaders("webhook", swCur, "msg_2"), 1, "msg_2"},
		{"svix id", std, swHeaders("svix", swCur, "msg_3"), 1, "msg_3"},
		{"forged webhook-id beside svix headers", std, forged, 1, "msg_signed"},
		{"token key 0", tok, hdr{"authorization": "Bearer " + secrets[0]}, 0, ""},
		{"token key 2", tok, hdr{"authorization": "Bearer " + secrets[2]}, 2, ""},
		{"hmac key 1", plain, hdr{"x-sig": hex.EncodeToString(refMAC([]byte(secrets[1]), body)), "x-delivery": "unsigned"}, 1, ""},
		{"hmac signed id", signedID, hdr{"x-sig": hmacIDSig(secrets[2], "del-7"), "x-ts": fmt.Sprint(ts), "x-delivery": "del-7"}, 2, "del-7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := c.v.Verify(c.h, []byte(body), now)
			if err != nil {
				t.Fatal(err)
			}
			if res.Key != c.wantKey || res.ID != c.wantID {
				t.Errorf("Result = key %d id %q, want key %d id %q", res.Key, res.ID, c.wantKey, c.wantID)
			}
		})
	}

	// The {id} is signed: another id with the same signature fails, and so does none.
	h := hdr{"x-sig": hmacIDSig(secrets[0], "del-7"), "x-ts": fmt.Sprint(ts), "x-delivery": "del-8"}
	if _, err := signedID.Verify(h, []byte(body), now); !errors.Is(err, ErrNoMatch) {
		t.Errorf("changed {id}: err = %v, want ErrNoMatch", err)
	}
	delete(h, "x-delivery")
	if _, err := signedID.Verify(h, []byte(body), now); !errors.Is(err, ErrMalformedSignature) {
		t.Errorf("absent {id} header: err = %v, want ErrMalformedSignature", err)
	}
	// A forged webhook-signature beside valid svix-* headers selects the webhook-* set, which
	// fails: the two sets are never mixed.
	mixed := swHeaders("svix", swCur, "msg_signed")
	mixed["webhook-id"], mixed["webhook-signature"] = "msg_forged", "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32))
	if _, err := std.Verify(mixed, []byte(body), now); err == nil {
		t.Error("mixed webhook-*/svix-* headers verified")
	}
}

func TestHMACIDHeaderErrors(t *testing.T) {
	for name, cfg := range map[string]HMACConfig{
		"{id} without id header":   {Header: "X-Sig", Template: "{id}.{body}", Secrets: []string{"k"}},
		"id header without {id}":   {Header: "X-Sig", IDHeader: "X-Id", Secrets: []string{"k"}},
		"id header is sig header":  {Header: "X-Sig", IDHeader: "x-sig", Template: "{id}.{body}", Secrets: []string{"k"}},
		"id header is time header": {Header: "X-Sig", IDHeader: "X-Ts", TimestampHeader: "x-ts", Template: "{id}.{timestamp}.{body}", Secrets: []string{"k"}, Tolerance: time.Minute},
	} {
		if _, err := NewHMAC(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if !TemplateSignsID("{id}.{body}") || TemplateSignsID("{timestamp}.{body}") {
		t.Error("TemplateSignsID")
	}
}
