package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// hdr is a Header backed by a map keyed by lower-case names.
type hdr map[string]string

func (h hdr) Get(name string) string { return h[name] }

var sentinels = []error{ErrMissingSignature, ErrMalformedSignature, ErrMissingTimestamp, ErrStaleTimestamp, ErrNoMatch}

// sentinelsIn counts the sentinels err wraps; a rejection wraps exactly one.
func sentinelsIn(err error) int {
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	return n
}

// Reference signers, written straight from the providers' documentation with the standard
// library, independent of the code under test.
func refMAC(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

func githubSig(secret, body string) string {
	return "sha256=" + hex.EncodeToString(refMAC([]byte(secret), body))
}

func stripeV1(secret string, ts int64, body string) string {
	return hex.EncodeToString(refMAC([]byte(secret), fmt.Sprint(ts), ".", body))
}

func stripeHeader(secret string, ts int64, body string) string {
	return fmt.Sprintf("t=%d,v1=%s", ts, stripeV1(secret, ts, body))
}

func swKey(secret string) []byte {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		panic(err)
	}
	return k
}

func swSig(secret, id string, ts int64, body string) string {
	return "v1," + base64.StdEncoding.EncodeToString(refMAC(swKey(secret), id, ".", fmt.Sprint(ts), ".", body))
}

// checkErr asserts err wraps want (and no other sentinel) and that its message shows none
// of the forbidden strings (secrets, signatures).
func checkErr(t *testing.T, err, want error, forbidden ...string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("Verify: unexpected error %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Verify: got nil error, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("Verify: got %v, want errors.Is(%v)", err, want)
	}
	if n := sentinelsIn(err); n != 1 {
		t.Fatalf("Verify: %v wraps %d sentinels, want exactly 1", err, n)
	}
	msg := err.Error()
	for _, f := range forbidden {
		if f != "" && strings.Contains(msg, f) {
			t.Fatalf("Verify: error %q reveals %q", msg, f)
		}
	}
}

var now = time.Unix(1700000000, 0)

type vcase struct {
	name   string
	h      hdr
	body   string
	now    time.Time // zero means the package-level now
	want   error
	wantTS int64 // checked when want == nil and non-zero
}

func runCases(t *testing.T, v Verifier, cases []vcase, forbidden ...string) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := c.now
			if at.IsZero() {
				at = now
			}
			var hidden []string
			hidden = append(hidden, forbidden...)
			for _, v := range c.h {
				if len(v) >= 16 { // long header values are signatures; short ones (ids, "v0") may legitimately recur
					hidden = append(hidden, v)
				}
			}
			res, err := v.Verify(c.h, []byte(c.body), at)
			checkErr(t, err, c.want, hidden...)
			if c.want == nil && c.wantTS != 0 && !res.Timestamp.Equal(time.Unix(c.wantTS, 0)) {
				t.Fatalf("Result.Timestamp = %v, want %v", res.Timestamp, time.Unix(c.wantTS, 0))
			}
			if c.want == nil && c.wantTS == 0 && !res.Timestamp.IsZero() {
				t.Fatalf("Result.Timestamp = %v, want zero", res.Timestamp)
			}
		})
	}
}

