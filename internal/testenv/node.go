// Package testenv finds and starts the peers tests need — the Node tools pinned in
// .tools/package.json (dynalite, maildev, newman, …) — and builds clients pointed at them. It is
// test support only (internal/), never linked into a product binary.
//
// A missing peer skips the test with a hint, except under CI=true, where it fails (internal/ci):
// CI installs every peer (make test runs npm ci --prefix .tools) and must never silently skip.
package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"hookline/internal/ci"
)

// Locate returns node and the absolute path of script, a path under .tools/node_modules
// (e.g. "dynalite/cli.js"), or skips/fails t as described in the package doc.
func Locate(t testing.TB, script string) (node, path string) {
	t.Helper()
	node, path, err := locate(script)
	if err != nil {
		ci.Missing(t, "%s not available (%v); run `npm ci --prefix .tools` to run this test", script, err)
	}
	return node, path
}

func locate(script string) (node, path string, err error) {
	node, err = exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("node is not on PATH: %w", err)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", "", err
	}
	path = filepath.Join(root, ".tools", "node_modules", filepath.FromSlash(script))
	if _, err := os.Stat(path); err != nil {
		return "", "", fmt.Errorf("not installed: %w", err)
	}
	return node, path, nil
}

// RepoRoot walks up from the working directory (the package under test) to go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for servers that cannot
// listen on port 0 and report the port they got.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
