package verify

import (
	"crypto/hmac"
	"strings"
	"time"
)

// GitHub verifies X-Hub-Signature-256: "sha256=" + hex(HMAC-SHA256(secret, body)).
// The legacy SHA-1 X-Hub-Signature header is ignored: a request carrying only it is treated
// as unsigned.
type GitHub struct {
	macs []*keyedMAC
}

// NewGitHub returns a GitHub verifier accepting any of secrets (each used as raw bytes).
func NewGitHub(secrets []string) (*GitHub, error) {
	if err := checkSecrets("github", secrets); err != nil {
		return nil, err
	}
	return &GitHub{macs: keyedMACs(rawKeys(secrets))}, nil
}

var (
	githubSignature = sigHeader{githubHeader, newErr(ErrMissingSignature, githubHeader+" header absent (sha1 x-hub-signature is not accepted)")}
	errGitHubPrefix = newErr(ErrMalformedSignature, githubHeader+": want "+githubSignaturePre+"<"+hex32+">")

	errGitHubHex, errGitHubNoMatch = sigErrs(githubHeader, hex32)
)

const (
	githubHeader       = "x-hub-signature-256"
	githubSignaturePre = "sha256="
)

// Verify implements Verifier. The Result has no timestamp and no id: GitHub signs neither
// (X-GitHub-Delivery is not covered by the signature).
func (g *GitHub) Verify(h Header, body []byte, _ time.Time) (Result, error) {
	v, err := githubSignature.in(h)
	if err != nil {
		return Result{}, err
	}
	hexSig, ok := strings.CutPrefix(v, githubSignaturePre)
	if !ok {
		return Result{}, errGitHubPrefix
	}
	got, ok := decodeHex32(hexSig)
	if !ok {
		return Result{}, errGitHubHex
	}
	for i, m := range g.macs {
		s := m.get()
		s.h.Write(body)
		want := m.finish(s)
		if hmac.Equal(want[:], got[:]) {
			return Result{Key: i}, nil
		}
	}
	return Result{}, errGitHubNoMatch
}
