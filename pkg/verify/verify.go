package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Header looks up a request header by its lower-case name ("x-hub-signature-256").
type Header interface{ Get(lowerName string) string }

// Verifier checks that body was sent by the holder of a secret.
type Verifier interface {
	Verify(h Header, body []byte, now time.Time) (Result, error)
}

// Result is what a successful verification learned: the evidence stored with the event, and
// the sender's id of the delivery when the signature covers one.
type Result struct {
	Timestamp time.Time // the signed timestamp, zero when the scheme signs none
	// Key is the 0-based index, in config order, of the secret that matched. Rotation tracking
	// counts it: once no event matches an old secret any more, that secret can go.
	Key int
	// ID is the delivery id the signature covers: webhook-id or svix-id of the header set that
	// verified, or the {id} of an hmac-sha256 template. "" when the scheme signs no id; an id
	// header that no signature covers is never reported here.
	ID string
}

// Sentinel errors; every error returned by Verify wraps exactly one of these (errors.Is works),
// with a short, safe detail. Messages never contain a secret, an expected signature, or the
// received signature value.
var (
	ErrMissingSignature   = errors.New("missing signature")   // header absent/empty
	ErrMalformedSignature = errors.New("malformed signature") // header present but unparseable
	ErrMissingTimestamp   = errors.New("missing timestamp")
	ErrStaleTimestamp     = errors.New("timestamp outside tolerance")
	ErrNoMatch            = errors.New("no matching signature")
)

// DefaultTolerance is how far a signed timestamp may be from now, either way, when none is set.
const DefaultTolerance = 5 * time.Minute

var (
	_ Verifier = (*GitHub)(nil)
	_ Verifier = (*Stripe)(nil)
	_ Verifier = (*StandardWebhooks)(nil)
	_ Verifier = (*HMAC)(nil)
	_ Verifier = (*Token)(nil)
	_ Verifier = (*Twilio)(nil)
)

// verifyError is a sentinel plus a fixed, safe detail. Instances are package variables, so
// failing requests cost no allocation either.
type verifyError struct {
	kind   error
	detail string
}

func (e *verifyError) Error() string { return e.kind.Error() + ": " + e.detail }
func (e *verifyError) Unwrap() error { return e.kind }

func newErr(kind error, detail string) *verifyError { return &verifyError{kind: kind, detail: detail} }

// The wordings several verifiers share, each built from the header (or the part of one) it is
// about, so a configured hmac-sha256 header is refused in the same words as a built-in scheme's.

// absent: the header is not there, or empty.
func absent(kind error, header string) *verifyError { return newErr(kind, header+" header absent") }

// sigHeader is a built-in scheme's signature header with its refusal when absent or blank, so
// the refusal always names the header that was read.
type sigHeader struct {
	name    string
	missing *verifyError
}

// signatureHeader is the header name, refused in the shared wording (absent) when missing.
func signatureHeader(name string) sigHeader {
	return sigHeader{name: name, missing: absent(ErrMissingSignature, name)}
}

// in returns the header's value in h without optional white space, or the refusal when that
// is empty.
func (s sigHeader) in(h Header) (string, error) {
	if v := trimOWS(h.Get(s.name)); v != "" {
		return v, nil
	}
	return "", s.missing
}

// notUnix: a signed timestamp that is not unix seconds. label names it ("webhook-timestamp").
func notUnix(label string) *verifyError {
	return newErr(ErrMalformedSignature, label+" is not unix seconds")
}

// staleError is a signed timestamp too far from now. Unlike the other refusals it is built
// when a request is refused for it, so that it can say by how much: the sender's clock (or a
// replay's age) is what to fix, and only the offset tells which. Accepted requests still
// allocate nothing.
type staleError struct {
	label string        // the timestamp's place, value following: "stripe-signature: t=", "webhook-timestamp: "
	ts    int64         // the signed unix seconds
	off   time.Duration // now − ts: positive when ts is in the past
	tol   time.Duration
}

func (e *staleError) Error() string {
	off, when := e.off, "in the past"
	if off < 0 {
		off, when = -off, "in the future"
	}
	// Up to the next millisecond (the receipt times hookline keeps are milliseconds): readable,
	// and never rounded down into the tolerance.
	by := (off + time.Millisecond - 1).Truncate(time.Millisecond).String()
	if off < 0 || off > math.MaxInt64-time.Millisecond { // time.Time.Sub saturated (-MinInt64 is itself)
		by = "over 292 years"
	}
	return fmt.Sprintf("%v: %s%d is %s %s; at most %v either way is taken", ErrStaleTimestamp, e.label, e.ts, by, when, e.tol)
}

func (e *staleError) Unwrap() error { return ErrStaleTimestamp }

// checkFresh is nil when ts is within tol of now, either way, else the staleError saying by
// how much; label is staleError's.
func checkFresh(label string, ts int64, now time.Time, tol time.Duration) error {
	off := now.Sub(time.Unix(ts, 0))
	if off <= tol && off >= -tol {
		return nil
	}
	return &staleError{label: label, ts: ts, off: off, tol: tol}
}

