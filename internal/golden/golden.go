// Package golden compares what a test produced with a file under the test's testdata/ and,
// when the test runs with -update, rewrites the file first (golden files for wire shapes, as
// STYLE habit 5 asks), and reads the JSON files tests start from (ReadJSON: a Lambda event, a
// Postman collection). Like gotest.tools/golden, it owns the -update flag of every test binary
// that imports it.
package golden

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Check compares got with testdata/name.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is stale (-golden +got); run go test -update if the change is intended:\n%s", path, diff)
	}
}

// ReadJSON decodes the JSON file at path into v; a missing or malformed file fails the test.
func ReadJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
