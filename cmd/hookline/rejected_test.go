package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/internal/testenv"
	"hookline/pkg/email"
	"hookline/pkg/localrun"
	"hookline/pkg/rejectedcli"
	"hookline/pkg/sender"
)

// runLocal runs hookline local on data with the sources file until the returned stop is
// called (or the test ends).
func runLocal(t *testing.T, data, sources string) (url string, stop func()) {
	t.Helper()
	return runLocalWith(t, localrun.Config{DataDir: data, SourcesFile: sources})
}

// runLocalWith is runLocal with more of the config set.
func runLocalWith(t *testing.T, cfg localrun.Config) (url string, stop func()) {
	t.Helper()
	cfg.Addr, cfg.Visibility, cfg.Log = "127.0.0.1:0", time.Second, slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- localrun.Run(ctx, cfg, io.Discard, ready)
	}()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hookline local: %v", err)
		}
	}
	t.Cleanup(stop)
	select {
	case addr := <-ready:
		return "http://" + addr, stop
	case err := <-done:
		t.Fatalf("hookline local stopped before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("hookline local did not listen within 20s")
	}
	return "", nil
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRejectedReadmitEndToEnd: a request signed with a secret the config does not have yet is
// refused and kept (hookline rejected list --json, the web view's Rejected page) with its
// signature redacted; after a restart with the secret added, readmit turns it into one stored,
// emailed event, and a second readmit into none.
func TestRejectedReadmitEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, sources := filepath.Join(dir, "data"), filepath.Join(dir, "sources.json")
	const oldSecret, newSecret = "readmit-old-secret-0123", "readmit-new-secret-0123"
	writeFile(t, sources, `{"sources": {"github": {"scheme": "github", "secrets": ["`+oldSecret+`"]}}}`)
	url, stop := runLocal(t, data, sources)

	body := `{"action":"opened","number":7}`
	h, err := sender.Sign(sender.Request{Scheme: sender.GitHub, Secret: newSecret, Body: []byte(body), Type: "issues", ContentType: "application/json"})
	if err != nil {
		t.Fatal(err)
	}
	signature := h.Get("X-Hub-Signature-256")
	req, _ := http.NewRequest(http.MethodPost, url+"/webhooks/github", strings.NewReader(body))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signed with a secret not configured yet: %d, want 401", resp.StatusCode)
	}

	v, out := onlyRejection(t, "--data", data)
	if v.Source != "github" || v.Reason != "unauthorized" || v.SourceIP != "127.0.0.1" || v.BodySize != len(body) ||
		v.Headers["x-hub-signature-256"] != "[redacted]" || v.Headers["x-github-event"] != "issues" || v.Path != "/webhooks/github" {
		t.Errorf("kept rejection: %+v", v)
	}
	got, err := cli(t, "rejected", "get", v.ID, "--json", "--data", data)
	if err != nil || !strings.Contains(got, `"body": "{\"action\":\"opened\",\"number\":7}"`) {
		t.Errorf("rejected get --json: %v\n%s", err, got)
	}
	for what, s := range map[string]string{"list": out, "get": got} {
		if strings.Contains(s, strings.TrimPrefix(signature, "sha256=")) {
			t.Errorf("rejected %s shows the signature", what)
		}
	}
	code, page := testenv.Get(t, url+"/ui/rejected")
	if code != 200 || !strings.Contains(page, v.ID) || !strings.Contains(page, "unauthorized") {
		t.Errorf("GET /ui/rejected: %d, the rejection %s not listed:\n%s", code, v.ID, page)
	}
	// A misspelt or repeated filter is refused by name (as on the event list), not ignored.
	for target, want := range map[string]string{
		"/ui/rejected?reasons=forbidden":                 "unknown query parameter &#34;reasons&#34;: the rejected list takes source, reason, since, cursor",
		"/ui/rejected?reason=forbidden&reason=not_found": "reason: given 2 times; it takes one value",
	} {
		if code, page := testenv.Get(t, url+target); code != 400 || !strings.Contains(page, want) || strings.Contains(page, v.ID) {
			t.Errorf("GET %s: %d, want 400 %q and no rows:\n%s", target, code, want, page)
		}
	}
	code, page = testenv.Get(t, url+"/ui/rejected/"+v.ID)
	if code != 200 || !strings.Contains(page, "[redacted]") || strings.Contains(page, strings.TrimPrefix(signature, "sha256=")) || !strings.Contains(page, "&#34;number&#34;: 7") {
		t.Errorf("GET /ui/rejected/%s: %d\n%s", v.ID, code, page)
	}

	// Readmitting with the old config still refuses it, and changes nothing.
	out, err = cli(t, "rejected", "readmit", v.ID, "--data", data, "--sources", sources)
	if err == nil || !strings.Contains(out, "still refused: no matching signature: x-hub-signature-256 matches no secret") {
		t.Errorf("readmit before the secret is added: %v\n%s", err, out)
	}

	stop()
	writeFile(t, sources, `{"sources": {"github": {"scheme": "github", "secrets": ["`+oldSecret+`", "`+newSecret+`"]}}}`)
	url, _ = runLocal(t, data, sources)

	out, err = cli(t, "rejected", "readmit", v.ID, "--data", data, "--sources", sources)
	if err != nil || !strings.Contains(out, "readmitted: published as event ") {
		t.Fatalf("readmit: %v\n%s", err, out)
	}
	id := strings.TrimSpace(out[strings.LastIndex(out, " ")+1:])
	emails := func() int {
		n, _ := (&email.Outbox{Dir: filepath.Join(data, "outbox")}).IDs()
		return len(n)
	}
	eventually(t, 10*time.Second, func() string {
		code, b := testenv.Get(t, url+"/events/"+id)
		if code != 200 || !strings.Contains(b, `"notified_at"`) || emails() != 1 {
			return "readmitted event " + id + " not stored and emailed: " + b
		}
		return ""
	})
	code, b := testenv.Get(t, url+"/events/"+id)
	if code != 200 || !strings.Contains(b, `"type":"issues.opened"`) || !strings.Contains(b, `"key":1`) {
		t.Errorf("readmitted event: %d %s", code, b)
	}

	out, err = cli(t, "rejected", "readmit", v.ID, "--data", data, "--sources", sources)
	if err != nil || !strings.Contains(out, "already readmitted as event "+id+"; nothing published") {
		t.Errorf("second readmit: %v\n%s", err, out)
	}
	out, err = cli(t, "rejected", "readmit", "--source", "github", "--since", "1h", "--data", data, "--sources", sources)
	if err != nil || !strings.Contains(out, "readmitted 0, already readmitted 1, still refused 0") {
		t.Errorf("readmit --source --since: %v\n%s", err, out)
	}
	eventually(t, 10*time.Second, func() string {
		if code, b := testenv.Get(t, url+"/healthz"); code != 200 || !strings.Contains(b, `"queue":{"visible":0,"in_flight":0}`) {
			return "queue not drained: " + b
		}
		return ""
	})
	out, err = cli(t, "events", "list", "--json", "--data", data)
	if err != nil || strings.Count(out, "\n") != 1 || emails() != 1 {
		t.Errorf("after two readmits: %d events, %d emails, want 1 and 1 (%v)\n%s", strings.Count(out, "\n"), emails(), err, out)
	}
	if out, _ := cli(t, "rejected", "list", "--data", data); !strings.Contains(out, id) {
		t.Errorf("rejected list does not show the event it was readmitted as:\n%s", out)
	}
}

