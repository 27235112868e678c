package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"hookline/pkg/sender"
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

// push posts the GitHub push event {"n":i}, signed with secret, to the source "github" of the
// server at url, and returns the id it was accepted as.
func push(url, secret string, i int) (string, error) {
	resp, err := sender.Send(context.Background(), nil, url, "github", sender.Request{
		Scheme: sender.GitHub, Secret: secret, Body: fmt.Appendf(nil, `{"n":%d}`, i), Type: "push", ContentType: "application/json",
	})
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusAccepted || resp.EventID == "" {
		return "", fmt.Errorf("post %d: %d, event id %q", i, resp.StatusCode, resp.EventID)
	}
	return resp.EventID, nil
}
