package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fuzz targets feed arbitrary header values and bodies to each verifier. Besides "never
// panics", each checks two properties:
//   - acceptance implies an independent oracle (written from the provider's documentation,
//     using only the standard library) finds a correct signature made with the secret; so no
//     input is ever accepted without the secret;
//   - every rejection wraps exactly one sentinel, is one of the package's fixed errors (or the
//     staleError that says by how much a timestamp is off) and reveals neither the secret nor
//     the expected signature.

const fuzzSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func checkRejection(t *testing.T, err error, secret string, expected []byte) {
	t.Helper()
	if n := sentinelsIn(err); n != 1 {
		t.Fatalf("error %v wraps %d sentinels", err, n)
	}
	var ve *verifyError
	var se *staleError
	if !errors.As(err, &ve) && !errors.As(err, &se) {
		t.Fatalf("error %v is neither one of the package's fixed errors nor a staleError", err)
	}
	if se != nil && strings.Contains(err.Error(), " is -") {
		t.Fatalf("stale refusal %q has a negative figure", err)
	}
	msg := err.Error()
	forbidden := []string{secret}
	if len(expected) > 0 {
		forbidden = append(forbidden, hex.EncodeToString(expected), base64.StdEncoding.EncodeToString(expected)[:40])
	}
	for _, f := range forbidden {
		if strings.Contains(msg, f) {
			t.Fatalf("error %q reveals secret material", msg)
		}
	}
}

func decodesTo(sig string, want []byte, b64 bool) bool {
	if !b64 {
		got, err := hex.DecodeString(sig)
		return err == nil && bytes.Equal(got, want)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if got, err := enc.Strict().DecodeString(sig); err == nil && bytes.Equal(got, want) {
			return true
		}
	}
	return false
}

func FuzzGitHubHeader(f *testing.F) {
	v := verifierFor(f, "github", fuzzSecret)
	body := `{"zen":"Keep it logically awesome."}`
	f.Add(githubSig(fuzzSecret, body), []byte(body))
	f.Add(strings.ToUpper(githubSig(fuzzSecret, body)), []byte(body))
	f.Add("sha256=", []byte{})
	f.Add("sha1=0123456789abcdef0123456789abcdef01234567", []byte("x"))
	f.Add("sha256="+strings.Repeat("g", 64), []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		expected := refMAC([]byte(fuzzSecret), string(body))
		_, err := v.Verify(hdr{"x-hub-signature-256": header}, body, now)
		if err != nil {
			checkRejection(t, err, fuzzSecret, expected)
			return
		}
		sig, ok := strings.CutPrefix(strings.Trim(header, " \t"), "sha256=")
		if !ok || !decodesTo(sig, expected, false) {
			t.Fatalf("accepted %q without a valid signature", header)
		}
	})
}

func FuzzStripeHeader(f *testing.F) {
	v := verifierFor(f, "stripe", fuzzSecret)
	ts := now.Unix()
	body := `{"id":"evt_1"}`
	f.Add(stripeHeader(fuzzSecret, ts, body), []byte(body), int64(0))
	f.Add(fmt.Sprintf("t=%d,v0=abc,v1=%s,v1=zz", ts, stripeV1(fuzzSecret, ts, body)), []byte(body), int64(299))
	f.Add(stripeHeader(fuzzSecret, ts, body), []byte(body), int64(-301))
	f.Add("t=,v1=", []byte{}, int64(0))
	f.Add("t=1,t=2", []byte("x"), int64(0))
	f.Add(",,,=,v1", []byte("x"), int64(0))
	f.Fuzz(func(t *testing.T, header string, body []byte, skew int64) {
		at := now.Add(time.Duration(skew) * time.Second)
		res, err := v.Verify(hdr{"stripe-signature": header}, body, at)
		if err != nil {
			checkRejection(t, err, fuzzSecret, nil)
			return
		}
		// Oracle: some v1 item is hex(HMAC(secret, "<t>.<body>")) and t is within tolerance.
		var tsRaw string
		var v1s []string
		for _, item := range strings.Split(header, ",") {
			k, val, _ := strings.Cut(strings.Trim(item, " \t"), "=")
			switch k {
			case "t":
				tsRaw = val
			case "v1":
				v1s = append(v1s, val)
			}
		}
		tsv, err := strconv.ParseInt(tsRaw, 10, 64)
		if err != nil || tsv < 0 {
			t.Fatalf("accepted %q with timestamp %q", header, tsRaw)
		}
		if d := at.Sub(time.Unix(tsv, 0)); d > DefaultTolerance || d < -DefaultTolerance || !res.Timestamp.Equal(time.Unix(tsv, 0)) {
			t.Fatalf("accepted %q at %v: timestamp outside tolerance or misreported (%v)", header, at, res.Timestamp)
		}
		expected := refMAC([]byte(fuzzSecret), strconv.FormatInt(tsv, 10), ".", string(body))
		for _, s := range v1s {
			if decodesTo(s, expected, false) {
				return
			}
		}
		t.Fatalf("accepted %q without a valid v1 signature", header)
	})
}

