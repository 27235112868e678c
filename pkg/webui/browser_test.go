//go:build unix

package webui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/internal/ci"
	"hookline/pkg/local/engine"
	"hookline/pkg/localrun"
	"hookline/pkg/localrun/localruntest"
	"hookline/pkg/sender"
)

// The Debian packages' paths; mk/browser.mk installs them for `make test`.
const (
	chromiumPath     = "/usr/bin/chromium"
	chromedriverName = "chromedriver"
	githubSecret     = "it's-a-secret-0123"
	scriptType       = `<script>alert(1)</script>`
)

// needBrowser finds chromium and chromedriver: in CI their absence fails the test, elsewhere
// it skips with the command that installs them.
func needBrowser(t *testing.T) (chromium, chromedriver string) {
	t.Helper()
	driver, err := exec.LookPath(chromedriverName)
	if _, cerr := os.Stat(chromiumPath); cerr != nil || err != nil {
		msg := "headless Chromium is not installed (want " + chromiumPath + " and chromedriver on PATH); " +
			"`make test` installs it (mk/browser.mk), or: apt-get install chromium chromium-driver"
		ci.Missing(t, "%s", msg)
	}
	return chromiumPath, driver
}

// TestBrowser runs `hookline local` in-process, posts signed GitHub webhooks, and checks in a
// real headless Chromium what a person sees: the list, live updates, an event, its email.
func TestBrowser(t *testing.T) {
	chromium, driver := needBrowser(t)
	srv := startHookline(t)

	push := srv.postGitHub(t, "push", "d-1", "application/json", `{"ref":"refs/heads/main","commits":[{"id":"4f2a","message":"Fix the flux capacitor"}]}`)
	evil := srv.postGitHub(t, scriptType, "d-2", "application/json", `{"comment":"<img src=x onerror=alert(2)>"}`)
	text := srv.postGitHub(t, "ping", "d-3", "text/plain", "A new message has been published")
	for _, id := range []string{push, evil, text} {
		srv.waitNotified(t, id)
	}

	b := startBrowser(t, driver, chromium)
	b.navigate(srv.url + "/")
	// What a person sees: three rows, newest first, each notified, and the filter form.
	b.waitFor("three notified rows", func() (bool, string, error) {
		st, err := b.texts("table.events tbody .status")
		return len(st) == 3 && strings.Count(strings.Join(st, " "), "notified") == 3, strings.Join(st, ","), err
	})
	types, err := b.texts("table.events tbody a.type")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ping", scriptType, "push"}; strings.Join(types, "|") != strings.Join(want, "|") {
		t.Errorf("types on the page = %q, want %q (newest first, the script tag as text)", types, want)
	}
	for _, css := range []string{`form.filters input[name="source"]`, `form.filters input[name="type"]`, `form.filters select[name="since"]`, `form.filters button[type="submit"]`} {
		if els, err := b.find(css); err != nil || len(els) != 1 {
			t.Errorf("filter control %s: %d found, %v", css, len(els), err)
		}
	}
	// The sender's <script> stayed text: the only script on the page is our own file, and it
	// never ran (an alert would have failed every later WebDriver command).
	var scripts []string
	b.exec(`return Array.from(document.scripts, s => s.src || "inline: " + s.text)`, &scripts)
	if len(scripts) != 1 || !strings.HasSuffix(scripts[0], "/ui/static/refresh.js") {
		t.Errorf("scripts on the page: %q", scripts)
	}

	// Live: an event posted while the page is open appears without navigating.
	late := srv.postGitHub(t, "issues", "d-4", "application/json", `{"action":"opened","issue":{"number":7,"title":"Webhook view"}}`)
	srv.waitNotified(t, late)
	b.waitFor("the late event to appear by itself", func() (bool, string, error) {
		ids, err := b.texts("table.events tbody a.id")
		return len(ids) == 4 && ids[0] == late, strings.Join(ids, ","), err
	})

	// Filter by type through the form, as a person would.
	b.click("#live") // untick auto-refresh so typing and clicking are not interrupted
	b.click(`form.filters input[name="type"]`)
	b.cmd(http.MethodPost, "/element/"+mustFind(t, b, `form.filters input[name="type"]`)+"/value", map[string]string{"text": "push"}, nil)
	b.click(`form.filters button[type="submit"]`)
	b.waitFor("only the push event", func() (bool, string, error) {
		ids, err := b.texts("table.events tbody a.id")
		return len(ids) == 1 && ids[0] == push && strings.Contains(b.url(), "type=push"), strings.Join(ids, ","), err
	})

	// Into the event: envelope, status and the indented JSON data.
	b.click(`a[href="/ui/events/` + push + `"]`)
	b.waitFor("the event page", func() (bool, string, error) {
		h, err := b.texts("h1")
		return strings.HasSuffix(b.url(), "/ui/events/"+push) && len(h) == 1 && strings.Contains(h[0], "push"), strings.Join(h, ","), err
	})
	data, err := b.texts("pre.data")
	if err != nil || len(data) != 1 || !strings.Contains(data[0], "\"ref\": \"refs/heads/main\",\n  \"commits\": [") {
		t.Errorf("pretty-printed data = %q, %v", data, err)
	}
	dds, _ := b.texts("dd")
	if all := strings.Join(dds, "\n"); !strings.Contains(all, "d-1") || !strings.Contains(all, "application/json") {
		t.Errorf("envelope attributes = %q", dds)
	}
	shotDir := filepath.Join("..", "..", "build", "screenshots")
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	b.screenshot(filepath.Join(shotDir, "webui-event.png"))

	// On to its email in the outbox.
	b.click(`a[href="/ui/outbox/` + push + `"]`)
	b.waitFor("the email page", func() (bool, string, error) {
		h, err := b.texts("h1.subject")
		return len(h) == 1 && h[0] == "[hookline] push from github", strings.Join(h, ","), err
	})
	body, err := b.texts("pre.mail")
	if err != nil || len(body) != 1 || !strings.Contains(body[0], "A push event from github has been processed.") || !strings.Contains(body[0], push) {
		t.Errorf("email body = %q, %v", body, err)
	}
	b.screenshot(filepath.Join(shotDir, "webui-email.png"))

	// The outbox lists all four emails, the script-tag subject as text.
	b.click(`nav a[href="/ui/outbox"]`)
	b.waitFor("four emails", func() (bool, string, error) {
		subj, err := b.texts("table.emails tbody td:nth-child(2)")
		return len(subj) == 4 && strings.Contains(strings.Join(subj, "|"), "[hookline] "+scriptType+" from github"), strings.Join(subj, "|"), err
	})

	// The screenshot a person would look at first: the full list.
	// With "live" ticked again, as a person leaves it.
	b.navigate(srv.url + "/")
	b.click("#live")
	b.waitFor("four rows", func() (bool, string, error) {
		ids, err := b.texts("table.events tbody a.id")
		return len(ids) == 4, strings.Join(ids, ","), err
	})
	shot := filepath.Join(shotDir, "webui.png")
	b.screenshot(shot)
	abs, _ := filepath.Abs(shot)
	t.Logf("screenshots: %s (and webui-event.png, webui-email.png beside it)", abs)
}

