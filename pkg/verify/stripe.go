package verify

import (
	"crypto/hmac"
	"strings"
	"time"
)

// Stripe verifies Stripe-Signature: "t=<unix>,v1=<hex>[,v1=<hex>…]" where each v1 is
// hex(HMAC-SHA256(secret, "<t>.<body>")) and the key is the whole "whsec_…" string as raw
// bytes. v0 and unknown schemes are ignored; with several v1 values (Stripe sends one per
// active secret while rolling) any match is accepted.
type Stripe struct {
	macs      []*keyedMAC
	tolerance time.Duration
}

// NewStripe returns a Stripe verifier. A zero tolerance means DefaultTolerance.
func NewStripe(secrets []string, tolerance time.Duration) (*Stripe, error) {
	if err := checkSecrets("stripe", secrets); err != nil {
		return nil, err
	}
	tol, err := toleranceOrDefault("stripe", tolerance)
	if err != nil {
		return nil, err
	}
	return &Stripe{macs: keyedMACs(rawKeys(secrets)), tolerance: tol}, nil
}

var (
	stripeSignature      = signatureHeader("stripe-signature")
	errStripeNoTimestamp = newErr(ErrMissingTimestamp, "stripe-signature: no t= timestamp")
	errStripeDupTime     = newErr(ErrMalformedSignature, "stripe-signature: more than one t=")

	errStripeBadTime                                = notUnix("stripe-signature: t=")
	errStripeNoV1, errStripeBadV1, errStripeNoMatch = v1Errs("stripe-signature", hex32)
)

// Verify implements Verifier; Result.Timestamp is the signed t=. Result.ID stays empty: Stripe's
// id is the body's "id", which the signature covers with the rest of the body (pkg/source reads it).
func (st *Stripe) Verify(h Header, body []byte, now time.Time) (Result, error) {
	v, err := stripeSignature.in(h)
	if err != nil {
		return Result{}, err
	}
	// First pass: the timestamp, and whether any v1 value is usable.
	var ts int64
	haveTS, haveV1, goodV1 := false, false, false
	for rest := v; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, ",")
		key, val, _ := strings.Cut(trimOWS(item), "=")
		switch key {
		case "t":
			if haveTS {
				return Result{}, errStripeDupTime
			}
			n, ok := parseUnix(val)
			if !ok {
				return Result{}, errStripeBadTime
			}
			ts, haveTS = n, true
		case "v1":
			haveV1 = true
			if _, ok := decodeHex32(val); ok {
				goodV1 = true
			}
		}
	}
	switch {
	case !haveTS:
		return Result{}, errStripeNoTimestamp
	case !haveV1:
		return Result{}, errStripeNoV1
	case !goodV1:
		return Result{}, errStripeBadV1
	}
	if err := checkFresh("stripe-signature: t=", ts, now, st.tolerance); err != nil {
		return Result{}, err
	}
	for i, m := range st.macs {
		s := m.get()
		s.buf = append(appendUnix(s.buf[:0], ts), '.')
		s.h.Write(s.buf)
		s.h.Write(body)
		want := m.finish(s)
		for rest := v; rest != ""; {
			var item string
			item, rest, _ = strings.Cut(rest, ",")
			key, val, _ := strings.Cut(trimOWS(item), "=")
			if key != "v1" {
				continue
			}
			if got, ok := decodeHex32(val); ok && hmac.Equal(want[:], got[:]) {
				return Result{Timestamp: time.Unix(ts, 0).UTC(), Key: i}, nil
			}
		}
	}
	return Result{}, errStripeNoMatch
}
