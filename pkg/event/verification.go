package event

import (
	"crypto/sha256"
	"encoding/hex"
)

// Verification is the evidence of how an event's sender proved who it is, kept with every
// event: which scheme, which secret (rotation tracking counts Key), how far the signed clock
// was from ours, what exactly was signed, and whether the id came from signed material.
//
// In the envelope it travels as flat CloudEvents extension attributes, because extension
// values must be scalars with lower-case alphanumeric names: verifyscheme, verifykey,
// verifyskewms (only with a signed timestamp), verifybodysha256, verifysignedid.
type Verification struct {
	Scheme string // the source's scheme, e.g. "stripe"; "" on an event that carries no evidence
	Key    int    // 0-based index of the secret that matched, in config order
	// SkewMS is the signed timestamp minus the receipt time, in milliseconds; meaningful only
	// when HasSkew (the scheme signs a timestamp).
	SkewMS  int64
	HasSkew bool
	// BodySHA256 is the SHA-256 of the body as received (before any decoding into the envelope).
	BodySHA256 [sha256.Size]byte
	// SignedID says whether the event id came from what the signature covers (a signed id or
	// the signed body) rather than from a header taken on trust or a fresh id.
	SignedID bool
}

// Present reports whether v holds evidence; events stored before evidence was kept have none.
func (v Verification) Present() bool { return v.Scheme != "" }

// BodySHA256Hex is BodySHA256 in lower-case hex.
func (v Verification) BodySHA256Hex() string { return hex.EncodeToString(v.BodySHA256[:]) }

// Names of the extension attributes that carry a Verification in the envelope.
const (
	ExtVerifyScheme     = "verifyscheme"
	ExtVerifyKey        = "verifykey"
	ExtVerifySkewMS     = "verifyskewms"
	ExtVerifyBodySHA256 = "verifybodysha256"
	ExtVerifySignedID   = "verifysignedid"
)
