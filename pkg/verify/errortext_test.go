package verify

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"hookline/internal/golden"
)

// TestErrorTexts: a refused request's detail is a contract (docs/api.md, the quarantine's
// detail, hookline rejected), so every error a verifier returns is pinned, kind and wording,
// in testdata/errors.golden. The shared wordings (absent, timeErrs, v1Errs …) are built once;
// this is what says they still build each verifier's texts.
func TestErrorTexts(t *testing.T) {
	t.Parallel()
	hexHMAC, err := NewHMAC(HMACConfig{Header: "X-Sig", Prefix: "sha256=", TimestampHeader: "X-Ts", IDHeader: "X-Id", Template: "{id}.{timestamp}.{body}", Secrets: []string{"s"}})
	if err != nil {
		t.Fatal(err)
	}
	b64HMAC, err := NewHMAC(HMACConfig{Header: "X-Sig-B64", Encoding: "base64", Secrets: []string{"s"}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range []struct {
		name string
		err  error
	}{
		{"github missing", githubSignature.missing}, {"github prefix", errGitHubPrefix}, {"github hex", errGitHubHex}, {"github no match", errGitHubNoMatch},
		{"sw missing", errSWMissing}, {"sw no id", errSWNoID}, {"sw no timestamp", errSWNoTimestamp}, {"sw bad time", errSWBadTime},
		{"sw stale", staleAt("webhook-timestamp: ", -10*time.Minute-1500*time.Millisecond, 0)}, {"sw no v1", errSWNoV1}, {"sw bad v1", errSWBadV1}, {"sw no match", errSWNoMatch},
		{"stripe missing", stripeSignature.missing}, {"stripe no timestamp", errStripeNoTimestamp}, {"stripe bad time", errStripeBadTime},
		{"stripe dup time", errStripeDupTime}, {"stripe no v1", errStripeNoV1}, {"stripe bad v1", errStripeBadV1},
		{"stripe stale", staleAt("stripe-signature: t=", 5*time.Minute+time.Nanosecond, 0)}, {"stripe no match", errStripeNoMatch},
		{"token missing", tokenAuthorization.missing}, {"token scheme", errTokenScheme}, {"token no match", errTokenNoMatch},
		{"twilio missing", twilioSignature.missing}, {"twilio url", errTwilioURL}, {"twilio enc", errTwilioEnc}, {"twilio form", errTwilioForm},
		{"twilio body", errTwilioBody}, {"twilio no match", errTwilioNoMatch},
		{"hmac missing", hexHMAC.errMissing}, {"hmac prefix", hexHMAC.errPrefix}, {"hmac hex", hexHMAC.errEncoding},
		{"hmac base64", b64HMAC.errEncoding}, {"hmac no match", hexHMAC.errNoMatch}, {"hmac no timestamp", hexHMAC.errNoTS},
		{"hmac bad time", hexHMAC.errBadTS}, {"hmac stale", staleAt("x-ts: ", 2*time.Hour, 90*time.Second)}, {"hmac no id", hexHMAC.errNoID},
	} {
		fmt.Fprintf(&b, "%-20s %s\n", e.name, e.err)
	}
	golden.Check(t, "errors.golden", []byte(b.String()))
}

// staleAt is checkFresh's refusal of a timestamp off before now (negative: in the future), with
// tolerance tol (0: DefaultTolerance); it fails the test if checkFresh takes it.
func staleAt(label string, off, tol time.Duration) error {
	if tol == 0 {
		tol = DefaultTolerance
	}
	ts := time.Unix(1_764_700_000, 0)
	err := checkFresh(label, ts.Unix(), ts.Add(off), tol)
	if err == nil {
		panic(fmt.Sprintf("checkFresh took an offset of %v with tolerance %v", off, tol))
	}
	return err
}
