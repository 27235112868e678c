// Package verifytest hands tests the provider-signed requests in pkg/verify/testdata/vectors.json,
// made by the providers' own libraries (.tools/vectors/sign.mjs: @octokit/webhooks-methods,
// stripe, standardwebhooks, svix; node's crypto for intdash, which has no library). The
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
	Provider  string            `json:"provider"` // github, stripe, standard-webhooks, svix, intdash
	Name      string            `json:"name"`
	Secret    string            `json:"secret"`
	Body      string            `json:"body"`
	Headers   map[string]string `json:"headers"`
	Timestamp int64             `json:"timestamp"` // when it was signed, unix seconds
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