func TestGitHub(t *testing.T) {
	const old, cur = "old-github-secret", "current-github-secret"
	v, err := NewGitHub([]string{old, cur})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"action":"opened"}`
	good := githubSig(cur, body)
	sha1 := "sha1=" + strings.Repeat("ab", 20)
	runCases(t, v, []vcase{
		{name: "current secret", h: hdr{"x-hub-signature-256": good}, body: body},
		{name: "old secret (rotation)", h: hdr{"x-hub-signature-256": githubSig(old, body)}, body: body},
		{name: "upper-case hex", h: hdr{"x-hub-signature-256": "sha256=" + strings.ToUpper(good[7:])}, body: body},
		{name: "surrounding whitespace", h: hdr{"x-hub-signature-256": " " + good + "\t"}, body: body},
		{name: "legacy sha1 header also present", h: hdr{"x-hub-signature-256": good, "x-hub-signature": sha1}, body: body},
		{name: "absent", h: hdr{}, body: body, want: ErrMissingSignature},
		{name: "empty", h: hdr{"x-hub-signature-256": ""}, body: body, want: ErrMissingSignature},
		{name: "only legacy sha1", h: hdr{"x-hub-signature": sha1}, body: body, want: ErrMissingSignature},
		{name: "sha1 value in sha256 header", h: hdr{"x-hub-signature-256": sha1}, body: body, want: ErrMalformedSignature},
		{name: "no prefix", h: hdr{"x-hub-signature-256": good[7:]}, body: body, want: ErrMalformedSignature},
		{name: "short hex", h: hdr{"x-hub-signature-256": good[:len(good)-2]}, body: body, want: ErrMalformedSignature},
		{name: "non-hex", h: hdr{"x-hub-signature-256": good[:len(good)-1] + "g"}, body: body, want: ErrMalformedSignature},
		{name: "tampered body", h: hdr{"x-hub-signature-256": good}, body: body + " ", want: ErrNoMatch},
		{name: "wrong secret", h: hdr{"x-hub-signature-256": githubSig("other", body)}, body: body, want: ErrNoMatch},
		{name: "flipped bit", h: hdr{"x-hub-signature-256": flipHex(good)}, body: body, want: ErrNoMatch},
	}, old, cur, hex.EncodeToString(refMAC([]byte(cur), body)))
}

// flipHex changes the last hex digit of a signature.
func flipHex(s string) string {
	last := s[len(s)-1]
	r := byte('0')
	if last == '0' {
		r = '1'
	}
	return s[:len(s)-1] + string(r)
}

// TestGitHubDocumentedExample is the example from GitHub's "Validating webhook deliveries".
func TestGitHubDocumentedExample(t *testing.T) {
	v, err := NewGitHub([]string{"It's a Secret to Everybody"})
	if err != nil {
		t.Fatal(err)
	}
	h := hdr{"x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}
	if _, err := v.Verify(h, []byte("Hello, World!"), now); err != nil {
		t.Fatal(err)
	}
}

func TestStripe(t *testing.T) {
	const old, cur = "whsec_old_stripe_secret", "whsec_current_stripe_secret"
	v, err := NewStripe([]string{old, cur}, 0)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"id":"evt_1","type":"invoice.paid"}`
	ts := now.Unix()
	good := stripeHeader(cur, ts, body)
	v1 := stripeV1(cur, ts, body)
	tol := int64(DefaultTolerance / time.Second)
	at := func(delta int64) time.Time { return time.Unix(ts+delta, 0) }
	runCases(t, v, []vcase{
		{name: "current secret", h: hdr{"stripe-signature": good}, body: body, wantTS: ts},
		{name: "old secret (rotation)", h: hdr{"stripe-signature": stripeHeader(old, ts, body)}, body: body, wantTS: ts},
		{name: "one v1 per secret while rolling", h: hdr{"stripe-signature": fmt.Sprintf("t=%d,v1=%s,v1=%s", ts, stripeV1("whsec_unknown", ts, body), v1)}, body: body, wantTS: ts},
		{name: "malformed v1 next to a good one", h: hdr{"stripe-signature": fmt.Sprintf("t=%d,v1=zz,v1=%s", ts, v1)}, body: body, wantTS: ts},
		{name: "v0 and unknown schemes ignored", h: hdr{"stripe-signature": fmt.Sprintf("t=%d,v0=%s,x=1,v1=%s,junk", ts, strings.Repeat("0", 64), v1)}, body: body, wantTS: ts},
		{name: "t after v1 and spaces", h: hdr{"stripe-signature": fmt.Sprintf("v1=%s, t=%d", v1, ts)}, body: body, wantTS: ts},
		{name: "at the old edge of tolerance", h: hdr{"stripe-signature": good}, body: body, now: at(tol), wantTS: ts},
		{name: "at the future edge of tolerance", h: hdr{"stripe-signature": good}, body: body, now: at(-tol), wantTS: ts},
		{name: "too old", h: hdr{"stripe-signature": good}, body: body, now: at(tol + 1), want: ErrStaleTimestamp},
		{name: "too far in the future", h: hdr{"stripe-signature": good}, body: body, now: at(-tol - 1), want: ErrStaleTimestamp},
		{name: "absent", h: hdr{}, body: body, want: ErrMissingSignature},
		{name: "empty", h: hdr{"stripe-signature": " "}, body: body, want: ErrMissingSignature},
		{name: "no t", h: hdr{"stripe-signature": "v1=" + v1}, body: body, want: ErrMissingTimestamp},
		{name: "t not a number", h: hdr{"stripe-signature": "t=soon,v1=" + v1}, body: body, want: ErrMalformedSignature},
		{name: "negative t", h: hdr{"stripe-signature": "t=-1,v1=" + v1}, body: body, want: ErrMalformedSignature},
		{name: "two t", h: hdr{"stripe-signature": fmt.Sprintf("t=%d,t=%d,v1=%s", ts, ts, v1)}, body: body, want: ErrMalformedSignature},
		{name: "only v0", h: hdr{"stripe-signature": fmt.Sprintf("t=%d,v0=%s", ts, v1)}, body: body, want: ErrMalformedSignature},
		{name: "v1 not hex", h: hdr{"stripe-signature": fmt.Sprintf("t=%d,v1=%s", ts, strings.Repeat("x", 64))}, body: body, want: ErrMalformedSignature},
		{name: "tampered body", h: hdr{"stripe-signature": good}, body: body + "\n", want: ErrNoMatch},
		{name: "timestamp changed", h: hdr{"stripe-signature": fmt.Sprintf("t=%d,v1=%s", ts+1, v1)}, body: body, want: ErrNoMatch},
		{name: "wrong secret", h: hdr{"stripe-signature": stripeHeader("whsec_other", ts, body)}, body: body, want: ErrNoMatch},
		{name: "whsec_ prefix is part of the key", h: hdr{"stripe-signature": stripeHeader(strings.TrimPrefix(cur, "whsec_"), ts, body)}, body: body, want: ErrNoMatch},
	}, old, cur, v1)
}

