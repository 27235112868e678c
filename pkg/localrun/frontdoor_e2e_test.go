package localrun_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/pkg/email"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/localrun"
	"hookline/pkg/localrun/localruntest"
	"hookline/pkg/pipeline"
	"hookline/pkg/sender"
	"hookline/pkg/verify/verifytest"
)

// waitTaken waits until the subscriber has taken every request posted per source, each either
// stored or found a duplicate: after that, no request still on its way can make a second item.
func (s *server) waitTaken(t *testing.T, posted map[string]int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams, missing := scrape(t, s.url), ""
		for src, n := range posted {
			l := map[string]string{"source": src}
			if got := max(0, value(fams, "hookline_stored_total", l)) + max(0, value(fams, "hookline_duplicate_total", l)); got < float64(n) {
				missing += fmt.Sprintf(" %s %v of %d", src, got, n)
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the subscriber has not taken every request within 10s:%s", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitNotifierCaughtUp waits until the notifier has checkpointed every record on the change
// stream: once the subscriber has taken every request (waitTaken), a wrong second INSERT is on
// the stream, and after this a wrong second email has been sent too.
func (s *server) waitNotifierCaughtUp(t *testing.T) {
	t.Helper()
	eng, err := engine.Open(filepath.Join(s.data, localrun.DBFile), engine.Options{Durability: engine.DurabilityProcess, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	enginetest.WaitCaughtUp(t, eng, localrun.StreamConsumer, 20*time.Second) // catches a hang only
}

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
	posted := map[string]int{} // source → requests
	for _, v := range vs {
		id := s.accept(t, v)
		ids[id] = v.Name
		vrs := variants[v.Provider]
		if vrs == nil {
			vrs = []variant{newKey} // every scheme: an Idempotency-Key is no signature's
		}
		posted[v.Provider] += 1 + len(vrs)
		for _, vr := range vrs {
			code, out := s.postVector(t, v, vr.headers(v.Headers))
			if code != http.StatusAccepted || out["id"] != id {
				t.Errorf("%s, %s: %d %v, want 202 with the original id %s", v.Name, vr.name, code, out, id)
			}
		}
	}
	for id := range ids {
		s.waitNotified(t, id)
	}
	s.waitTaken(t, posted)
	s.waitNotifierCaughtUp(t)
	for id, name := range ids {
		if n := s.emails(id); n != 1 {
			t.Errorf("%s: %d emails, want 1", name, n)
		}
	}
	ins := s.inserts(t)
	for id, name := range ids {
		if ins[id] != 1 {
			t.Errorf("%s: %d INSERT stream records, want 1", name, ins[id])
		}
	}
	if len(ins) != len(ids) {
		t.Errorf("%d events stored, want %d (one per delivery)", len(ins), len(ids))
	}
	if l := localruntest.List(t, s.url); len(l.Events) != len(ids) {
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
	// the claim check), refused on its Content-Length and never verified; it is read and
	// dropped first, so a client that writes it all before reading gets the answer.
	big := strings.Repeat("a", pipeline.LocalMaxBodyBytes+1)
	resp, p = post("open", map[string]string{"Authorization": "Bearer " + token, "Content-Type": "text/plain"}, big, "")
	problem("body over the limit", resp, p, 413, "the limit is")

	// 400: JSON that is not UTF-8.
	resp, p = post("open", auth, "{\"name\":\"caf\xe9\"}", "")
	problem("invalid UTF-8 JSON", resp, p, 400, "not valid UTF-8")

	// 400: Content-Type sent twice; the gateway joins it as API Gateway does, and ingest
	// refuses the list rather than guess which member the sender meant.
	twice, _ := http.NewRequest(http.MethodPost, s.url+"/webhooks/open", strings.NewReader(`{}`))
	twice.Header.Set("Authorization", "Bearer "+token)
	twice.Header.Add("Content-Type", "application/json")
	twice.Header.Add("Content-Type", "text/plain")
	if r, err := http.DefaultClient.Do(twice); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		var p map[string]any
		_ = json.Unmarshal(b, &p)
		problem("Content-Type twice", r, p, 400, "Content-Type holds more than one media type")
	}

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

	s.waitTaken(t, map[string]int{"limited": 2})
	l := localruntest.List(t, s.url)
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
	id := s.accept(t, vs[0])
	for _, path := range []string{"/events", "/events/" + id, "/", "/ui/events/" + id, "/ui/sources", "/ui/outbox", "/ui/rejected", "/metrics", "/healthz"} {
		if code := get(path, ""); code != 401 {
			t.Errorf("GET %s without the token: %d, want 401", path, code)
		}
		if code := get(path, "Bearer wrong-token-0123456789"); code != 401 {
			t.Errorf("GET %s with a wrong token: %d, want 401", path, code)
		}
		// The event may still be on its way to the store: then its pages are 404, not 401.
		if code := get(path, "Bearer "+admin); code != 200 && !(code == 404 && strings.Contains(path, id)) {
			t.Errorf("GET %s with the token: %d, want 200", path, code)
		}
	}
}

// TestEndToEndRemoteNeedsAllowRemote: hookline local refuses a non-loopback --addr without
// --allow-remote, and --allow-remote without an admin token, before it listens or touches the
// data dir.
func TestEndToEndRemoteNeedsAllowRemote(t *testing.T) {
	for _, tt := range []struct {
		cfg  localrun.Config
		want string
	}{
		{localrun.Config{Addr: "0.0.0.0:0"}, "pass --allow-remote"},
		{localrun.Config{Addr: "[::]:0", AdminToken: "admin-token-0123456789"}, "pass --allow-remote"},
		{localrun.Config{Addr: "0.0.0.0:0", AllowRemote: true}, "set --admin-token or HOOKLINE_ADMIN_TOKEN"},
	} {
		tt.cfg.DataDir = filepath.Join(t.TempDir(), "data")
		ready := make(chan string, 1)
		err := localrun.Run(context.Background(), tt.cfg, io.Discard, ready)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s (allow remote %v): %v, want %q", tt.cfg.Addr, tt.cfg.AllowRemote, err, tt.want)
		}
		if len(ready) != 0 {
			t.Errorf("%s: listened", tt.cfg.Addr)
		}
		if _, err := os.Stat(tt.cfg.DataDir); !os.IsNotExist(err) {
			t.Errorf("%s: the data dir was made: %v", tt.cfg.Addr, err)
		}
	}
}

// TestEndToEndTrustProxy: behind a proxy (--trust-proxy) the allowlist checks the last
// X-Forwarded-For hop, IPv4 or IPv6, never an earlier hop the client wrote.
func TestEndToEndTrustProxy(t *testing.T) {
	const token = "frontdoor-token-0123"
	cfg := `{"sources": {"fenced": {"scheme": "token", "secrets": ["` + token + `"], "allow": ["192.0.2.0/24", "2001:db8::/32"]}}}`
	path := filepath.Join(t.TempDir(), "sources.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	rs := localruntest.Start(t, localrun.Config{SourcesFile: path, TrustProxy: true})
	s := &server{url: rs.URL, data: rs.DataDir}
	accepted := 0
	for i, tt := range []struct {
		xff    string
		status int
		caller string // named in the 403
	}{
		{"192.0.2.9", 202, ""},
		{"2001:db8::7", 202, ""},
		{"203.0.113.5, 2001:db8:1::7", 202, ""},
		{"192.0.2.9, 203.0.113.5", 403, "203.0.113.5"},
		{"2001:db8::7, 2a0a:a440::1", 403, "2a0a:a440::1"},
		{"", 403, "127.0.0.1"},
	} {
		h := map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
		if tt.xff != "" {
			h["X-Forwarded-For"] = tt.xff
		}
		code, out := s.post(t, "fenced", h, fmt.Sprintf(`{"n":%d}`, i))
		if code != tt.status || (tt.status == 403 && !strings.Contains(fmt.Sprint(out["detail"]), `source "fenced" does not accept requests from `+tt.caller)) {
			t.Errorf("X-Forwarded-For %q: %d %v, want %d naming %s", tt.xff, code, out, tt.status, tt.caller)
		}
		if code == 202 {
			accepted++
		}
	}
	s.waitTaken(t, map[string]int{"fenced": accepted})
	if l := localruntest.List(t, s.url); len(l.Events) != accepted {
		t.Errorf("history lists %d events, want the %d accepted", len(l.Events), accepted)
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
	id := s.accept(t, vs[0])
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

// Secrets of the every-scheme sources below; each at least the 16 bytes the config requires.
const (
	e2eSecret  = "e2e-frontdoor-secret-0123"
	e2eWhsec   = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	e2eStripe  = "whsec_e2e_frontdoor_stripe"
	e2eTwilio  = "https://hooks.example.com/webhooks/twilio" // the URL Twilio signs
	e2eSources = `{"sources": {
		"github":  {"scheme": "github", "secrets": ["` + e2eSecret + `"]},
		"stripe":  {"scheme": "stripe", "secrets": ["` + e2eStripe + `"]},
		"billing": {"scheme": "standard-webhooks", "secrets": ["` + e2eWhsec + `"]},
		"plain":   {"scheme": "hmac-sha256", "header": "X-Sig", "delivery_header": "X-Delivery", "secrets": ["` + e2eSecret + `"]},
		"signed":  {"scheme": "hmac-sha256", "header": "X-Sig", "timestamp_header": "X-Ts", "delivery_header": "X-Delivery",
		            "template": "{id}.{timestamp}.{body}", "secrets": ["` + e2eSecret + `"]},
		"optin":   {"scheme": "hmac-sha256", "header": "X-Sig", "delivery_header": "X-Delivery", "idempotency_key": true, "secrets": ["` + e2eSecret + `"]},
		"intdash": {"scheme": "intdash", "secrets": ["` + e2eSecret + `"]},
		"postman": {"scheme": "token", "secrets": ["` + e2eSecret + `"]},
		"slack":   {"scheme": "slack", "secrets": ["` + e2eSecret + `"]},
		"shopify": {"scheme": "shopify", "secrets": ["` + e2eSecret + `"]},
		"meta":    {"scheme": "meta", "secrets": ["` + e2eSecret + `"]},
		"twilio":  {"scheme": "twilio", "secrets": ["` + e2eSecret + `"], "url": "` + e2eTwilio + `"},
		"zoom":    {"scheme": "zoom", "secrets": ["` + e2eSecret + `"]},
		"cetoken": {"scheme": "cloudevents", "secrets": ["` + e2eSecret + `"]},
		"cehmac":  {"scheme": "cloudevents", "auth": "hmac-sha256", "header": "X-Signature", "secrets": ["` + e2eSecret + `"]}
	}}`
)

// e2eReplay is one delivery signed now, and the ways an attacker re-posts it.
type e2eReplay struct {
	source   string
	req      sender.Request
	svix     bool // send the Standard Webhooks headers as svix-*
	signedID bool // the verification evidence says identity came from signed bytes
	edits    map[string]func(http.Header)
}

func e2eReplays() []e2eReplay {
	newKey := func(h http.Header) { h.Set("Idempotency-Key", "replay-key-2") }
	ceHeaders := http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"B-1"}, "Ce-Source": {"urn:sender"}, "Ce-Type": {"com.example.thing.done"}}
	return []e2eReplay{
		{"github", sender.Request{Scheme: sender.GitHub, Secret: e2eSecret, Type: "issues", DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
			Body: []byte(`{"action":"opened","issue":{"number":1}}`)}, false, true, map[string]func(http.Header){
			"new X-GitHub-Delivery":  func(h http.Header) { h.Set("X-GitHub-Delivery", "00000000-0000-4000-8000-00000000beef") },
			"changed X-GitHub-Event": func(h http.Header) { h.Set("X-GitHub-Event", "pull_request") },
			"new Idempotency-Key":    newKey,
		}},
		{"stripe", sender.Request{Scheme: sender.Stripe, Secret: e2eStripe, Body: []byte(`{"id":"evt_e2e","type":"invoice.paid"}`)}, false, true, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		{"billing", sender.Request{Scheme: sender.StandardWebhooks, Secret: e2eWhsec, DeliveryID: "msg_e2e", Body: []byte(`{"type":"user.created"}`)}, false, true, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		{"billing", sender.Request{Scheme: sender.StandardWebhooks, Secret: e2eWhsec, DeliveryID: "msg_e2e_svix", Body: []byte(`{"type":"user.deleted"}`)}, true, true, map[string]func(http.Header){
			"forged webhook-id beside svix headers": func(h http.Header) { h.Set("Webhook-Id", "msg_forged") },
			"new Idempotency-Key":                   newKey,
		}},
		{"plain", sender.Request{Scheme: sender.HMACSHA256, Secret: e2eSecret, DeliveryID: "del-1", HMAC: sender.HMACOptions{Header: "X-Sig", DeliveryHeader: "X-Delivery"},
			Body: []byte(`{"event":"user.registered"}`)}, false, true, map[string]func(http.Header){
			"new unsigned X-Delivery": func(h http.Header) { h.Set("X-Delivery", "del-2") },
			"new Idempotency-Key":     newKey,
		}},
		{"signed", sender.Request{Scheme: sender.HMACSHA256, Secret: e2eSecret, DeliveryID: "order-7",
			HMAC: sender.HMACOptions{Header: "X-Sig", TimestampHeader: "X-Ts", DeliveryHeader: "X-Delivery", Template: "{id}.{timestamp}.{body}"},
			Body: []byte(`{"event":"order.paid"}`)}, false, true, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		{"optin", sender.Request{Scheme: sender.HMACSHA256, Secret: e2eSecret, HMAC: sender.HMACOptions{Header: "X-Sig"},
			Header: http.Header{"Idempotency-Key": {"order-9"}, "X-Delivery": {"del-1"}}, Body: []byte(`{"event":"order.shipped"}`)}, false, false, map[string]func(http.Header){
			"new unsigned X-Delivery": func(h http.Header) { h.Set("X-Delivery", "del-2") },
		}},
		{"intdash", sender.Request{Scheme: sender.Intdash, Secret: e2eSecret, Body: []byte(`{"resource_type":"measurement","action":"finished","measurement_uuid":"u-1"}`)}, false, true, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		{"postman", sender.Request{Scheme: sender.Token, Secret: e2eSecret, DeliveryID: "replay-key-1", Body: []byte(`A new message has been published`)}, false, false, map[string]func(http.Header){
			"same Idempotency-Key, new X-Request-Id": func(h http.Header) { h.Set("X-Request-Id", "r-2") },
		}},
		{"slack", sender.Request{Scheme: sender.Slack, Secret: e2eSecret, Body: []byte(`{"type":"event_callback","event_id":"Ev01","event":{"type":"app_mention","text":"hi"}}`)}, false, true, map[string]func(http.Header){
			"new X-Slack-Retry-Num": func(h http.Header) { h.Set("X-Slack-Retry-Num", "1") },
			"new Idempotency-Key":   newKey,
		}},
		{"shopify", sender.Request{Scheme: sender.Shopify, Secret: e2eSecret, DeliveryID: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", Body: []byte(`{"id":820982911946154500}`)}, false, true, map[string]func(http.Header){
			"new X-Shopify-Webhook-Id": func(h http.Header) { h.Set("X-Shopify-Webhook-Id", "00000000-0000-4000-8000-000000000002") },
			"changed X-Shopify-Topic":  func(h http.Header) { h.Set("X-Shopify-Topic", "orders/delete") },
			"new Idempotency-Key":      newKey,
		}},
		{"meta", sender.Request{Scheme: sender.Meta, Secret: e2eSecret, Body: []byte(`{"object":"page","entry":[{"id":"1","changes":[{"field":"feed"}]}]}`)}, false, true, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		{"twilio", sender.Request{Scheme: sender.Twilio, Secret: e2eSecret, URL: e2eTwilio, DeliveryID: "tok-1", ContentType: "application/x-www-form-urlencoded",
			Body: []byte(`MessageSid=SM1&MessageStatus=delivered`)}, false, true, map[string]func(http.Header){
			"new I-Twilio-Idempotency-Token": func(h http.Header) { h.Set("I-Twilio-Idempotency-Token", "tok-2") },
			"new Idempotency-Key":            newKey,
		}},
		{"zoom", sender.Request{Scheme: sender.Zoom, Secret: e2eSecret, Body: []byte(`{"event":"meeting.started","payload":{"object":{"id":"85"}}}`)}, false, true, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		{"cetoken", sender.Request{Scheme: sender.CloudEvents, Secret: e2eSecret, ContentType: "application/cloudevents+json",
			Body: []byte(`{"specversion":"1.0","id":"A-1","source":"urn:sender","type":"com.example.thing.done","data":{"n":1}}`)}, false, false, map[string]func(http.Header){
			"new Idempotency-Key": newKey,
		}},
		{"cehmac", sender.Request{Scheme: sender.CloudEvents, Secret: e2eSecret, HMAC: sender.HMACOptions{Header: "X-Signature"}, Header: ceHeaders,
			Body: []byte(`{"n":2}`)}, false, true, map[string]func(http.Header){
			"new ce-id":           func(h http.Header) { h.Set("Ce-Id", "B-2") },
			"changed ce-type":     func(h http.Header) { h.Set("Ce-Type", "com.example.thing.undone") },
			"new Idempotency-Key": newKey,
		}},
	}
}

// flat turns signed headers into what s.post sends.
func flat(h http.Header) map[string]string {
	out := map[string]string{}
	for k := range h {
		out[k] = h.Get(k)
	}
	return out
}

// TestEndToEndReplayVariantsEveryScheme signs one delivery per scheme now and re-posts it
// through hookline local with each header no signature covers changed. Each variant gets the
// original id; each delivery is stored once (one INSERT, stored_total 1), emailed once
// (notified_total 1, one email at the mail server) and its GET /events/{id} carries the
// verification evidence. The check runs after the subscriber has counted every variant as a
// duplicate, so nothing of theirs is still on its way.
func TestEndToEndReplayVariantsEveryScheme(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sources.json")
	if err := os.WriteFile(path, []byte(e2eSources), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, path, 5)
	type delivery struct {
		name, source string
		variants     int
		scheme       string
		signedID     bool
		body         []byte
	}
	ids := map[string]delivery{}
	perSource := map[string]int{} // source → variants posted (duplicates the subscriber will see)
	for _, rc := range e2eReplays() {
		name := rc.source
		if rc.svix {
			name += "/svix"
		}
		h, err := sender.Sign(rc.req)
		if err != nil {
			t.Fatal(err)
		}
		if rc.svix {
			sender.AsSvix(h)
		}
		code, out := s.post(t, rc.source, flat(h), string(rc.req.Body))
		if code != http.StatusAccepted {
			t.Fatalf("%s: %d %v", name, code, out)
		}
		id := out["id"].(string)
		if _, dup := ids[id]; dup {
			t.Fatalf("%s: id %s already taken by %s", name, id, ids[id].name)
		}
		for variant, edit := range rc.edits {
			hv := h.Clone()
			edit(hv)
			if code, out := s.post(t, rc.source, flat(hv), string(rc.req.Body)); code != http.StatusAccepted || out["id"] != id {
				t.Errorf("%s, %s: %d %v, want 202 with the original id %s", name, variant, code, out, id)
			}
		}
		perSource[rc.source] += len(rc.edits)
		ids[id] = delivery{name, rc.source, len(rc.edits), rc.req.Scheme, rc.signedID, rc.req.Body}
	}

	for id, d := range ids {
		ev := s.waitNotified(t, id)
		sum := sha256.Sum256(d.body)
		if vv := ev.Verification; vv == nil || vv.Scheme != d.scheme || vv.Key != 0 || vv.SignedID != d.signedID || vv.BodySHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: verification %+v, want scheme %s, key 0, signed_id %v", d.name, vv, d.scheme, d.signedID)
		}
	}
	deliveries, posted := map[string]int{}, map[string]int{}
	for _, d := range ids {
		deliveries[d.source]++
		posted[d.source]++
	}
	for src, n := range perSource {
		posted[src] += n
	}
	s.waitTaken(t, posted)
	s.waitNotifierCaughtUp(t)
	fams := scrape(t, s.url)
	for src, n := range deliveries {
		for _, m := range []string{"hookline_stored_total", "hookline_notified_total"} {
			if got := value(fams, m, map[string]string{"source": src}); got != float64(n) {
				t.Errorf("%s{source=%q} = %v, want %d (one per delivery)", m, src, got, n)
			}
		}
		// (at least: a message whose visibility ran out on a slow machine is taken again, a duplicate)
		if got := value(fams, "hookline_duplicate_total", map[string]string{"source": src}); got < float64(perSource[src]) {
			t.Errorf("hookline_duplicate_total{source=%q} = %v, want at least %d (one per variant)", src, got, perSource[src])
		}
	}
	ins := s.inserts(t)
	for id, d := range ids {
		if ins[id] != 1 {
			t.Errorf("%s: %d INSERT stream records, want 1", d.name, ins[id])
		}
		if n := s.emails(id); n != 1 {
			t.Errorf("%s: the mail server got %d emails, want 1", d.name, n)
		}
	}
	if len(ins) != len(ids) {
		t.Errorf("%d events stored, want %d (one per delivery)", len(ins), len(ids))
	}
	if l := localruntest.List(t, s.url); len(l.Events) != len(ids) {
		t.Errorf("history lists %d events, want %d", len(l.Events), len(ids))
	}
}

// TestEndToEndOneServerPerDataDir: a second `hookline local` on a data dir that one serves
// fails at once, naming the dir and the first one's pid, without listening or disturbing the
// first; once the first stops, the dir can be served again (the lock goes with its holder).
func TestEndToEndOneServerPerDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- localrun.Run(ctx, localrun.Config{Addr: "127.0.0.1:0", DataDir: dir, Log: slog.New(slog.DiscardHandler)}, io.Discard, ready)
	}()
	var first string
	select {
	case first = <-ready:
	case err := <-done:
		t.Fatalf("first server: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("first server did not listen within 20s")
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	second, done2 := make(chan string, 1), make(chan error, 1)
	go func() {
		done2 <- localrun.Run(ctx2, localrun.Config{Addr: "127.0.0.1:0", DataDir: dir, Log: slog.New(slog.DiscardHandler)}, io.Discard, second)
	}()
	want := fmt.Sprintf("data dir %s is in use by another hookline local (pid %d)", dir, os.Getpid())
	select {
	case err := <-done2:
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("second server on the same data dir: %v; want %q", err, want)
		}
	case addr := <-second:
		t.Errorf("second server on the same data dir listened on %s; want %q", addr, want)
		cancel2()
		<-done2
	case <-time.After(20 * time.Second):
		t.Errorf("second server on the same data dir neither failed nor listened within 20s")
		cancel2()
		<-done2
	}
	cancel2()
	if resp, err := http.Get("http://" + first + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("first server after the second's attempt: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("first server: %v", err)
	}
	localruntest.Start(t, localrun.Config{DataDir: dir}) // fails the test unless it listens
}
