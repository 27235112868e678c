package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
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

// TestCall: the flag set a Command's run gets is named after it and writes to the command's
// stderr, and Call returns the status Exit gives: usage for -h (0), a bad flag printed once by
// the flag set (2), a failed run after the command's name (1).
func TestCall(t *testing.T) {
	cmd := Command{Name: "cmd", Run: func(_ context.Context, fs *flag.FlagSet, args []string, stdout, _ io.Writer) error {
		n := fs.Int("n", 1, "how many")
		if err := Parse(fs, args); err != nil {
			return err
		}
		if *n < 0 {
			return errors.New("n is negative")
		}
		_, err := fmt.Fprintln(stdout, *n)
		return err
	}}
	for _, c := range []struct {
		args           []string
		status         int
		stdout, stderr string
	}{
		{[]string{"-n", "2"}, 0, "2\n", ""},
		{[]string{"-h"}, 0, "", "Usage of cmd:\n  -n int\n    \thow many (default 1)\n"},
		{[]string{"-x"}, 2, "", "flag provided but not defined: -x\nUsage of cmd:\n  -n int\n    \thow many (default 1)\n"},
		{[]string{"-n", "-1"}, 1, "", "cmd: n is negative\n"},
	} {
		var stdout, stderr bytes.Buffer
		if got := cmd.Call(context.Background(), c.args, &stdout, &stderr); got != c.status || stdout.String() != c.stdout || stderr.String() != c.stderr {
			t.Errorf("%q: status %d, stdout %q, stderr %q; want %d, %q, %q", c.args, got, stdout.String(), stderr.String(), c.status, c.stdout, c.stderr)
		}
	}
}