func mustFind(t *testing.T, b *browser, css string) string {
	t.Helper()
	els, err := b.find(css)
	if err != nil || len(els) == 0 {
		t.Fatalf("find %s: %v", css, err)
	}
	return els[0]
}

type hookline struct{ url string }

// startHookline runs the whole local pipeline on a loopback port with one GitHub source.
func startHookline(t *testing.T) *hookline {
	t.Helper()
	dir := t.TempDir()
	sources := filepath.Join(dir, "sources.json")
	cfg, _ := json.Marshal(map[string]any{"sources": map[string]any{"github": map[string]any{"scheme": "github", "secrets": []string{githubSecret}}}})
	if err := os.WriteFile(sources, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	rs := localruntest.Start(t, localrun.Config{
		DataDir: filepath.Join(dir, "data"), SourcesFile: sources,
		Visibility: time.Second, Durability: engine.DurabilityProcess,
	})
	return &hookline{url: rs.URL}
}

// postGitHub signs body the way GitHub does and returns the accepted event id.
func (h *hookline) postGitHub(t *testing.T, typ, delivery, contentType, body string) string {
	t.Helper()
	resp, err := sender.Send(context.Background(), http.DefaultClient, h.url, "github", sender.Request{
		Scheme: sender.GitHub, Secret: githubSecret, Body: []byte(body), ContentType: contentType, Type: typ, DeliveryID: delivery,
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || resp.EventID == "" {
		t.Fatalf("POST %s: %d %s", typ, resp.StatusCode, resp.Body)
	}
	return resp.EventID
}

// waitNotified polls GET /events/{id} until the completion email went out.
func (h *hookline) waitNotified(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(h.url + "/events/" + id)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && bytes.Contains(raw, []byte(`"status":"notified"`)) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("event %s was not notified within 15s", id)
}