// onlyRejection runs `hookline rejected list --json` on where (--data, or --table and its
// flags) and returns the one rejection it lists, and the output.
func onlyRejection(t *testing.T, where ...string) (rejectedcli.View, string) {
	t.Helper()
	out, err := cli(t, append([]string{"rejected", "list", "--json"}, where...)...)
	if err != nil {
		t.Fatal(err)
	}
	var v rejectedcli.View
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &v); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("rejected list --json %s: want one object, got %q (%v)", strings.Join(where, " "), out, err)
	}
	return v, out
}

// TestRejectedCannotDriveTheTerminal: anyone can have a request refused and kept, so what
// `hookline rejected list` and `get` print of it (the source name from the URL, the headers,
// the body) reaches the operator's terminal escaped: no escape sequence, no broken table row.
func TestRejectedCannotDriveTheTerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, sources := filepath.Join(dir, "data"), filepath.Join(dir, "sources.json")
	writeFile(t, sources, `{"sources": {"postman": {"scheme": "token", "secrets": ["a-token-for-this-test"]}}}`)
	url, stop := runLocal(t, data, sources)
	for _, path := range []string{"/webhooks/x%1b]0;TITLE%07%1b[2J%09y", "/webhooks/postman", "/webhooks/" + strings.Repeat("n", 3000)} {
		resp, err := http.Post(url+path, "text/plain", strings.NewReader("hello \x1b]0;PWNED\a\x1b[2J\r\nend"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 4 {
			t.Fatalf("POST %s: %d, want a refusal", path, resp.StatusCode)
		}
	}
	stop()

	list, err := cli(t, "rejected", "list", "--data", data)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(list, "\x1b\a\t") || strings.Count(list, "\n") != 4 || !strings.Contains(list, `x\x1b]0;TITLE\a\x1b[2J\ty`) {
		t.Errorf("rejected list:\n%q", list)
	}
	// A 3,000-byte name nobody configured is cut in the table, so it does not widen every row.
	if lines := strings.Split(list, "\n"); len(lines[0]) > 200 || !strings.Contains(list, strings.Repeat("n", 64)+"… ") {
		t.Errorf("rejected list with a 3,000-byte source name: header line %d bytes:\n%s", len(lines[0]), list)
	}
	for _, line := range strings.Split(strings.TrimSpace(list), "\n")[1:] {
		if strings.Contains(line, "nnnn") {
			continue
		}
		id := strings.Fields(line)[0]
		out, err := cli(t, "rejected", "get", id, "--data", data)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(out, "\x1b\a") || !strings.HasSuffix(out, "hello \\x1b]0;PWNED\\a\\x1b[2J\r\nend\n") {
			t.Errorf("rejected get %s:\n%q", id, out)
		}
	}
}
