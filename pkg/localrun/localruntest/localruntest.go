// Package localruntest runs `hookline local` (localrun.Run) in-process on 127.0.0.1 for tests
// that need the whole pipeline: end-to-end, CLI, Postman and browser tests share it.
package localruntest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"hookline/internal/sink"
	"hookline/pkg/historyapi"
	"hookline/pkg/localrun"
)

// Server is a running pipeline.
type Server struct {
	URL     string       // http://127.0.0.1:<port>
	DataDir string       // the engine file, the outbox, demo secrets
	Logs    *sink.Buffer // the server's JSON log lines
}

// Start runs localrun.Run with cfg until the test ends, and fails the test if it does not
// listen within 20 s or returns an error when stopped. Unset fields default to: Addr
// 127.0.0.1:0, DataDir a fresh temporary directory, Log JSON lines into Server.Logs.
func Start(t testing.TB, cfg localrun.Config) *Server {
	t.Helper()
	s := &Server{Logs: &sink.Buffer{}}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = filepath.Join(t.TempDir(), "data")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewJSONHandler(s.Logs, nil))
	}
	s.DataDir = cfg.DataDir
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- localrun.Run(ctx, cfg, io.Discard, ready) }()
	select {
	case addr := <-ready:
		s.URL = "http://" + addr
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("hookline local: %v", err)
			}
		})
		return s
	case err := <-done:
		cancel()
		t.Fatalf("hookline local stopped before listening: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("hookline local did not listen within 20s")
	}
	return nil
}

// List reads GET /events?limit=100 from the server at url (a Server's URL); anything but 200
// with a list fails the test.
func List(t testing.TB, url string) historyapi.ListView {
	t.Helper()
	resp, err := http.Get(url + "/events?limit=100")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list historyapi.ListView
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /events: %d %v", resp.StatusCode, err)
	}
	return list
}
