package main

import (
	"path/filepath"
	"testing"
)

// githubLocal returns a fresh data dir for hookline local and a sources file beside it that
// configures one source, "github", verified with secret.
func githubLocal(t *testing.T, secret string) (data, sources string) {
	t.Helper()
	dir := t.TempDir()
	data, sources = filepath.Join(dir, "data"), filepath.Join(dir, "sources.json")
	writeFile(t, sources, `{"sources": {"github": {"scheme": "github", "secrets": ["`+secret+`"]}}}`)
	return data, sources
}
