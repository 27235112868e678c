package verify

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// TestStandardWebhooksCrossCheck signs with the reference Go library and verifies with ours,
// and the other way round.
func TestStandardWebhooksCrossCheck(t *testing.T) {
	bodies := []string{
		`{"type":"invoice.paid","amount":4200}`,
		"{\"name\":\"Zoë — naïve café ☕ 日本語 🚀\"}",
		"trailing whitespace  \n\t\r\n",
		"",
	}
	for _, secret := range []string{swCur, swOld, strings.TrimPrefix(swOld, "whsec_")} {
		ref, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := NewStandardWebhooks([]string{secret}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i, body := range bodies {
			t.Run(fmt.Sprintf("%s/%d", secret[:10], i), func(t *testing.T) {
				// The reference library checks tolerance against the wall clock.
				ts := time.Now().Truncate(time.Second)
				id := fmt.Sprintf("msg_cross_%d", i)
				sig, err := ref.Sign(id, ts, []byte(body))
				if err != nil {
					t.Fatal(err)
				}
				h := hdr{"webhook-id": id, "webhook-timestamp": fmt.Sprint(ts.Unix()), "webhook-signature": sig}
				res, err := ours.Verify(h, []byte(body), ts)
				if err != nil {
					t.Fatalf("ours rejected the reference signature: %v", err)
				}
				if !res.Timestamp.Equal(ts) {
					t.Fatalf("Result.Timestamp = %v, want %v", res.Timestamp, ts)
				}

				// Ours → reference: a signature made with the test's reference signer (the same
				// construction our verifier accepts) must satisfy the reference verifier, and a
				// header our verifier accepts must satisfy it too.
				ourSig := swSig(secret, id, ts.Unix(), body)
				if _, err := ours.Verify(hdr{"webhook-id": id, "webhook-timestamp": fmt.Sprint(ts.Unix()), "webhook-signature": ourSig}, []byte(body), ts); err != nil {
					t.Fatalf("ours rejected: %v", err)
				}
				hh := http.Header{}
				hh.Set("webhook-id", id)
				hh.Set("webhook-timestamp", fmt.Sprint(ts.Unix()))
				hh.Set("webhook-signature", "v1a,ignored "+ourSig)
				if err := ref.Verify([]byte(body), hh); err != nil {
					t.Fatalf("reference rejected a signature ours accepts: %v", err)
				}
				hh.Set("webhook-signature", ourSig)
				if err := ref.Verify([]byte(body+"x"), hh); err == nil {
					t.Fatal("reference accepted a tampered body")
				}
				if _, err := ours.Verify(hdr{"webhook-id": id, "webhook-timestamp": fmt.Sprint(ts.Unix()), "webhook-signature": ourSig}, []byte(body+"x"), ts); err == nil {
					t.Fatal("ours accepted a tampered body")
				}
			})
		}
	}
}
