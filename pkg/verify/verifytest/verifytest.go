// Package verifytest hands tests the provider-signed requests in pkg/verify/testdata/vectors.json,
// made or checked by the providers' own libraries (.tools/vectors/sign.mjs: @octokit/webhooks-methods,
// stripe, standardwebhooks, svix, twilio, @slack/bolt, @shopify/shopify-api, @zoom/rivet; node's
// crypto for intdash and Meta, which publish none). Each vector's Origin says which. The
// verifiers, the test sender and the end-to-end tests all check against the same file.
package verifytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Vector is one provider-signed request.
type Vector struct {
	Provider  string            `json:"provider"` // github, stripe, standard-webhooks, svix, intdash, slack, shopify, meta, twilio, zoom
	Name      string            `json:"name"`
	Origin    string            `json:"origin,omitempty"` // the library that made or checked it
	Secret    string            `json:"secret"`
	Body      string            `json:"body"`
	Headers   map[string]string `json:"headers"`
	Timestamp int64             `json:"timestamp"` // when it was signed, unix seconds
	// ContentType is the request's Content-Type where the signature depends on it (Twilio's
	// form parameters) or the body is not JSON; "" means application/json.
	ContentType string `json:"content_type,omitempty"`
	// URL is the full URL the provider requested (Twilio signs it).
	URL string `json:"url,omitempty"`
	// Answer is the handshake reply the provider's library gives, for handshake requests.
	Answer map[string]any `json:"answer,omitempty"`
}

// Scheme is the sources-config scheme that verifies the vector: Svix is Standard Webhooks.
func (v Vector) Scheme() string {
	if v.Provider == "svix" {
		return "standard-webhooks"
	}
	return v.Provider
}

// Path is the vectors file, found from this source file so any package's test can read it.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "vectors.json")
}

// Load reads every vector.
func Load(t testing.TB) []Vector {
	t.Helper()
	b, err := os.ReadFile(Path())
	if err != nil {
		t.Fatal(err)
	}
	var vs []Vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatalf("%s: %v", Path(), err)
	}
	return vs
}
