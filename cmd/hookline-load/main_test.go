package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusesBeforeSending: a URL off the loopback or an unreadable secret file ends the
// command with status 2 and a message naming the problem, before any request is sent.
func TestRefusesBeforeSending(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-secret")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-url", "http://203.0.113.7:8080"}, "hookline-load: --url must be a loopback address\n"},
		{[]string{"-secret-file", missing}, "hookline-load: open " + missing + ": no such file or directory\n"},
	} {
		var stdout, stderr bytes.Buffer
		if got := command.Call(context.Background(), c.args, &stdout, &stderr); got != 2 || stderr.String() != c.want || stdout.Len() != 0 {
			t.Errorf("%s: status %d, stderr %q, stdout %q; want 2, %q and nothing", strings.Join(c.args, " "), got, stderr.String(), stdout.String(), c.want)
		}
	}
}
