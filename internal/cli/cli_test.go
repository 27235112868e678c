package cli

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"testing"
)

// TestExitStatuses: the statuses the developer commands had with flag.ExitOnError and their
// own os.Exit calls, and each problem printed once, after the command's name.
func TestExitStatuses(t *testing.T) {
	parse := func(args ...string) error {
		fs := flag.NewFlagSet("cmd", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Int("n", 1, "")
		return Parse(fs, args)
	}
	for _, c := range []struct {
		name   string
		err    error
		status int
		stderr string
	}{
		{"none", nil, 0, ""},
		{"parsed", parse("-n", "2"), 0, ""},
		{"help", parse("-h"), 0, ""},
		{"bad flag, printed by the flag set", parse("-x"), 2, ""},
		{"bad flag value", parse("-n", "two"), 2, ""},
		{"bad value", Usagef("--url must be a loopback address"), 2, "cmd: --url must be a loopback address\n"},
		{"failed run", errors.New("connection refused"), 1, "cmd: connection refused\n"},
	} {
		var stderr bytes.Buffer
		if got := Exit(&stderr, "cmd", c.err); got != c.status || stderr.String() != c.stderr {
			t.Errorf("%s: status %d, stderr %q; want %d, %q", c.name, got, stderr.String(), c.status, c.stderr)
		}
	}
}