// TestStaleSaysByHowMuch: a stale refusal names the timestamp, how far it is from now and which
// way, and the tolerance, so a sender can tell a slow clock from a replayed delivery.
func TestStaleSaysByHowMuch(t *testing.T) {
	t.Parallel()
	st, _ := NewStripe([]string{"whsec_x"}, 0)
	sw, _ := NewStandardWebhooks([]string{swCur}, 10*time.Second)
	mac, _ := NewHMAC(HMACConfig{Header: "X-Sig", TimestampHeader: "X-Ts", Secrets: []string{"s"}, Tolerance: time.Minute})
	ts := now.Unix()
	for _, c := range []struct {
		v    Verifier
		h    hdr
		at   time.Time
		want string
	}{
		{st, hdr{"stripe-signature": stripeHeader("whsec_x", ts, "b")}, now.Add(612*time.Second + 249*time.Millisecond + 1),
			"timestamp outside tolerance: stripe-signature: t=1700000000 is 10m12.25s in the past; at most 5m0s either way is taken"},
		{sw, hdr{"webhook-id": "m", "webhook-timestamp": fmt.Sprint(ts), "webhook-signature": swSig(swCur, "m", ts, "b")}, now.Add(-11 * time.Second),
			"timestamp outside tolerance: webhook-timestamp: 1700000000 is 11s in the future; at most 10s either way is taken"},
		{mac, hdr{"x-sig": hex.EncodeToString(refMAC([]byte("s"), fmt.Sprint(ts), ".", "b")), "x-ts": fmt.Sprint(ts)}, now.Add(time.Minute + time.Nanosecond),
			"timestamp outside tolerance: x-ts: 1700000000 is 1m0.001s in the past; at most 1m0s either way is taken"},
		{st, hdr{"stripe-signature": "t=99999999999999999,v1=" + strings.Repeat("0", 64)}, now,
			"timestamp outside tolerance: stripe-signature: t=99999999999999999 is over 292 years in the future; at most 5m0s either way is taken"},
	} {
		_, err := c.v.Verify(c.h, []byte("b"), c.at)
		if !errors.Is(err, ErrStaleTimestamp) || err.Error() != c.want {
			t.Errorf("got  %v\nwant %s", err, c.want)
		}
	}
}

