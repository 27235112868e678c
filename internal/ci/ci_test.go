package ci_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"hookline/internal/ci"
)

// TestMissing runs a test that calls Missing in a child process, with CI=true and without:
// it must fail in CI and skip elsewhere.
func TestMissing(t *testing.T) {
	if os.Getenv("HOOKLINE_CI_CHILD") == "1" {
		ci.Missing(t, "the peer %s is not installed", "frobnicator")
		t.Error("Missing returned")
		return
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		want     string
	}{
		{"true", true, "--- FAIL: TestMissing"},
		{"", false, "--- SKIP: TestMissing"},
		{"false", false, "--- SKIP: TestMissing"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "HOOKLINE_CI_CHILD=1", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.wantFail || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "the peer frobnicator is not installed") {
			t.Errorf("CI=%q: err %v, output:\n%s", tc.ci, err, out)
		}
	}
}
