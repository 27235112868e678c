package verify

import (
	"crypto/sha256"
	"crypto/subtle"
	"hash"
	"strings"
	"sync"
	"time"
)

// Token verifies a static bearer token: "Authorization: Bearer <token>". The token and every
// secret are compared as SHA-256 digests, in constant time, so neither the content nor the
// length of a secret leaks through timing.
type Token struct {
	digests [][sha256.Size]byte
	pool    sync.Pool
}

type tokenState struct {
	h   hash.Hash
	sum [sha256.Size]byte
	buf []byte
}

// NewToken returns a bearer-token verifier accepting any of secrets.
func NewToken(secrets []string) (*Token, error) {
	if err := checkSecrets("token", secrets); err != nil {
		return nil, err
	}
	t := &Token{digests: make([][sha256.Size]byte, len(secrets))}
	for i, s := range secrets {
		t.digests[i] = sha256.Sum256([]byte(s))
	}
	t.pool.New = func() any { return &tokenState{h: sha256.New(), buf: make([]byte, 0, 64)} }
	return t, nil
}

var (
	tokenAuthorization = signatureHeader("authorization")
	errTokenScheme     = newErr(ErrMalformedSignature, "authorization: want Bearer <token>")
	errTokenNoMatch    = newErr(ErrNoMatch, "authorization: bearer token matches no secret")
)

// Verify implements Verifier. The Result has no timestamp and no id: a token signs nothing.
func (t *Token) Verify(h Header, _ []byte, _ time.Time) (Result, error) {
	v, err := tokenAuthorization.in(h)
	if err != nil {
		return Result{}, err
	}
	scheme, tok, _ := strings.Cut(v, " ")
	tok = trimOWS(tok)
	if !strings.EqualFold(scheme, "bearer") || tok == "" {
		return Result{}, errTokenScheme
	}
	s := t.pool.Get().(*tokenState)
	s.h.Reset()
	s.buf = append(s.buf[:0], tok...)
	s.h.Write(s.buf)
	s.h.Sum(s.sum[:0])
	got := s.sum
	if cap(s.buf) > 4096 {
		s.buf = make([]byte, 0, 64) // don't pin a huge token in the pool
	}
	t.pool.Put(s)
	// Every digest is compared, and the index picked without a branch, so timing says nothing
	// about which secret (if any) matched.
	match, key := 0, 0
	for i := range t.digests {
		eq := subtle.ConstantTimeCompare(t.digests[i][:], got[:])
		key = subtle.ConstantTimeSelect(eq&^match, i, key)
		match |= eq
	}
	if match != 1 {
		return Result{}, errTokenNoMatch
	}
	return Result{Key: key}, nil
}