func FuzzStandardWebhooksHeader(f *testing.F) {
	v := verifierFor(f, "standard-webhooks", fuzzSecret)
	ts := now.Unix()
	body := `{"type":"x"}`
	good := swSig(fuzzSecret, "msg_1", ts, body)
	f.Add("msg_1", fmt.Sprint(ts), good, []byte(body), false, int64(0))
	f.Add("msg_1", fmt.Sprint(ts), "v1a,AAAA v1,bad "+good, []byte(body), true, int64(100))
	f.Add("msg_1", "0"+fmt.Sprint(ts), strings.TrimRight(good, "="), []byte(body), false, int64(-300))
	f.Add("", "", "", []byte{}, false, int64(0))
	f.Add("a", "1", "v1,", []byte("x"), true, int64(0))
	f.Add("a", "99999999999999999", "v1,"+strings.Repeat("A", 43)+"=", []byte("x"), false, int64(0))
	f.Fuzz(func(t *testing.T, id, tsRaw, sigs string, body []byte, svix bool, skew int64) {
		h := hdr{"webhook-id": id, "webhook-timestamp": tsRaw, "webhook-signature": sigs}
		if svix {
			h = hdr{"svix-id": id, "svix-timestamp": tsRaw, "svix-signature": sigs}
		}
		at := now.Add(time.Duration(skew) * time.Second)
		res, err := v.Verify(h, body, at)
		if err != nil {
			checkRejection(t, err, fuzzSecret, nil)
			return
		}
		tsv, perr := strconv.ParseInt(strings.Trim(tsRaw, " \t"), 10, 64)
		if perr != nil || tsv < 0 {
			t.Fatalf("accepted timestamp %q", tsRaw)
		}
		if d := at.Sub(time.Unix(tsv, 0)); d > DefaultTolerance || d < -DefaultTolerance || !res.Timestamp.Equal(time.Unix(tsv, 0)) {
			t.Fatalf("accepted timestamp %q at %v (reported %v)", tsRaw, at, res.Timestamp)
		}
		expected := refMAC(swKey(fuzzSecret), strings.Trim(id, " \t"), ".", strconv.FormatInt(tsv, 10), ".", string(body))
		for _, item := range strings.Split(strings.Trim(sigs, " \t"), " ") {
			if ver, s, _ := strings.Cut(item, ","); ver == "v1" && decodesTo(s, expected, true) {
				return
			}
		}
		t.Fatalf("accepted %q without a valid v1 signature", sigs)
	})
}

