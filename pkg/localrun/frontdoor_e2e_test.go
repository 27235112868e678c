package localrun_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/pkg/email"
	"hookline/pkg/historyapi"
	"hookline/pkg/local/engine"
	"hookline/pkg/localrun"
	"hookline/pkg/localrun/localruntest"
	"hookline/pkg/pipeline"
	"hookline/pkg/verify/verifytest"
)

// inserts counts the INSERT records the change stream holds per event id: one per stored item,
// and the notifier is asked once per INSERT. (The outbox keeps one email per id whatever
// happens, so counting its emails could not show a second one being sent.)
func (s *server) inserts(t *testing.T) map[string]int {
	t.Helper()
	eng, err := engine.Open(filepath.Join(s.data, localrun.DBFile), engine.Options{Durability: engine.DurabilityProcess, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	recs, err := eng.ReadStream(context.Background(), "test-inserts-"+t.Name(), 10_000)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, r := range recs {
		if r.EventName == engine.StreamInsert {
			n[r.Keys["id"].String()]++
		}
	}
	return n
}

func (s *server) list(t *testing.T) historyapi.ListView {
	t.Helper()
	resp, err := http.Get(s.url + "/events?limit=100")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l historyapi.ListView
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestEndToEndReplayVariants re-posts provider-signed deliveries through hookline local with
// every header that no signature covers changed. Each variant gets the original id; each
// delivery is one stored item, one INSERT (the notifier asked once) and one email.
func TestEndToEndReplayVariants(t *testing.T) {
	vs := verifytest.Load(t)
	s := start(t, sourcesFor(t, vs), 5)
	with := func(h map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for name, val := range h {
			if !strings.EqualFold(name, k) {
				out[name] = val
			}
		}
		return out
	}
	type variant struct {
		name    string
		headers func(map[string]string) map[string]string
	}
	newKey := variant{"new Idempotency-Key", func(h map[string]string) map[string]string { return with(h, "Idempotency-Key", "replay-2") }}
	variants := map[string][]variant{
		"github": {newKey,
			{"new X-GitHub-Delivery", func(h map[string]string) map[string]string {
				return with(h, "X-GitHub-Delivery", "00000000-0000-4000-8000-00000000beef")
			}},
			{"changed X-GitHub-Event", func(h map[string]string) map[string]string { return with(h, "X-GitHub-Event", "member") }},
		},
		"stripe":            {newKey},
		"standard-webhooks": {newKey},
		"svix": {newKey,
			{"forged webhook-id beside svix headers", func(h map[string]string) map[string]string { return with(h, "webhook-id", "msg_forged") }},
		},
		"intdash": {newKey},
		"shopify": {newKey,
			{"new X-Shopify-Webhook-Id (not signed)", func(h map[string]string) map[string]string {
				return with(h, "X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
			}},
			{"changed X-Shopify-Topic", func(h map[string]string) map[string]string { return with(h, "X-Shopify-Topic", "orders/delete") }},
		},
	}
	ids := map[string]string{} // id → vector
	for _, v := range vs {
		s.clock.signedAt(v)
		code, out := s.postVector(t, v, v.Headers)
		if code != http.StatusAccepted {
			t.Fatalf("%s: %d %v", v.Name, code, out)
		}
		id := out["id"].(string)
		ids[id] = v.Name
		vrs := variants[v.Provider]
		if vrs == nil {
			vrs = []variant{newKey} // every scheme: an Idempotency-Key is no signature's
		}
		for _, vr := range vrs {
			code, out := s.postVector(t, v, vr.headers(v.Headers))
			if code != http.StatusAccepted || out["id"] != id {
				t.Errorf("%s, %s: %d %v, want 202 with the original id %s", v.Name, vr.name, code, out, id)
			}
		}
	}
	for id, name := range ids {
		s.waitNotified(t, id)
		if n := s.emails(t, id); n != 1 {
			t.Errorf("%s: %d emails", name, n)
		}
	}
	time.Sleep(300 * time.Millisecond) // room for a wrong second INSERT to show up
	ins := s.inserts(t)
	for id, name := range ids {
		if ins[id] != 1 {
			t.Errorf("%s: %d INSERT stream records, want 1", name, ins[id])
		}
	}
	if len(ins) != len(ids) {
		t.Errorf("%d events stored, want %d (one per delivery)", len(ins), len(ids))
	}
	if l := s.list(t); len(l.Events) != len(ids) {
		t.Errorf("history lists %d events, want %d", len(l.Events), len(ids))
	}
}

// TestEndToEndFrontDoorRefusals: each refusal is an RFC 9457 problem, and none stores anything.
func TestEndToEndFrontDoorRefusals(t *testing.T) {
	const token = "frontdoor-token-0123"
	cfg := `{"sources": {
		"fenced":  {"scheme": "token", "secrets": ["` + token + `"], "allow": ["192.0.2.0/24", "2001:db8::/32"]},
		"limited": {"scheme": "token", "secrets": ["` + token + `"], "rate": {"per_second": 0.5, "burst": 2}},
		"open":    {"scheme": "token", "secrets": ["` + token + `"]}
	}}`
	path := filepath.Join(t.TempDir(), "sources.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, path, 5)
	auth := map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
	post := func(source string, h map[string]string, body string, host string) (*http.Response, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.url+"/webhooks/"+source, strings.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var p map[string]any
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("%s: not JSON: %s", source, b)
		}
		return resp, p
	}
	problem := func(name string, resp *http.Response, p map[string]any, status int, detail string) {
		t.Helper()
		if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/problem+json" ||
			p["status"] != float64(status) || p["type"] != "about:blank" || !strings.Contains(p["detail"].(string), detail) {
			t.Errorf("%s: %d %s %v, want %d with %q", name, resp.StatusCode, resp.Header.Get("Content-Type"), p, status, detail)
		}
	}

	// 403: 127.0.0.1 is not in the allowlist; the token is right, the signature never checked.
	resp, p := post("fenced", auth, `{}`, "")
	problem("allowlist miss", resp, p, 403, `source "fenced" does not accept requests from 127.0.0.1`)
	// ...and a forged X-Forwarded-For does not help without --trust-proxy.
	resp, p = post("fenced", map[string]string{"Authorization": "Bearer " + token, "X-Forwarded-For": "192.0.2.9"}, `{}`, "")
	problem("forged X-Forwarded-For", resp, p, 403, "127.0.0.1")

	// 429 past the rate, with Retry-After; the first two (the burst) pass.
	for i := range 2 {
		if resp, p := post("limited", auth, `{"n":`+string(rune('0'+i))+`}`, ""); resp.StatusCode != 202 {
			t.Fatalf("burst request %d: %d %v", i, resp.StatusCode, p)
		}
	}
	resp, p = post("limited", auth, `{"n":3}`, "")
	problem("over the rate", resp, p, 429, `source "limited" is over its rate limit`)
	if ra := resp.Header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After = %q, want 2 (one request every 2 s)", ra)
	}

	// 413: over hookline local's limit (GitHub's 25 MB; larger bodies than a bus message take
	// the claim check), refused on its Content-Length before it is read, let alone verified.
	big := strings.Repeat("a", pipeline.LocalMaxBodyBytes+1)
	resp, p = post("open", map[string]string{"Authorization": "Bearer " + token, "Content-Type": "text/plain"}, big, "")
	problem("body over the limit", resp, p, 413, "the limit is")

	// 400: JSON that is not UTF-8.
	resp, p = post("open", auth, "{\"name\":\"caf\xe9\"}", "")
	problem("invalid UTF-8 JSON", resp, p, 400, "not valid UTF-8")

	// 421: a host name this server does not have (DNS rebinding), on the API and the web view.
	resp, p = post("open", auth, `{}`, "attacker.example:8080")
	problem("wrong Host", resp, p, 421, `"attacker.example:8080"`)
	req, _ := http.NewRequest(http.MethodGet, s.url+"/events", nil)
	req.Host = "attacker.example"
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 421 {
		t.Errorf("GET /events with a foreign Host: %v %v", err, r)
	} else {
		r.Body.Close()
	}

	time.Sleep(300 * time.Millisecond) // the two accepted events are stored meanwhile
	l := s.list(t)
	if len(l.Events) != 2 {
		t.Errorf("history lists %d events, want only the 2 accepted ones", len(l.Events))
	}
	for _, e := range l.Events {
		if e.Source != "limited" {
			t.Errorf("a refused request was stored: %+v", e)
		}
	}
}

// TestEndToEndAdminToken: with an admin token, reads need it; webhooks do not.
func TestEndToEndAdminToken(t *testing.T) {
	const admin = "admin-token-0123456789"
	vs := verifytest.Load(t)
	clock := &replayClock{}
	rs := localruntest.Start(t, localrun.Config{SourcesFile: sourcesFor(t, vs), AdminToken: admin, Clock: clock.Now})
	s := &server{url: rs.URL, data: rs.DataDir, clock: clock}
	get := func(path, auth string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, path := range []string{"/events", "/", "/healthz", "/ui/outbox"} {
		if code := get(path, ""); code != 401 {
			t.Errorf("GET %s without the token: %d, want 401", path, code)
		}
		if code := get(path, "Bearer "+admin); code != 200 {
			t.Errorf("GET %s with the token: %d, want 200", path, code)
		}
	}
	v := vs[0]
	s.clock.signedAt(v)
	if code, out := s.post(t, v.Provider, v.Headers, v.Body); code != 202 {
		t.Errorf("webhook without the admin token: %d %v", code, out)
	}
}

// TestEndToEndDataDirIsPrivate: a data dir made with loose modes (an earlier version, a person)
// is tightened at start, and what is written later is private too.
func TestEndToEndDataDirIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	outbox := filepath.Join(dir, localrun.OutboxDir)
	if err := os.MkdirAll(outbox, 0o755); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{dir: 0o755, outbox: 0o777} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	old := filepath.Join(outbox, "old.eml")
	if err := os.WriteFile(old, []byte("Subject: old\r\n\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, localrun.DBFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	vs := verifytest.Load(t)
	clock := &replayClock{}
	rs := localruntest.Start(t, localrun.Config{SourcesFile: sourcesFor(t, vs), DataDir: dir, Clock: clock.Now})
	s := &server{url: rs.URL, data: rs.DataDir, clock: clock}
	v := vs[0]
	s.clock.signedAt(v)
	code, out := s.post(t, v.Provider, v.Headers, v.Body)
	if code != 202 {
		t.Fatalf("%d %v", code, out)
	}
	id := out["id"].(string)
	s.waitNotified(t, id)
	db := filepath.Join(dir, localrun.DBFile)
	want := map[string]os.FileMode{
		dir: 0o700, outbox: 0o700, old: 0o600, db: 0o600, db + "-wal": 0o600, db + "-shm": 0o600,
		filepath.Join(outbox, email.MboxFile): 0o600,
	}
	for p, mode := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s: mode %v, want %v", filepath.Base(p), got, mode)
		}
	}
}
