package source_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/pkg/source"
	"hookline/pkg/verify"
	"hookline/pkg/wiring"
)

type hdr map[string]string

func (h hdr) Get(k string) string { return h[k] }

const full = `{"sources": {
  "github":  {"scheme": "github",            "secrets": ["it's-a-secret-0123"], "allow": ["192.30.252.0/22", "2a0a:a440::/29"]},
  "stripe":  {"scheme": "stripe",            "secrets": ["whsec_abcdefghij0123"], "tolerance": "5m"},
  "billing": {"scheme": "standard-webhooks", "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]},
  "intdash": {"scheme": "hmac-sha256", "header": "X-Intdash-Signature-256", "encoding": "base64", "secrets": ["intdash-secret-0123"]},
  "iot":     {"scheme": "intdash", "secrets": ["intdash-secret-0123"]},
  "auth":    {"scheme": "hmac-sha256", "header": "X-Signature", "prefix": "sha256=", "timestamp_header": "X-Timestamp", "secrets": ["auth-secret-0123456"], "type_header": "X-Event"},
  "signed":  {"scheme": "hmac-sha256", "header": "X-Signature", "timestamp_header": "X-Timestamp", "delivery_header": "X-Delivery",
              "template": "{id}.{timestamp}.{body}", "secrets": ["auth-secret-0123456"]},
  "keyed":   {"scheme": "github",            "secrets": ["it's-a-secret-0123"], "idempotency_key": true},
  "postman": {"scheme": "token",             "secrets": ["dev-token-0123456"], "rate": {"per_second": 50, "burst": 200}}
}}`

// secret16 is a secret of exactly the minimum length.
const secret16 = "0123456789abcdef"

func TestParseFull(t *testing.T) {
	t.Parallel()
	set, err := source.Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(set.Names(), ","); got != "auth,billing,github,intdash,iot,keyed,postman,signed,stripe" {
		t.Errorf("Names() = %s", got)
	}
	pm, ok, err := set.Lookup(context.Background(), "postman")
	if !ok || err != nil || pm.Dedup != source.DedupNone {
		t.Errorf("postman: ok=%v err=%v dedup=%v; token sources default to dedup none", ok, err, pm.Dedup)
	}
	gh, _, _ := set.Lookup(context.Background(), "github")
	if gh.Dedup != source.DedupBody || gh.Scheme != "github" || gh.TrustKey || gh.Rate != nil {
		t.Errorf("github dedup = %v, trust key %v, rate %v", gh.Dedup, gh.TrustKey, gh.Rate)
	}
	if !pm.TrustKey || pm.Rate == nil || *pm.Rate != (source.Rate{PerSecond: 50, Burst: 200}) {
		t.Errorf("postman: trust key %v, rate %+v", pm.TrustKey, pm.Rate)
	}
	if _, ok, _ := set.Lookup(context.Background(), "nope"); ok {
		t.Error("unknown source found")
	}
}