func FuzzHMACHeader(f *testing.F) {
	plain := verifierFor(f, "intdash", fuzzSecret)
	stamped, err := NewHMAC(HMACConfig{Header: "X-Sig", Prefix: "sha256=", TimestampHeader: "X-Ts", Secrets: []string{fuzzSecret}})
	if err != nil {
		f.Fatal(err)
	}
	ts := fmt.Sprint(now.Unix())
	body := `{"resource_type":"measurement","action":"created"}`
	f.Add(base64.StdEncoding.EncodeToString(refMAC([]byte(fuzzSecret), body)), "", []byte(body), false)
	f.Add(base64.RawURLEncoding.EncodeToString(refMAC([]byte(fuzzSecret), body)), "", []byte(body), false)
	f.Add("sha256="+hex.EncodeToString(refMAC([]byte(fuzzSecret), ts, ".", body)), ts, []byte(body), true)
	f.Add("sha256=", "", []byte{}, true)
	f.Add("====", "x", []byte("x"), false)
	f.Fuzz(func(t *testing.T, sig, tsRaw string, body []byte, withTS bool) {
		if !withTS {
			expected := refMAC([]byte(fuzzSecret), string(body))
			_, err := plain.Verify(hdr{"x-intdash-signature-256": sig}, body, now)
			if err != nil {
				checkRejection(t, err, fuzzSecret, expected)
				return
			}
			if !decodesTo(strings.Trim(sig, " \t"), expected, true) {
				t.Fatalf("accepted %q without a valid signature", sig)
			}
			return
		}
		_, err := stamped.Verify(hdr{"x-sig": sig, "x-ts": tsRaw}, body, now)
		if err != nil {
			checkRejection(t, err, fuzzSecret, nil)
			return
		}
		tsTrim := strings.Trim(tsRaw, " \t")
		tsv, perr := strconv.ParseInt(tsTrim, 10, 64)
		if perr != nil || tsv < 0 || now.Sub(time.Unix(tsv, 0)).Abs() > DefaultTolerance {
			t.Fatalf("accepted timestamp %q", tsRaw)
		}
		expected := refMAC([]byte(fuzzSecret), tsTrim, ".", string(body))
		s, ok := strings.CutPrefix(strings.Trim(sig, " \t"), "sha256=")
		if !ok || !decodesTo(s, expected, false) {
			t.Fatalf("accepted %q without a valid signature", sig)
		}
	})
}

func FuzzBearerToken(f *testing.F) {
	const secret = "dev-token-0123456789"
	v, err := NewToken([]string{secret})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Bearer " + secret)
	f.Add("bearer\t" + secret)
	f.Add("Bearer " + secret[:5])
	f.Add("Basic " + secret)
	f.Add("Bearer")
	f.Add("")
	f.Fuzz(func(t *testing.T, auth string) {
		_, err := v.Verify(hdr{"authorization": auth}, nil, now)
		if err != nil {
			checkRejection(t, err, secret, nil)
			return
		}
		scheme, tok, _ := strings.Cut(strings.Trim(auth, " \t"), " ")
		if !strings.EqualFold(scheme, "bearer") || strings.Trim(tok, " \t") != secret {
			t.Fatalf("accepted %q", auth)
		}
	})
}

// FuzzDecoders checks the allocation-free decoders against encoding/hex and encoding/base64.
func FuzzDecoders(f *testing.F) {
	mac := refMAC([]byte("k"), "m")
	f.Add(hex.EncodeToString(mac))
	f.Add(base64.StdEncoding.EncodeToString(mac))
	f.Add(base64.RawURLEncoding.EncodeToString(mac))
	f.Add(strings.Repeat("/", 43))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := decodeHex32(s)
		want, err := hex.DecodeString(s)
		if ok != (err == nil && len(want) == 32) || (ok && !bytes.Equal(got[:], want)) {
			t.Fatalf("decodeHex32(%q) = %x, %v; encoding/hex: %x, %v", s, got, ok, want, err)
		}
		gotB, okB := decodeB64x32(s)
		if strings.ContainsAny(s, "\r\n") {
			// encoding/base64 skips line breaks; ours (for one-line header values) rejects them.
			if okB {
				t.Fatalf("decodeB64x32(%q) accepted a line break", s)
			}
			return
		}
		wantB := false
		var ref []byte
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.Strict().DecodeString(s); err == nil && len(b) == 32 {
				wantB, ref = true, b
				break
			}
		}
		if !wantB && okB {
			// Mixed alphabets ("+" with "_") are accepted by ours only; they must still decode
			// to what a single alphabet would give.
			norm := strings.NewReplacer("-", "+", "_", "/").Replace(s)
			if b, err := base64.StdEncoding.Strict().DecodeString(norm); err == nil && len(b) == 32 {
				wantB, ref = true, b
			} else if b, err := base64.RawStdEncoding.Strict().DecodeString(norm); err == nil && len(b) == 32 {
				wantB, ref = true, b
			}
		}
		if okB != wantB || (okB && !bytes.Equal(gotB[:], ref)) {
			t.Fatalf("decodeB64x32(%q) = %x, %v; encoding/base64: %x, %v", s, gotB, okB, ref, wantB)
		}
	})
}