// sigErrs: the one signature in header is not in encoding enc, or matches no secret.
func sigErrs(header, enc string) (malformed, noMatch *verifyError) {
	return newErr(ErrMalformedSignature, header+": signature is not "+enc), newErr(ErrNoMatch, header+" matches no secret")
}

// v1Errs: header's list of signatures has no v1 entry, none in encoding enc, or none matching.
func v1Errs(header, enc string) (none, malformed, noMatch *verifyError) {
	none = newErr(ErrMalformedSignature, header+": no v1 signature")
	return none, newErr(ErrMalformedSignature, none.detail+" is "+enc), newErr(ErrNoMatch, none.detail+" matches a secret")
}

// macState is one pooled HMAC-SHA256 state for one key, with room for its output and for
// the small signed prefixes ("<ts>.", "<id>.<ts>.") so nothing escapes to the heap per call.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
	buf []byte
}

// keyedMAC hands out HMAC-SHA256 states for one key.
type keyedMAC struct {
	pool sync.Pool
}

func newKeyedMAC(key []byte) *keyedMAC {
	k := append([]byte(nil), key...)
	m := &keyedMAC{}
	m.pool.New = func() any { return &macState{h: hmac.New(sha256.New, k), buf: make([]byte, 0, 64)} }
	return m
}

func (m *keyedMAC) get() *macState {
	s := m.pool.Get().(*macState)
	s.h.Reset()
	return s
}

// finish computes the MAC, returns the state to the pool and the MAC by value.
func (m *keyedMAC) finish(s *macState) [sha256.Size]byte {
	s.h.Sum(s.sum[:0])
	out := s.sum
	if cap(s.buf) > 4096 {
		s.buf = make([]byte, 0, 64) // don't pin a huge webhook-id in the pool
	}
	m.pool.Put(s)
	return out
}

func keyedMACs(secrets [][]byte) []*keyedMAC {
	out := make([]*keyedMAC, len(secrets))
	for i, s := range secrets {
		out[i] = newKeyedMAC(s)
	}
	return out
}

// checkSecrets rejects an empty list or an empty secret; the error never shows a secret.
func checkSecrets(scheme string, secrets []string) error {
	if len(secrets) == 0 {
		return fmt.Errorf("verify: %s: no secrets", scheme)
	}
	for i, s := range secrets {
		if s == "" {
			return fmt.Errorf("verify: %s: secret %d of %d is empty", scheme, i+1, len(secrets))
		}
	}
	return nil
}

func rawKeys(secrets []string) [][]byte {
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		keys[i] = []byte(s)
	}
	return keys
}

func toleranceOrDefault(scheme string, d time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("verify: %s: negative tolerance %v", scheme, d)
	case d == 0:
		return DefaultTolerance, nil
	}
	return d, nil
}

// parseUnix parses a decimal unix-seconds timestamp: digits only, no sign, at most 18 digits.
func parseUnix(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// fresh reports whether ts lies within tol of now, on either side.
// appendUnix is strconv.AppendInt, named for what it is used for.
func appendUnix(b []byte, ts int64) []byte { return strconv.AppendInt(b, ts, 10) }

// trimOWS trims HTTP optional whitespace (spaces and tabs).
func trimOWS(s string) string { return strings.Trim(s, " \t") }

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// hex32 and b64x32 name the two encodings of a 32-byte signature in error details.
const (
	hex32  = "64 hex digits"
	b64x32 = "base64 of 32 bytes"
)

// decodeHex32 decodes exactly 64 hex digits (either case) into a 32-byte array. The input
// is the received signature, which is public; only the MAC comparison needs constant time.
func decodeHex32(s string) (out [sha256.Size]byte, ok bool) {
	if len(s) != 2*sha256.Size {
		return out, false
	}
	for i := range out {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return out, false
		}
		out[i] = hi<<4 | lo
	}
	return out, true
}

// b64val maps both the standard and the URL-safe alphabet; 0xff marks anything else.
var b64val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

// decodeB64x32 decodes the base64 form of 32 bytes: 43 characters, optionally followed by one
// '=', in the standard or URL-safe alphabet. Non-canonical encodings (non-zero unused bits)
// are rejected, so exactly one string decodes to a given MAC, as when comparing encoded strings.
func decodeB64x32(s string) (out [sha256.Size]byte, ok bool) {
	switch {
	case len(s) == 44 && s[43] == '=':
		s = s[:43]
	case len(s) != 43:
		return out, false
	}
	var acc uint32
	var bits uint
	j := 0
	for i := 0; i < len(s); i++ {
		v := b64val[s[i]]
		if v == 0xff {
			return out, false
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			out[j] = byte(acc >> bits)
			j++
			acc &= 1<<bits - 1
		}
	}
	// 43*6 = 258 bits: 256 decoded, 2 left over that must be zero.
	if j != sha256.Size || acc != 0 {
		return out, false
	}
	return out, true
}
