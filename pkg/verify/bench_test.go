package verify

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

func body1KiB() []byte {
	b := []byte(`{"action":"opened","data":"` + strings.Repeat("x", 1024) + `"}`)
	return b[:1024]
}

func benchVerify(b *testing.B, v Verifier, h Header, body []byte) {
	b.Helper()
	if _, err := v.Verify(h, body, now); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(h, body, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGitHubVerify1KiB(b *testing.B) {
	body := body1KiB()
	v, _ := NewGitHub([]string{"github-secret"})
	benchVerify(b, v, hdr{"x-hub-signature-256": githubSig("github-secret", string(body))}, body)
}

// BenchmarkGitHubVerify1KiBRotation matches the last of three secrets.
func BenchmarkGitHubVerify1KiBRotation(b *testing.B) {
	body := body1KiB()
	v, _ := NewGitHub([]string{"s1", "s2", "s3"})
	benchVerify(b, v, hdr{"x-hub-signature-256": githubSig("s3", string(body))}, body)
}

func BenchmarkStripeVerify1KiB(b *testing.B) {
	body := body1KiB()
	v, _ := NewStripe([]string{"whsec_stripe"}, 0)
	ts := now.Unix()
	h := hdr{"stripe-signature": fmt.Sprintf("t=%d,v1=%s,v0=%s", ts, stripeV1("whsec_stripe", ts, string(body)), strings.Repeat("0", 64))}
	benchVerify(b, v, h, body)
}

func BenchmarkStandardWebhooksVerify1KiB(b *testing.B) {
	body := body1KiB()
	v, _ := NewStandardWebhooks([]string{swCur}, 0)
	ts := now.Unix()
	h := hdr{"webhook-id": "msg_2Lh9KRb0pzN4LePd3XiA4", "webhook-timestamp": fmt.Sprint(ts),
		"webhook-signature": swSig(swCur, "msg_2Lh9KRb0pzN4LePd3XiA4", ts, string(body))}
	benchVerify(b, v, h, body)
}

func BenchmarkIntdashVerify1KiB(b *testing.B) {
	body := body1KiB()
	v, _ := NewHMAC(Intdash([]string{"intdash-secret"}))
	h := hdr{"x-intdash-signature-256": base64.StdEncoding.EncodeToString(refMAC([]byte("intdash-secret"), string(body)))}
	benchVerify(b, v, h, body)
}

func BenchmarkHMACTimestampVerify1KiB(b *testing.B) {
	body := body1KiB()
	v, _ := NewHMAC(HMACConfig{Header: "X-Sig", Prefix: "sha256=", TimestampHeader: "X-Ts", Secrets: []string{"k"}})
	ts := fmt.Sprint(now.Unix())
	h := hdr{"x-sig": "sha256=" + hex.EncodeToString(refMAC([]byte("k"), ts, ".", string(body))), "x-ts": ts}
	benchVerify(b, v, h, body)
}

func BenchmarkTokenVerify(b *testing.B) {
	v, _ := NewToken([]string{"old-token", "a-fairly-long-development-token-0123456789"})
	benchVerify(b, v, hdr{"authorization": "Bearer a-fairly-long-development-token-0123456789"}, nil)
}

// BenchmarkGitHubReject1KiB is a forged request: it costs the same MAC and no allocation.
func BenchmarkGitHubReject1KiB(b *testing.B) {
	body := body1KiB()
	v, _ := NewGitHub([]string{"github-secret"})
	h := hdr{"x-hub-signature-256": githubSig("forger", string(body))}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(h, body, now); err == nil {
			b.Fatal("accepted")
		}
	}
}

// TestGitHubVerifyZeroAllocs pins the zero-allocation hot path.
func TestGitHubVerifyZeroAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are not meaningful with -short or -race")
	}
	body := body1KiB()
	gh, _ := NewGitHub([]string{"github-secret"})
	st, _ := NewStripe([]string{"whsec_stripe"}, 0)
	sw, _ := NewStandardWebhooks([]string{swCur}, 0)
	in, _ := NewHMAC(Intdash([]string{"intdash-secret"}))
	tk, _ := NewToken([]string{"tok"})
	ts := now.Unix()
	cases := []struct {
		name string
		v    Verifier
		h    hdr
	}{
		{"github", gh, hdr{"x-hub-signature-256": githubSig("github-secret", string(body))}},
		{"stripe", st, hdr{"stripe-signature": stripeHeader("whsec_stripe", ts, string(body))}},
		{"standard-webhooks", sw, hdr{"webhook-id": "msg_1", "webhook-timestamp": fmt.Sprint(ts), "webhook-signature": swSig(swCur, "msg_1", ts, string(body))}},
		{"intdash", in, hdr{"x-intdash-signature-256": base64.StdEncoding.EncodeToString(refMAC([]byte("intdash-secret"), string(body)))}},
		{"token", tk, hdr{"authorization": "Bearer tok"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(200, func() {
				if _, err := c.v.Verify(c.h, body, now); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Fatalf("Verify allocates %.1f times per call, want 0", allocs)
			}
		})
	}
}