func TestParseErrorsNameSourceAndField(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, json, want string }{
		{"unknown scheme", `{"sources":{"a":{"scheme":"paypal","secrets":["` + secret16 + `"]}}}`, `source "a": scheme: unknown scheme "paypal"`},
		{"missing scheme", `{"sources":{"a":{"secrets":["` + secret16 + `"]}}}`, `source "a": scheme: missing`},
		{"no secrets", `{"sources":{"gh":{"scheme":"github","secrets":[]}}}`, `source "gh": secrets: at least one`},
		{"empty secret", `{"sources":{"gh":{"scheme":"github","secrets":["` + secret16 + `"," "]}}}`, `source "gh": secrets[1]: empty secret`},
		{"short secret", `{"sources":{"gh":{"scheme":"github","secrets":["` + secret16 + `","whsec_x"]}}}`, `source "gh": secrets[1]: the key is 7 bytes; use at least 16`},
		{"short token", `{"sources":{"pm":{"scheme":"token","secrets":["dev-token"]}}}`, `source "pm": secrets[0]: the key is 9 bytes`},
		{"short decoded whsec", `{"sources":{"b":{"scheme":"standard-webhooks","secrets":["whsec_c2hvcnQta2V5"]}}}`, `source "b": secrets[0]: the key is 9 bytes`},
		{"header on cloudevents with a token", `{"sources":{"c":{"scheme":"cloudevents","secrets":["` + secret16 + `"],"header":"X"}}}`, `source "c": header: only for`},
		{"twilio url not http(s)", `{"sources":{"t":{"scheme":"twilio","secrets":["` + secret16 + `"],"url":"ftp://hooks.example.com/t"}}}`, `source "t": url: "ftp://hooks.example.com/t" is not an http(s) URL`},
		{"auth on github", `{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"auth":"token"}}}`, `source "g": auth: only for the cloudevents scheme`},
		{"bad tolerance", `{"sources":{"s":{"scheme":"stripe","secrets":["whsec_x` + secret16 + `"],"tolerance":"5 minutes"}}}`, `source "s": tolerance: "5 minutes"`},
		{"negative tolerance", `{"sources":{"s":{"scheme":"stripe","secrets":["whsec_x` + secret16 + `"],"tolerance":"-1m"}}}`, `source "s": tolerance`},
		{"huge tolerance", `{"sources":{"s":{"scheme":"stripe","secrets":["whsec_x` + secret16 + `"],"tolerance":"61m"}}}`, `source "s": tolerance: "61m" is over the 1h0m0s maximum`},
		{"typo field", `{"sources":{"s":{"scheme":"github","secret":["x"]}}}`, `unknown field "secret"`},
		{"no sources", `{"sources":{}}`, `no sources`},
		{"bad name", `{"sources":{"Bad Name":{"scheme":"github","secrets":["` + secret16 + `"]}}}`, `source "Bad Name": name:`},
		{"hmac without header", `{"sources":{"h":{"scheme":"hmac-sha256","secrets":["` + secret16 + `"]}}}`, `source "h": header: required`},
		{"header on github", `{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"header":"X"}}}`, `source "g": header: only for`},
		{"bad dedup", `{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"dedup":"maybe"}}}`, `source "g": dedup:`},
		{"bad whsec", `{"sources":{"b":{"scheme":"standard-webhooks","secrets":["whsec_!!!"]}}}`, `source "b": standard-webhooks:`},
		{"{id} without delivery_header", `{"sources":{"h":{"scheme":"hmac-sha256","header":"X-Sig","template":"{id}.{body}","secrets":["` + secret16 + `"]}}}`, `source "h": delivery_header: required when the template signs {id}`},
		{"bad cidr", `{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"allow":["10.0.0.0/8","10.0.0.0/33"]}}}`, `source "g": allow[1]: "10.0.0.0/33" is not a CIDR`},
		{"host name in allow", `{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"allow":["github.com"]}}}`, `source "g": allow[0]:`},
		{"zero rate", `{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"rate":{"per_second":0}}}}`, `source "g": rate.per_second: 0`},
		{"negative burst", `{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"rate":{"per_second":5,"burst":-1}}}}`, `source "g": rate.burst: -1`},
		{"absurd rate", `{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"rate":{"per_second":1e12}}}}`, `source "g": rate.per_second:`},
		{"rate typo", `{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"rate":{"per_sec":5}}}}`, `unknown field "per_sec"`},
		{"seconds in expect_every", `{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"expect_every":"90s"}}}`, `source "g": expect_every: "90s" is not whole minutes`},
		{"expect_every over a day", `{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"expect_every":"25h"}}}`, `source "g": expect_every: "25h"`},
		{"trailing", `{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"]}}} {}`, `trailing data`},
		{"not json", `sources:`, `sources config`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := source.Parse([]byte(tt.json))
			if !errors.Is(err, source.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrConfig containing %q", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), "whsec_x") || strings.Contains(err.Error(), secret16)) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

// TestParseSchemeFields: the fields a scheme's variant needs are accepted with it: the
// hmac-sha256 fields on a cloudevents source signed that way, an http or https URL on twilio.
func TestParseSchemeFields(t *testing.T) {
	t.Parallel()
	for _, cfg := range []string{
		`{"scheme":"cloudevents","auth":"hmac-sha256","header":"X-Sig","secrets":["` + secret16 + `"]}`,
		`{"scheme":"twilio","url":"http://hooks.example.com/t","secrets":["` + secret16 + `"]}`,
		`{"scheme":"twilio","url":"https://hooks.example.com/t/","secrets":["` + secret16 + `"]}`,
	} {
		if _, err := source.Parse([]byte(`{"sources":{"s":` + cfg + `}}`)); err != nil {
			t.Errorf("%s: %v", cfg, err)
		}
	}
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "sources.json")
	if err := os.WriteFile(p, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := source.Load(p); err != nil {
		t.Fatal(err)
	}
	if _, err := source.Load(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	set, err := source.Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		src  string
		h    hdr
		body string
		want source.Meta
	}{
		{"github", hdr{"x-github-event": "issues", "x-github-delivery": "d1"}, `{"action":"opened","issue":{"action":"nested"}}`, source.Meta{DeliveryID: "d1", Type: "issues.opened", Identity: source.IdentityBody, SignedID: true}},
		{"github", hdr{"x-github-event": "push", "x-github-delivery": "d1"}, `{"ref":"refs/heads/main","pusher":{"action":"x"}}`, source.Meta{DeliveryID: "d1", Type: "push", Identity: source.IdentityBody, SignedID: true}},
		// A type GitHub sends without an action is not scanned for one; any other type is.
		{"github", hdr{"x-github-event": "push"}, `{"action":"x","ref":"refs/heads/main"}`, source.Meta{Type: "push", Identity: source.IdentityBody, SignedID: true}},
		// An empty action adds nothing: "issues." would read as a type prefix.
		{"github", hdr{"x-github-event": "issues"}, `{"action":""}`, source.Meta{Type: "issues", Identity: source.IdentityBody, SignedID: true}},
		{"github", hdr{"x-github-event": "star"}, `{"starred_at":null,"action":"created"}`, source.Meta{Type: "star.created", Identity: source.IdentityBody, SignedID: true}},
		{"stripe", hdr{}, `{"id":"evt_1","type":"invoice.paid"}`, source.Meta{DeliveryID: "evt_1", Type: "invoice.paid", Identity: source.IdentitySignedID, Key: "evt_1", SignedID: true}},
		{"stripe", hdr{"idempotency-key": "k9"}, `{"type":"invoice.paid"}`, source.Meta{DeliveryID: "k9", Type: "invoice.paid", Identity: source.IdentityBody, SignedID: true}},
		{"iot", hdr{}, `{"resource_type":"measurement","action":"finished","measurement_uuid":"u"}`, source.Meta{Type: "measurement.finished", Identity: source.IdentityBody, SignedID: true}},
		{"auth", hdr{"x-event": "user.registered", "x-webhook-version": "2024-01"}, `{}`, source.Meta{Type: "user.registered", Version: "2024-01", Identity: source.IdentityBody, SignedID: true}},
		// The body is read for whichever of type and version no header gave.
		{"auth", hdr{"x-event": "user.registered"}, `{"type":"other","version":"v3"}`, source.Meta{Type: "user.registered", Version: "v3", Identity: source.IdentityBody, SignedID: true}},
		{"postman", hdr{"x-webhook-version": "v2"}, `{"event":"user.registered","version":"v1"}`, source.Meta{Type: "user.registered", Version: "v2", Identity: source.IdentityFresh}},
		{"postman", hdr{}, `{"event":"user.registered","timestamp":1,"version":"v1"}`, source.Meta{Type: "user.registered", Version: "v1", Identity: source.IdentityFresh}},
		{"postman", hdr{"idempotency-key": " k1 "}, `A new message has been published`, source.Meta{DeliveryID: "k1", Type: "unknown", Identity: source.IdentityKey, Key: "k1"}},
		{"keyed", hdr{"idempotency-key": "k2", "x-github-delivery": "d2"}, `{}`, source.Meta{DeliveryID: "d2", Type: "unknown", Identity: source.IdentityKey, Key: "k2"}},
		{"keyed", hdr{}, `{}`, source.Meta{Type: "unknown", Identity: source.IdentityBody, SignedID: true}},
		{"postman", hdr{}, `{"type": 5}`, source.Meta{Type: "unknown"}},
		// A type of only spaces and control characters is none.
		{"stripe", hdr{}, `{"id":"evt_1","type":"  \u0001"}`, source.Meta{DeliveryID: "evt_1", Type: "unknown", Identity: source.IdentitySignedID, Key: "evt_1", SignedID: true}},
		{"github", hdr{"x-github-event": "\x01 \x7f"}, `{}`, source.Meta{Type: "unknown", Identity: source.IdentityBody, SignedID: true}},
		{"github", hdr{"x-github-event": "pu\nsh" + strings.Repeat("x", 300)}, ``, source.Meta{Type: ("push" + strings.Repeat("x", 300))[:source.MaxMetaLen], Identity: source.IdentityBody, SignedID: true}},
	}
	for _, tt := range tests {
		s, _, _ := set.Lookup(context.Background(), tt.src)
		if got := s.Describe(tt.h, []byte(tt.body), verify.Result{}); got != tt.want {
			t.Errorf("%s %v %s: got %+v, want %+v", tt.src, tt.h, tt.body, got, tt.want)
		}
	}
}

// TestDescribeIdentity is the replay table at the config level: for each scheme, headers that
// no signature covers never change what identity is made of.
func TestDescribeIdentity(t *testing.T) {
	t.Parallel()
	set, err := source.Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(name string) *source.Source {
		s, _, _ := set.Lookup(context.Background(), name)
		return s
	}
	type req struct {
		h   hdr
		res verify.Result
	}
	tests := []struct {
		src      string
		body     string
		original req
		replays  map[string]req
	}{
		{"github", `{"zen":"x"}`, req{hdr{"x-github-delivery": "d1", "x-github-event": "push"}, verify.Result{}}, map[string]req{
			"new X-GitHub-Delivery":  {hdr{"x-github-delivery": "d2", "x-github-event": "push"}, verify.Result{}},
			"new Idempotency-Key":    {hdr{"x-github-delivery": "d1", "idempotency-key": "k"}, verify.Result{}},
			"changed X-GitHub-Event": {hdr{"x-github-delivery": "d1", "x-github-event": "ping"}, verify.Result{}},
		}},
		{"stripe", `{"id":"evt_1","type":"a"}`, req{hdr{}, verify.Result{}}, map[string]req{
			"new Idempotency-Key": {hdr{"idempotency-key": "k"}, verify.Result{}},
		}},
		{"billing", `{"type":"a"}`, req{hdr{"webhook-id": "msg_1"}, verify.Result{ID: "msg_1"}}, map[string]req{
			"new Idempotency-Key": {hdr{"webhook-id": "msg_1", "idempotency-key": "k"}, verify.Result{ID: "msg_1"}},
			// svix-* verified; the verifier reports svix-id, whatever webhook-id says.
			"forged webhook-id beside svix headers": {hdr{"svix-id": "msg_1", "webhook-id": "msg_forged"}, verify.Result{ID: "msg_1"}},
		}},
		{"signed", `{}`, req{hdr{"x-delivery": "del-1"}, verify.Result{ID: "del-1"}}, map[string]req{
			"new Idempotency-Key": {hdr{"x-delivery": "del-1", "idempotency-key": "k"}, verify.Result{ID: "del-1"}},
		}},
		{"iot", `{"resource_type":"m","action":"f"}`, req{hdr{}, verify.Result{}}, map[string]req{
			"new Idempotency-Key": {hdr{"idempotency-key": "k"}, verify.Result{}},
		}},
	}
	for _, tt := range tests {
		s := lookup(tt.src)
		want := s.Describe(tt.original.h, []byte(tt.body), tt.original.res)
		if !want.SignedID || want.Identity == source.IdentityFresh || want.Identity == source.IdentityKey {
			t.Errorf("%s: original identity %+v is not signed", tt.src, want)
		}
		for name, r := range tt.replays {
			got := s.Describe(r.h, []byte(tt.body), r.res)
			if got.Identity != want.Identity || got.Key != want.Key || !got.SignedID {
				t.Errorf("%s, %s: identity %v %q, want %v %q", tt.src, name, got.Identity, got.Key, want.Identity, want.Key)
			}
		}
	}
}

func TestAllows(t *testing.T) {
	t.Parallel()
	set, err := source.Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	gh, _, _ := set.Lookup(context.Background(), "github")
	open, _, _ := set.Lookup(context.Background(), "stripe")
	for addr, want := range map[string]bool{
		"192.30.252.1": true, "192.30.255.254": true, "::ffff:192.30.253.9": true, "2a0a:a440::1": true, "2a0a:a447:ffff::1": true,
		"192.30.251.255": false, "192.30.256.0": false, "10.0.0.1": false, "2a0a:a448::1": false, "::1": false, "": false,
	} {
		a, _ := netip.ParseAddr(addr) // "" and bad addresses are the zero Addr: refused
		if got := gh.Allows(a); got != want {
			t.Errorf("github.Allows(%q) = %v, want %v", addr, got, want)
		}
		if !open.Allows(a) {
			t.Errorf("a source without allow refused %q", addr)
		}
	}
	mapped, err := source.Parse([]byte(`{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"allow":["::ffff:10.0.0.0/104","172.16.0.9"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	g, _, _ := mapped.Lookup(context.Background(), "g")
	for addr, want := range map[string]bool{"10.200.0.1": true, "172.16.0.9": true, "172.16.0.10": false} {
		if got := g.Allows(netip.MustParseAddr(addr)); got != want {
			t.Errorf("g.Allows(%s) = %v, want %v", addr, got, want)
		}
	}
	// /96 is the shortest IPv4-mapped prefix: all of IPv4, as 0.0.0.0/0.
	all, err := source.Parse([]byte(`{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"allow":["::ffff:0.0.0.0/96"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	g, _, _ = all.Lookup(context.Background(), "g")
	if g.Allow[0].String() != "0.0.0.0/0" || !g.Allows(netip.MustParseAddr("203.0.113.7")) {
		t.Errorf("::ffff:0.0.0.0/96 parsed as %v", g.Allow)
	}
}

func TestRateDefaults(t *testing.T) {
	t.Parallel()
	set, err := source.Parse([]byte(`{"sources":{"g":{"scheme":"github","secrets":["` + secret16 + `"],"rate":{"per_second":2.5}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	g, _, _ := set.Lookup(context.Background(), "g")
	if g.Rate == nil || *g.Rate != (source.Rate{PerSecond: 2.5, Burst: 3}) {
		t.Errorf("rate = %+v, want burst defaulting to per_second rounded up", g.Rate)
	}
}

// secretStore is the sources secret a Refresher fetches: doc, or err when set; it counts the
// fetches.
type secretStore struct {
	doc     string
	err     error
	fetches int
}

// githubSource is a config of one github source named name.
func githubSource(name string) string {
	return `{"sources":{"` + name + `":{"scheme":"github","secrets":["` + secret16 + `"]}}}`
}

// refresher refreshes from s every ttl on the clock *now, logging to log (nil: nowhere).
func (s *secretStore) refresher(ttl time.Duration, now *time.Time, log io.Writer) *source.Refresher {
	if log == nil {
		log = io.Discard
	}
	return &source.Refresher{
		Fetch: func(context.Context) ([]byte, error) { s.fetches++; return []byte(s.doc), s.err },
		TTL:   ttl,
		Now:   func() time.Time { return *now },
		Log:   slog.New(slog.NewTextHandler(log, nil)),
	}
}

func TestRefresher(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store := &secretStore{doc: githubSource("a")}
	r := store.refresher(time.Minute, &now, nil)
	ctx := context.Background()
	if err := r.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := r.Lookup(ctx, "a"); !ok || store.fetches != 1 {
		t.Fatalf("ok=%v fetches=%d", ok, store.fetches)
	}
	// Rotation: a new config is picked up after the TTL, without a restart.
	store.doc = githubSource("b")
	if _, ok, _ := r.Lookup(ctx, "b"); ok {
		t.Error("config refreshed before its TTL")
	}
	now = now.Add(time.Minute)
	if _, ok, _ := r.Lookup(ctx, "b"); !ok || store.fetches != 2 {
		t.Errorf("after TTL: ok=%v fetches=%d", ok, store.fetches)
	}
	// A failing store keeps the last good config.
	store.err = errors.New("secrets manager down")
	now = now.Add(time.Minute)
	if _, ok, err := r.Lookup(ctx, "b"); !ok || err != nil {
		t.Errorf("during outage: ok=%v err=%v; want the last good config", ok, err)
	}
	// With nothing good at all, the error surfaces.
	fresh := &source.Refresher{Fetch: func(context.Context) ([]byte, error) { return nil, errors.New("denied") }}
	if _, _, err := fresh.Lookup(ctx, "a"); err == nil {
		t.Error("no config and a failing fetch: want an error")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte(`{"sources":{"a":{"scheme":"token","secrets":["` + secret16 + `"],"dedup":"none"}}}`))
	f.Add([]byte(`{"sources":{"a":{"scheme":"github","secrets":["` + secret16 + `"],"allow":["::ffff:10.0.0.0/104","10.1.2.3"],"rate":{"per_second":0.5}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := source.Parse(b)
		if err != nil {
			if !errors.Is(err, source.ErrConfig) {
				t.Fatalf("error does not wrap ErrConfig: %v", err)
			}
			return
		}
		if len(set.Names()) == 0 {
			t.Fatal("a valid config with no sources")
		}
	})
}

// TestRefresherTTLBoundary: the config fetched at t is served until t+TTL (exclusive) and
// fetched again at t+TTL exactly. The zero TTL means wiring.DefaultSourcesTTL.
func TestRefresherTTLBoundary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ttl, want time.Duration
	}{{time.Minute, time.Minute}, {0, wiring.DefaultSourcesTTL}} {
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		now := start
		store := &secretStore{doc: githubSource("a")}
		r := store.refresher(tc.ttl, &now, nil)
		ctx := context.Background()
		if _, ok, err := r.Lookup(ctx, "a"); !ok || err != nil || store.fetches != 1 {
			t.Fatalf("TTL %v: first lookup: ok=%v err=%v fetches=%d; want one fetch", tc.ttl, ok, err, store.fetches)
		}
		now = start.Add(tc.want - time.Nanosecond)
		if _, _, _ = r.Lookup(ctx, "a"); store.fetches != 1 {
			t.Errorf("TTL %v: fetched again %v after the fetch, before the TTL ran out", tc.ttl, now.Sub(start))
		}
		now = start.Add(tc.want)
		if _, _, _ = r.Lookup(ctx, "a"); store.fetches != 2 {
			t.Errorf("TTL %v: %d fetches at exactly the TTL, want 2", tc.ttl, store.fetches)
		}
	}
}

// TestRefresherBackOff: a failed refresh keeps serving the last good config and waits a full
// TTL before it asks the failing store again, instead of asking on every request.
func TestRefresherBackOff(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	store := &secretStore{doc: githubSource("a")}
	var logged bytes.Buffer
	r := store.refresher(time.Minute, &now, &logged)
	ctx := context.Background()
	if err := r.Load(ctx); err != nil {
		t.Fatal(err)
	}
	store.err = errors.New("secrets manager down")
	failedAt := start.Add(time.Minute)
	now = failedAt
	if _, ok, err := r.Lookup(ctx, "a"); !ok || err != nil || store.fetches != 2 {
		t.Fatalf("at the TTL during an outage: ok=%v err=%v fetches=%d; want the last good config after one attempt", ok, err, store.fetches)
	}
	if !strings.Contains(logged.String(), "sources refresh failed; serving the last good config") || !strings.Contains(logged.String(), "secrets manager down") {
		t.Errorf("the failed refresh was not logged with its cause: %s", logged.String())
	}
	for _, d := range []time.Duration{0, time.Second, time.Minute - time.Nanosecond} {
		now = failedAt.Add(d)
		if _, ok, _ := r.Lookup(ctx, "a"); !ok || store.fetches != 2 {
			t.Fatalf("%v after the failed refresh: ok=%v, %d fetches; want no new attempt within the TTL", d, ok, store.fetches)
		}
	}
	store.err = nil
	now = failedAt.Add(time.Minute)
	if _, ok, _ := r.Lookup(ctx, "a"); !ok || store.fetches != 3 {
		t.Errorf("a TTL after the failed refresh: ok=%v, %d fetches; want a new attempt", ok, store.fetches)
	}
}

func TestExpectEvery(t *testing.T) {
	t.Parallel()
	doc := []byte(`{"sources": {
		"github": {"scheme": "github", "secrets": ["` + secret16 + `"], "expect_every": "1h"},
		"stripe": {"scheme": "stripe", "secrets": ["not read here"]},
		"iot":    {"scheme": "intdash", "expect_every": "15m"}
	}}`)
	got, err := source.ExpectEvery(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{"github": time.Hour, "iot": 15 * time.Minute}
	if len(got) != len(want) || got["github"] != want["github"] || got["iot"] != want["iot"] {
		t.Errorf("ExpectEvery = %v, want %v", got, want)
	}
	set, err := source.Parse([]byte(`{"sources":{"github":{"scheme":"github","secrets":["` + secret16 + `"],"expect_every":"1h"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if src, _, _ := set.Lookup(context.Background(), "github"); src.ExpectEvery != time.Hour {
		t.Errorf("Source.ExpectEvery = %v", src.ExpectEvery)
	}
	if _, err := source.ExpectEvery([]byte(`{"sources":{"x":{"expect_every":"2d"}}}`)); err == nil || !strings.Contains(err.Error(), `source "x": expect_every`) {
		t.Errorf("bad expect_every: %v", err)
	}
	// The bounds themselves are allowed; a minute beyond either is not.
	for v, ok := range map[string]bool{"1m": true, "24h": true, "0m": false, "24h1m": false} {
		_, err := source.ExpectEvery([]byte(`{"sources":{"x":{"expect_every":"` + v + `"}}}`))
		if (err == nil) != ok {
			t.Errorf("expect_every %s: err = %v, want allowed %v", v, err, ok)
		}
	}
}

// TestDeliveryHeader: a configured delivery_header names the delivery, ahead of
// Idempotency-Key; it is only read as delivery_id, never as the identity.
func TestDeliveryHeader(t *testing.T) {
	t.Parallel()
	set, err := source.Parse([]byte(`{"sources":{"h":{"scheme":"hmac-sha256","header":"X-Sig","delivery_header":"X-Request-Id","secrets":["` + secret16 + `"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := set.Lookup(context.Background(), "h")
	for _, tc := range []struct {
		h    hdr
		want string
	}{
		{hdr{"x-request-id": "r1", "idempotency-key": "k1"}, "r1"},
		{hdr{"idempotency-key": "k1"}, "k1"},
	} {
		m := h.Describe(tc.h, []byte(`{}`), verify.Result{})
		if m.DeliveryID != tc.want || m.Identity != source.IdentityBody {
			t.Errorf("%v: delivery %q, identity %v; want %q from the body", tc.h, m.DeliveryID, m.Identity, tc.want)
		}
	}
}

// TestRepositoryConfigsLoad: every sources config a person copies from the repository — the
// examples in README.md and docs/, examples/sources.json and the Postman collection's — passes
// the rules the loader enforces (secrets of 16 bytes and more, tolerance at most 1h, valid CIDRs).
func TestRepositoryConfigsLoad(t *testing.T) {
	t.Parallel()
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for _, name := range append([]string{filepath.Join("..", "..", "README.md")}, docs...) {
		text, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, chunk := range strings.Split(string(text), "```json\n")[1:] {
			block, _, _ := strings.Cut(chunk, "```")
			if !strings.Contains(block, `"sources"`) {
				continue
			}
			blocks++
			if _, err := source.Parse([]byte(block)); err != nil {
				t.Errorf("%s: sources example does not load: %v\n%s", name, err, block)
			}
		}
	}
	if blocks == 0 {
		t.Error("no sources example found in README.md or docs/*.md")
	}
	if _, err := source.Load(filepath.Join("..", "..", "examples", "sources.json")); err != nil {
		t.Errorf("examples/sources.json: %v", err)
	}
	if _, err := source.Load(filepath.Join("..", "..", "postman", "sources.json")); err != nil {
		t.Errorf("postman/sources.json: %v", err)
	}
}
