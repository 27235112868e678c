package verify

import (
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// StandardWebhooks verifies the Standard Webhooks scheme (https://www.standardwebhooks.com),
// which Svix also sends under svix-* header names: webhook-id, webhook-timestamp and
// webhook-signature, a space-separated list of "v1,<base64(HMAC-SHA256(key, "<id>.<ts>.<body>"))>".
// Any v1 entry matching any secret is accepted; other versions (v1a, …) are ignored.
type StandardWebhooks struct {
	macs      []*keyedMAC
	tolerance time.Duration
}

const swSecretPrefix = "whsec_"

// NewStandardWebhooks returns a Standard Webhooks verifier. Each secret is "whsec_<base64>"
// (or the base64 part alone); the key is the decoded bytes. A zero tolerance means
// DefaultTolerance.
func NewStandardWebhooks(secrets []string, tolerance time.Duration) (*StandardWebhooks, error) {
	if err := checkSecrets("standard-webhooks", secrets); err != nil {
		return nil, err
	}
	tol, err := toleranceOrDefault("standard-webhooks", tolerance)
	if err != nil {
		return nil, err
	}
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		key, err := StandardWebhooksKey(s)
		if err != nil {
			return nil, fmt.Errorf("verify: standard-webhooks: secret %d of %d: %w", i+1, len(secrets), err)
		}
		keys[i] = key
	}
	return &StandardWebhooks{macs: keyedMACs(keys), tolerance: tol}, nil
}

// StandardWebhooksKey decodes a "whsec_<base64>" secret (or the base64 part alone) to the HMAC
// key. The error never shows the secret.
func StandardWebhooksKey(secret string) ([]byte, error) {
	enc := strings.TrimPrefix(secret, swSecretPrefix)
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(enc)
	}
	switch {
	case err != nil:
		return nil, errors.New("not whsec_<base64>")
	case len(key) == 0:
		return nil, errors.New("decodes to an empty key")
	}
	return key, nil
}

var (
	// The svix-* headers are refused in the webhook-* names, which the docs use.
	errSWMissing     = absent(ErrMissingSignature, "webhook-signature")
	errSWNoID        = absent(ErrMalformedSignature, "webhook-id")
	errSWNoTimestamp = absent(ErrMissingTimestamp, "webhook-timestamp")

	errSWBadTime                        = notUnix("webhook-timestamp")
	errSWNoV1, errSWBadV1, errSWNoMatch = v1Errs("webhook-signature", b64x32)
)

// Verify implements Verifier; Result.Timestamp is the signed webhook-timestamp and Result.ID
// the signed webhook-id (or svix-id).
//
// The webhook-* headers are used when webhook-signature is present, else the svix-* ones;
// the two sets are never mixed, so a webhook-id sent beside verified svix-* headers is never
// the id that was verified.
func (sw *StandardWebhooks) Verify(h Header, body []byte, now time.Time) (Result, error) {
	idName, tsName := "webhook-id", "webhook-timestamp"
	sigs := trimOWS(h.Get("webhook-signature"))
	if sigs == "" {
		idName, tsName = "svix-id", "svix-timestamp"
		sigs = trimOWS(h.Get("svix-signature"))
	}
	if sigs == "" {
		return Result{}, errSWMissing
	}
	id := trimOWS(h.Get(idName))
	if id == "" {
		return Result{}, errSWNoID
	}
	tsRaw := trimOWS(h.Get(tsName))
	if tsRaw == "" {
		return Result{}, errSWNoTimestamp
	}
	ts, ok := parseUnix(tsRaw)
	if !ok {
		return Result{}, errSWBadTime
	}
	// The v1 signatures, decoded once for every secret; other versions are skipped.
	var space [4][32]byte
	v1, haveV1 := space[:0], false
	for rest := sigs; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, " ")
		version, sig, _ := strings.Cut(item, ",")
		if version != "v1" {
			continue
		}
		haveV1 = true
		if b, ok := decodeB64x32(sig); ok {
			v1 = append(v1, b)
		}
	}
	switch {
	case !haveV1:
		return Result{}, errSWNoV1
	case len(v1) == 0:
		return Result{}, errSWBadV1
	}
	if err := checkFresh("webhook-timestamp: ", ts, now, sw.tolerance); err != nil {
		return Result{}, err
	}
	for i, m := range sw.macs {
		s := m.get()
		// The libraries sign the re-formatted integer, so "0123" signs as "123".
		s.buf = append(s.buf[:0], id...)
		s.buf = append(appendUnix(append(s.buf, '.'), ts), '.')
		s.h.Write(s.buf)
		s.h.Write(body)
		want := m.finish(s)
		for _, got := range v1 {
			if hmac.Equal(want[:], got[:]) {
				return Result{Timestamp: time.Unix(ts, 0).UTC(), Key: i, ID: id}, nil
			}
		}
	}
	return Result{}, errSWNoMatch
}
