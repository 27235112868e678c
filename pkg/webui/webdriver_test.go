//go:build unix

package webui_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"hookline/internal/testenv"
)

// A WebDriver (W3C) client just big enough for the browser test: chromedriver drives the
// Debian chromium, and the test needs no Go dependency beyond the standard library.

// chromiumArgs work headless as root on a CI machine without a display, a GPU or network.
var chromiumArgs = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-dev-shm-usage", "--window-size=1280,900", "--hide-scrollbars",
}

// elementKey is the W3C name of an element reference in JSON.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

type browser struct {
	t       *testing.T
	base    string // http://127.0.0.1:port/session/id
	client  *http.Client
	timeout time.Duration // how long waitFor polls
}

var portLine = regexp.MustCompile(`started successfully on port (\d+)`)

// startBrowser runs chromedriver on a loopback port and opens a chromium session whose
// profile lives in a temp dir; both are gone when the test ends.
func startBrowser(t *testing.T, chromedriver, chromium string) *browser {
	t.Helper()
	cmd := testenv.Peer(chromedriver, "--port=0", "--allowed-ips=127.0.0.1")
	// Own process group, so cleanup stops chromium too even if the session cannot be closed.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromedriver: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	portc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := portLine.FindStringSubmatch(sc.Text()); m != nil {
				portc <- m[1]
			}
		}
	}()
	var port string
	select {
	case port = <-portc:
	case <-time.After(20 * time.Second):
		t.Fatalf("chromedriver did not report its port; stderr: %s", stderr.String())
	}

	b := &browser{t: t, client: &http.Client{Timeout: 60 * time.Second}, timeout: 15 * time.Second}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName":      "chrome",
		"pageLoadStrategy": "normal",
		"goog:chromeOptions": map[string]any{
			"binary": chromium,
			"args":   append(chromiumArgs, "--user-data-dir="+t.TempDir()),
		},
	}}}
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(http.MethodPost, "http://127.0.0.1:"+port+"/session", caps, &sess); err != nil {
		t.Fatalf("open a chromium session: %v", err)
	}
	b.base = "http://127.0.0.1:" + port + "/session/" + sess.SessionID
	t.Cleanup(func() { _ = b.call(http.MethodDelete, b.base, nil, nil) })
	return b
}

// call sends one WebDriver command and decodes its "value" into out.
func (b *browser) call(method, url string, in, out any) error {
	var body io.Reader
	if in != nil {
		j, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error, Message string }
		_ = json.Unmarshal(env.Value, &e)
		return fmt.Errorf("%s: %s", e.Error, firstLine(e.Message))
	}
	if out != nil {
		return json.Unmarshal(env.Value, out)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func (b *browser) cmd(method, path string, in, out any) {
	b.t.Helper()
	if err := b.call(method, b.base+path, in, out); err != nil {
		b.t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
}

func (b *browser) navigate(url string) {
	b.t.Helper()
	b.cmd(http.MethodPost, "/url", map[string]string{"url": url}, nil)
}

func (b *browser) url() string {
	b.t.Helper()
	var u string
	b.cmd(http.MethodGet, "/url", nil, &u)
	return u
}

// find returns the elements matching a CSS selector now (possibly none).
func (b *browser) find(css string) ([]string, error) {
	var els []map[string]string
	if err := b.call(http.MethodPost, b.base+"/elements", map[string]string{"using": "css selector", "value": css}, &els); err != nil {
		return nil, err
	}
	ids := make([]string, len(els))
	for i, e := range els {
		ids[i] = e[elementKey]
	}
	return ids, nil
}

func (b *browser) text(el string) (string, error) {
	var s string
	err := b.call(http.MethodGet, b.base+"/element/"+el+"/text", nil, &s)
	return s, err
}

// texts returns the visible text of every element matching css. The list page refreshes its
// rows by itself (refresh.js), so an element found can be replaced before its text is read
// ("stale element reference"): the whole read is then taken again, a few times, for the
// callers outside waitFor (a loaded CI machine hit it once between find and text).
func (b *browser) texts(css string) ([]string, error) {
	var err error
	for range 10 {
		var out []string
		if out, err = b.textsOnce(css); err == nil || !strings.Contains(err.Error(), "stale element reference") {
			return out, err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}

func (b *browser) textsOnce(css string) ([]string, error) {
	els, err := b.find(css)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(els))
	for _, el := range els {
		s, err := b.text(el)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// waitFor polls cond until it reports done, or fails the test with what it last saw.
func (b *browser) waitFor(what string, cond func() (bool, string, error)) {
	b.t.Helper()
	deadline := time.Now().Add(b.timeout)
	var last string
	var lastErr error
	for time.Now().Before(deadline) {
		ok, seen, err := cond()
		if err == nil && ok {
			return
		}
		last, lastErr = seen, err
		time.Sleep(150 * time.Millisecond)
	}
	b.t.Fatalf("timed out waiting for %s; last seen %q (err %v)", what, last, lastErr)
}

// click clicks the first element matching css with a real (synthesised) mouse click, retrying
// when an auto-refresh replaced the element between finding and clicking it.
func (b *browser) click(css string) {
	b.t.Helper()
	b.waitFor("clickable "+css, func() (bool, string, error) {
		els, err := b.find(css)
		if err != nil || len(els) == 0 {
			return false, "", err
		}
		return b.call(http.MethodPost, b.base+"/element/"+els[0]+"/click", map[string]any{}, nil) == nil, "", nil
	})
}

func (b *browser) exec(script string, out any) {
	b.t.Helper()
	b.cmd(http.MethodPost, "/execute/sync", map[string]any{"script": script, "args": []any{}}, out)
}

// screenshot saves the whole page, not just the viewport, as a PNG.
func (b *browser) screenshot(path string) {
	b.t.Helper()
	var metrics struct {
		CSSContentSize struct{ Width, Height float64 } `json:"cssContentSize"`
	}
	b.cmd(http.MethodPost, "/goog/cdp/execute", map[string]any{"cmd": "Page.getLayoutMetrics", "params": map[string]any{}}, &metrics)
	var shot struct{ Data string }
	b.cmd(http.MethodPost, "/goog/cdp/execute", map[string]any{"cmd": "Page.captureScreenshot", "params": map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": metrics.CSSContentSize.Width, "height": metrics.CSSContentSize.Height, "scale": 1},
	}}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || len(png) == 0 {
		b.t.Fatalf("screenshot: %d bytes, %v", len(png), err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