func TestStripeTolerance(t *testing.T) {
	v, err := NewStripe([]string{"whsec_x"}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	h := hdr{"stripe-signature": stripeHeader("whsec_x", now.Unix(), "b")}
	for _, c := range []struct {
		delta time.Duration
		want  error
	}{{0, nil}, {10 * time.Second, nil}, {-10 * time.Second, nil}, {11 * time.Second, ErrStaleTimestamp}, {-11 * time.Second, ErrStaleTimestamp}} {
		t.Run(c.delta.String(), func(t *testing.T) {
			_, err := v.Verify(h, []byte("b"), now.Add(c.delta))
			checkErr(t, err, c.want)
		})
	}
}

const (
	swOld = "whsec_b2xkLXN0YW5kYXJkLXdlYmhvb2tzLXNlY3JldA=="
	swCur = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

func TestStandardWebhooks(t *testing.T) {
	v, err := NewStandardWebhooks([]string{swOld, swCur}, 0)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"type":"invoice.paid"}`
	ts := now.Unix()
	id := "msg_2Lh9KRb0pzN4LePd3XiA4"
	tsStr := fmt.Sprint(ts)
	good := swSig(swCur, id, ts, body)
	sw := func(sig string) hdr {
		return hdr{"webhook-id": id, "webhook-timestamp": tsStr, "webhook-signature": sig}
	}
	tol := int64(DefaultTolerance / time.Second)
	at := func(delta int64) time.Time { return time.Unix(ts+delta, 0) }
	unpadded := strings.TrimRight(good, "=")
	urlSafe := "v1," + base64.URLEncoding.EncodeToString(refMAC(swKey(swCur), id, ".", tsStr, ".", body))
	runCases(t, v, []vcase{
		{name: "current secret", h: sw(good), body: body, wantTS: ts},
		{name: "old secret (rotation)", h: sw(swSig(swOld, id, ts, body)), body: body, wantTS: ts},
		{name: "several signatures, last matches", h: sw("v1a,AAAA v1," + strings.Repeat("A", 43) + "= v2,x " + good), body: body, wantTS: ts},
		{name: "svix headers", h: hdr{"svix-id": id, "svix-timestamp": tsStr, "svix-signature": good}, body: body, wantTS: ts},
		{name: "unpadded base64", h: sw(unpadded), body: body, wantTS: ts},
		{name: "url-safe base64", h: sw(urlSafe), body: body, wantTS: ts},
		{name: "timestamp with leading zero signs as the integer", h: hdr{"webhook-id": id, "webhook-timestamp": "0" + tsStr, "webhook-signature": good}, body: body, wantTS: ts},
		{name: "at the old edge", h: sw(good), body: body, now: at(tol), wantTS: ts},
		{name: "at the future edge", h: sw(good), body: body, now: at(-tol), wantTS: ts},
		{name: "too old", h: sw(good), body: body, now: at(tol + 1), want: ErrStaleTimestamp},
		{name: "too new", h: sw(good), body: body, now: at(-tol - 1), want: ErrStaleTimestamp},
		{name: "absent", h: hdr{"webhook-id": id, "webhook-timestamp": tsStr}, body: body, want: ErrMissingSignature},
		{name: "no id", h: hdr{"webhook-timestamp": tsStr, "webhook-signature": good}, body: body, want: ErrMalformedSignature},
		{name: "webhook and svix sets are not mixed", h: hdr{"svix-id": id, "webhook-timestamp": tsStr, "webhook-signature": good}, body: body, want: ErrMalformedSignature},
		{name: "no timestamp", h: hdr{"webhook-id": id, "webhook-signature": good}, body: body, want: ErrMissingTimestamp},
		{name: "svix no timestamp", h: hdr{"svix-id": id, "svix-signature": good}, body: body, want: ErrMissingTimestamp},
		{name: "timestamp not a number", h: hdr{"webhook-id": id, "webhook-timestamp": "1.5e9", "webhook-signature": good}, body: body, want: ErrMalformedSignature},
		{name: "only v1a", h: sw("v1a," + good[3:]), body: body, want: ErrMalformedSignature},
		{name: "v1 not base64 of 32 bytes", h: sw("v1,AAAA"), body: body, want: ErrMalformedSignature},
		{name: "tampered body", h: sw(good), body: body + " ", want: ErrNoMatch},
		{name: "id changed", h: hdr{"webhook-id": id + "x", "webhook-timestamp": tsStr, "webhook-signature": good}, body: body, want: ErrNoMatch},
		{name: "timestamp changed", h: hdr{"webhook-id": id, "webhook-timestamp": fmt.Sprint(ts + 1), "webhook-signature": good}, body: body, want: ErrNoMatch},
		{name: "wrong secret", h: sw(swSig("whsec_"+base64.StdEncoding.EncodeToString([]byte("another key")), id, ts, body)), body: body, want: ErrNoMatch},
	}, swOld, swCur, good[3:])
}

func TestStandardWebhooksUnprefixedSecret(t *testing.T) {
	v, err := NewStandardWebhooks([]string{strings.TrimPrefix(swCur, "whsec_")}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	h := hdr{"webhook-id": "m", "webhook-timestamp": fmt.Sprint(now.Unix()), "webhook-signature": swSig(swCur, "m", now.Unix(), "x")}
	if _, err := v.Verify(h, []byte("x"), now); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(h, []byte("x"), now.Add(61*time.Second))
	checkErr(t, err, ErrStaleTimestamp)
}

func TestHMAC(t *testing.T) {
	const old, cur = "old-hmac-secret", "current-hmac-secret"
	body := `{"resource_type":"measurement","action":"created"}`
	ts := now.Unix()
	tsStr := fmt.Sprint(ts)
	b64 := func(secret string, parts ...string) string {
		return base64.StdEncoding.EncodeToString(refMAC([]byte(secret), parts...))
	}
	hexs := func(secret string, parts ...string) string {
		return hex.EncodeToString(refMAC([]byte(secret), parts...))
	}

	t.Run("intdash", func(t *testing.T) {
		v, err := NewHMAC(Intdash([]string{old, cur}))
		if err != nil {
			t.Fatal(err)
		}
		good := b64(cur, body)
		raw := base64.RawURLEncoding.EncodeToString(refMAC([]byte(cur), body))
		runCases(t, v, []vcase{
			{name: "current secret", h: hdr{"x-intdash-signature-256": good}, body: body},
			{name: "old secret", h: hdr{"x-intdash-signature-256": b64(old, body)}, body: body},
			{name: "raw url base64", h: hdr{"x-intdash-signature-256": raw}, body: body},
			{name: "absent", h: hdr{}, body: body, want: ErrMissingSignature},
			{name: "hex instead of base64", h: hdr{"x-intdash-signature-256": hexs(cur, body)}, body: body, want: ErrMalformedSignature},
			{name: "truncated", h: hdr{"x-intdash-signature-256": good[:40]}, body: body, want: ErrMalformedSignature},
			{name: "tampered body", h: hdr{"x-intdash-signature-256": good}, body: body[1:], want: ErrNoMatch},
			{name: "wrong secret", h: hdr{"x-intdash-signature-256": b64("nope", body)}, body: body, want: ErrNoMatch},
		}, old, cur)
	})

	t.Run("hex with prefix", func(t *testing.T) {
		v, err := NewHMAC(HMACConfig{Header: "X-Signature", Prefix: "sha256=", Secrets: []string{cur}})
		if err != nil {
			t.Fatal(err)
		}
		good := "sha256=" + hexs(cur, body)
		runCases(t, v, []vcase{
			{name: "ok", h: hdr{"x-signature": good}, body: body},
			{name: "missing prefix", h: hdr{"x-signature": good[7:]}, body: body, want: ErrMalformedSignature},
			{name: "not hex", h: hdr{"x-signature": "sha256=" + b64(cur, body)}, body: body, want: ErrMalformedSignature},
			{name: "tampered", h: hdr{"x-signature": good}, body: "x", want: ErrNoMatch},
		}, cur)
	})

	t.Run("timestamp with default template", func(t *testing.T) {
		v, err := NewHMAC(HMACConfig{Header: "X-Sig", TimestampHeader: "X-Sig-Timestamp", Secrets: []string{cur}})
		if err != nil {
			t.Fatal(err)
		}
		good := hexs(cur, tsStr, ".", body)
		tol := DefaultTolerance
		runCases(t, v, []vcase{
			{name: "ok", h: hdr{"x-sig": good, "x-sig-timestamp": tsStr}, body: body, wantTS: ts},
			{name: "edge old", h: hdr{"x-sig": good, "x-sig-timestamp": tsStr}, body: body, now: now.Add(tol), wantTS: ts},
			{name: "edge new", h: hdr{"x-sig": good, "x-sig-timestamp": tsStr}, body: body, now: now.Add(-tol), wantTS: ts},
			{name: "too old", h: hdr{"x-sig": good, "x-sig-timestamp": tsStr}, body: body, now: now.Add(tol + time.Second), want: ErrStaleTimestamp},
			{name: "too new", h: hdr{"x-sig": good, "x-sig-timestamp": tsStr}, body: body, now: now.Add(-tol - time.Second), want: ErrStaleTimestamp},
			{name: "no timestamp", h: hdr{"x-sig": good}, body: body, want: ErrMissingTimestamp},
			{name: "bad timestamp", h: hdr{"x-sig": good, "x-sig-timestamp": "yesterday"}, body: body, want: ErrMalformedSignature},
			{name: "timestamp changed", h: hdr{"x-sig": good, "x-sig-timestamp": fmt.Sprint(ts - 1)}, body: body, want: ErrNoMatch},
			{name: "body only signature", h: hdr{"x-sig": hexs(cur, body), "x-sig-timestamp": tsStr}, body: body, want: ErrNoMatch},
		}, cur)
	})

	t.Run("custom template", func(t *testing.T) {
		v, err := NewHMAC(HMACConfig{Header: "X-Slack-Signature", Prefix: "v0=", TimestampHeader: "X-Slack-Request-Timestamp",
			Template: "v0:{timestamp}:{body}", Tolerance: time.Minute, Secrets: []string{cur}})
		if err != nil {
			t.Fatal(err)
		}
		good := "v0=" + hexs(cur, "v0:", tsStr, ":", body)
		runCases(t, v, []vcase{
			{name: "ok", h: hdr{"x-slack-signature": good, "x-slack-request-timestamp": tsStr}, body: body, wantTS: ts},
			{name: "stale with custom tolerance", h: hdr{"x-slack-signature": good, "x-slack-request-timestamp": tsStr}, body: body, now: now.Add(61 * time.Second), want: ErrStaleTimestamp},
			{name: "default template signature", h: hdr{"x-slack-signature": "v0=" + hexs(cur, tsStr, ".", body), "x-slack-request-timestamp": tsStr}, body: body, want: ErrNoMatch},
		}, cur)
	})
}

func TestToken(t *testing.T) {
	const old, cur = "old-dev-token", "current-dev-token-0123456789"
	v, err := NewToken([]string{old, cur})
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, v, []vcase{
		{name: "current", h: hdr{"authorization": "Bearer " + cur}},
		{name: "old (rotation)", h: hdr{"authorization": "Bearer " + old}},
		{name: "scheme is case-insensitive", h: hdr{"authorization": "bearer  " + cur}},
		{name: "absent", h: hdr{}, want: ErrMissingSignature},
		{name: "basic", h: hdr{"authorization": "Basic " + cur}, want: ErrMalformedSignature},
		{name: "bare token", h: hdr{"authorization": cur}, want: ErrMalformedSignature},
		{name: "empty token", h: hdr{"authorization": "Bearer "}, want: ErrMalformedSignature},
		{name: "prefix of a token", h: hdr{"authorization": "Bearer " + cur[:10]}, want: ErrNoMatch},
		{name: "token plus suffix", h: hdr{"authorization": "Bearer " + cur + "x"}, want: ErrNoMatch},
		{name: "wrong", h: hdr{"authorization": "Bearer not-a-token"}, want: ErrNoMatch},
	}, old, cur)
}

func TestConstructorErrors(t *testing.T) {
	const secret = "whsec_TOPSECRETvalue"
	cases := []struct {
		name string
		new  func() error
	}{
		{"github no secrets", func() error { _, err := NewGitHub(nil); return err }},
		{"github empty secret", func() error { _, err := NewGitHub([]string{secret, ""}); return err }},
		{"stripe no secrets", func() error { _, err := NewStripe([]string{}, 0); return err }},
		{"stripe empty secret", func() error { _, err := NewStripe([]string{""}, 0); return err }},
		{"stripe negative tolerance", func() error { _, err := NewStripe([]string{secret}, -time.Second); return err }},
		{"sw no secrets", func() error { _, err := NewStandardWebhooks(nil, 0); return err }},
		{"sw empty secret", func() error { _, err := NewStandardWebhooks([]string{""}, 0); return err }},
		{"sw bad base64", func() error { _, err := NewStandardWebhooks([]string{secret + "!"}, 0); return err }},
		{"sw empty key", func() error { _, err := NewStandardWebhooks([]string{"whsec_"}, 0); return err }},
		{"sw negative tolerance", func() error { _, err := NewStandardWebhooks([]string{swCur}, -1); return err }},
		{"hmac no secrets", func() error { _, err := NewHMAC(HMACConfig{Header: "X-Sig"}); return err }},
		{"hmac empty secret", func() error { _, err := NewHMAC(HMACConfig{Header: "X-Sig", Secrets: []string{""}}); return err }},
		{"hmac no header", func() error { _, err := NewHMAC(HMACConfig{Secrets: []string{secret}}); return err }},
		{"hmac unknown encoding", func() error {
			_, err := NewHMAC(HMACConfig{Header: "X-Sig", Encoding: "base32", Secrets: []string{secret}})
			return err
		}},
		{"hmac negative tolerance", func() error {
			_, err := NewHMAC(HMACConfig{Header: "X-Sig", TimestampHeader: "X-Ts", Tolerance: -time.Second, Secrets: []string{secret}})
			return err
		}},
		{"hmac template without body", func() error {
			_, err := NewHMAC(HMACConfig{Header: "X-Sig", Template: "{timestamp}", TimestampHeader: "X-Ts", Secrets: []string{secret}})
			return err
		}},
		{"hmac template with body twice", func() error {
			_, err := NewHMAC(HMACConfig{Header: "X-Sig", Template: "{body}{body}", Secrets: []string{secret}})
			return err
		}},
		{"hmac template unknown placeholder", func() error {
			_, err := NewHMAC(HMACConfig{Header: "X-Sig", Template: "{id}.{body}", Secrets: []string{secret}})
			return err
		}},
		{"hmac template timestamp without header", func() error {
			_, err := NewHMAC(HMACConfig{Header: "X-Sig", Template: "{timestamp}.{body}", Secrets: []string{secret}})
			return err
		}},
		{"hmac timestamp header not signed", func() error {
			_, err := NewHMAC(HMACConfig{Header: "X-Sig", Template: "{body}", TimestampHeader: "X-Ts", Secrets: []string{secret}})
			return err
		}},
		{"hmac timestamp header same as signature", func() error {
			_, err := NewHMAC(HMACConfig{Header: "X-Sig", TimestampHeader: "x-sig", Secrets: []string{secret}})
			return err
		}},
		{"token no secrets", func() error { _, err := NewToken(nil); return err }},
		{"token empty secret", func() error { _, err := NewToken([]string{""}); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.new()
			if err == nil {
				t.Fatal("constructor accepted a bad configuration")
			}
			if strings.Contains(err.Error(), "TOPSECRET") {
				t.Fatalf("error %q reveals the secret", err)
			}
		})
	}
}

// TestConstructorErrorNamesTheSecret: with several secrets configured (a rotation), the error
// says which one is wrong, counted from 1, without showing it.
func TestConstructorErrorNamesTheSecret(t *testing.T) {
	for name, mk := range map[string]func() error{
		"empty":      func() error { _, err := NewGitHub([]string{"k1", "", "k3"}); return err },
		"bad base64": func() error { _, err := NewStandardWebhooks([]string{swCur, "whsec_TOPSECRET!", swOld}, 0); return err },
	} {
		err := mk()
		if err == nil || !strings.Contains(err.Error(), "secret 2 of 3") || strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("%s: err = %v, want one naming secret 2 of 3 and not showing it", name, err)
		}
	}
}

func TestConstructorDefaults(t *testing.T) {
	st, err := NewStripe([]string{"whsec_x"}, 0)
	if err != nil || st.tolerance != DefaultTolerance {
		t.Fatalf("NewStripe tolerance 0: %v, %v", st, err)
	}
	sw, err := NewStandardWebhooks([]string{swCur}, 0)
	if err != nil || sw.tolerance != DefaultTolerance {
		t.Fatalf("NewStandardWebhooks tolerance 0: %v, %v", sw, err)
	}
	h, err := NewHMAC(HMACConfig{Header: "X-Sig", TimestampHeader: "X-Ts", Secrets: []string{"k"}})
	if err != nil || h.tolerance != DefaultTolerance {
		t.Fatalf("NewHMAC default tolerance: %v, %v", h, err)
	}
	h, err = NewHMAC(HMACConfig{Header: "X-Sig", Encoding: "HEX", Secrets: []string{"k"}})
	if err != nil || h.base64 || h.header != "x-sig" {
		t.Fatalf("NewHMAC hex: %+v, %v", h, err)
	}
	cfg := Intdash([]string{"k"})
	if cfg.Header != "X-Intdash-Signature-256" || cfg.Encoding != "base64" || cfg.TimestampHeader != "" {
		t.Fatalf("Intdash preset = %+v", cfg)
	}
}

// TestConcurrentVerify exercises the per-secret pools from many goroutines (run with -race).
func TestConcurrentVerify(t *testing.T) {
	v, err := NewGitHub([]string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func(g int) {
			var err error
			for i := 0; i < 200 && err == nil; i++ {
				body := fmt.Sprintf("body %d %d", g, i)
				secret := []string{"a", "b"}[i%2]
				_, err = v.Verify(hdr{"x-hub-signature-256": githubSig(secret, body)}, []byte(body), now)
				if err == nil {
					if _, e := v.Verify(hdr{"x-hub-signature-256": githubSig(secret, body)}, []byte(body+"!"), now); !errors.Is(e, ErrNoMatch) {
						err = fmt.Errorf("tampered body: %v", e)
					}
				}
			}
			done <- err
		}(g)
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestDecoders(t *testing.T) {
	mac := refMAC([]byte("k"), "m")
	var want [32]byte
	copy(want[:], mac)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		got, ok := decodeB64x32(enc.EncodeToString(mac))
		if !ok || got != want {
			t.Fatalf("decodeB64x32(%v) = %x, %v", enc, got, ok)
		}
	}
	// Non-canonical: the two unused bits of the last character set.
	s := base64.RawStdEncoding.EncodeToString(mac)
	last := b64val[s[42]] | 1
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	if _, ok := decodeB64x32(s[:42] + string(std[last])); ok {
		t.Fatal("decodeB64x32 accepted a non-canonical encoding")
	}
	for _, bad := range []string{"", s[:42], s + "==", s + "A", s[:42] + "*", s[:42] + "=="} {
		if _, ok := decodeB64x32(bad); ok {
			t.Fatalf("decodeB64x32(%q) accepted", bad)
		}
	}
	got, ok := decodeHex32(hex.EncodeToString(mac))
	if !ok || got != want {
		t.Fatal("decodeHex32 failed")
	}
	for _, bad := range []string{"", "0", strings.Repeat("0", 63), strings.Repeat("0", 65), strings.Repeat("0", 63) + "x"} {
		if _, ok := decodeHex32(bad); ok {
			t.Fatalf("decodeHex32(%q) accepted", bad)
		}
	}
	for in, want := range map[string]int64{"0": 0, "1700000000": 1700000000, "00012": 12, "999999999999999999": 999999999999999999} {
		if got, ok := parseUnix(in); !ok || got != want {
			t.Fatalf("parseUnix(%q) = %d, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "-1", "+1", "1.5", " 1", "1e9", "9999999999999999999"} {
		if _, ok := parseUnix(bad); ok {
			t.Fatalf("parseUnix(%q) accepted", bad)
		}
	}
}
