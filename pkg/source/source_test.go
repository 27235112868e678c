package source_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/pkg/source"
)

type hdr map[string]string

func (h hdr) Get(k string) string { return h[k] }

const full = `{"sources": {
  "github":  {"scheme": "github",            "secrets": ["it's-a-secret"]},
  "stripe":  {"scheme": "stripe",            "secrets": ["whsec_abc"], "tolerance": "5m"},
  "billing": {"scheme": "standard-webhooks", "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]},
  "intdash": {"scheme": "hmac-sha256", "header": "X-Intdash-Signature-256", "encoding": "base64", "secrets": ["s"]},
  "iot":     {"scheme": "intdash", "secrets": ["s"]},
  "auth":    {"scheme": "hmac-sha256", "header": "X-Signature", "prefix": "sha256=", "timestamp_header": "X-Timestamp", "secrets": ["s"], "type_header": "X-Event"},
  "postman": {"scheme": "token",             "secrets": ["dev-token"]}
}}`

func TestParseFull(t *testing.T) {
	t.Parallel()
	set, err := source.Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(set.Names(), ","); got != "auth,billing,github,intdash,iot,postman,stripe" {
		t.Errorf("Names() = %s", got)
	}
	pm, ok, err := set.Lookup(context.Background(), "postman")
	if !ok || err != nil || pm.Dedup != source.DedupNone {
		t.Errorf("postman: ok=%v err=%v dedup=%v; token sources default to dedup none", ok, err, pm.Dedup)
	}
	gh, _, _ := set.Lookup(context.Background(), "github")
	if gh.Dedup != source.DedupBody || gh.Scheme != "github" {
		t.Errorf("github dedup = %v", gh.Dedup)
	}
	if _, ok, _ := set.Lookup(context.Background(), "nope"); ok {
		t.Error("unknown source found")
	}
}

func TestParseErrorsNameSourceAndField(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, json, want string }{
		{"unknown scheme", `{"sources":{"a":{"scheme":"paypal","secrets":["x"]}}}`, `source "a": scheme: unknown scheme "paypal"`},
		{"missing scheme", `{"sources":{"a":{"secrets":["x"]}}}`, `source "a": scheme: missing`},
		{"no secrets", `{"sources":{"gh":{"scheme":"github","secrets":[]}}}`, `source "gh": secrets: at least one`},
		{"empty secret", `{"sources":{"gh":{"scheme":"github","secrets":["ok"," "]}}}`, `source "gh": secrets[1]: empty secret`},
		{"bad tolerance", `{"sources":{"s":{"scheme":"stripe","secrets":["whsec_x"],"tolerance":"5 minutes"}}}`, `source "s": tolerance: "5 minutes"`},
		{"negative tolerance", `{"sources":{"s":{"scheme":"stripe","secrets":["whsec_x"],"tolerance":"-1m"}}}`, `source "s": tolerance`},
		{"typo field", `{"sources":{"s":{"scheme":"github","secret":["x"]}}}`, `unknown field "secret"`},
		{"no sources", `{"sources":{}}`, `no sources`},
		{"bad name", `{"sources":{"Bad Name":{"scheme":"github","secrets":["x"]}}}`, `source "Bad Name": name:`},
		{"hmac without header", `{"sources":{"h":{"scheme":"hmac-sha256","secrets":["x"]}}}`, `source "h": header: required`},
		{"header on github", `{"sources":{"g":{"scheme":"github","secrets":["x"],"header":"X"}}}`, `source "g": header: only for`},
		{"bad dedup", `{"sources":{"g":{"scheme":"github","secrets":["x"],"dedup":"maybe"}}}`, `source "g": dedup:`},
		{"bad whsec", `{"sources":{"b":{"scheme":"standard-webhooks","secrets":["whsec_!!!"]}}}`, `source "b": standard-webhooks:`},
		{"trailing", `{"sources":{"g":{"scheme":"github","secrets":["x"]}}} {}`, `trailing data`},
		{"not json", `sources:`, `sources config`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := source.Parse([]byte(tt.json))
			if !errors.Is(err, source.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrConfig containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "whsec_x") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
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
		{"github", hdr{"x-github-event": "push", "x-github-delivery": "d1"}, `{"action":"x"}`, source.Meta{DeliveryID: "d1", Type: "push"}},
		{"stripe", hdr{}, `{"id":"evt_1","type":"invoice.paid"}`, source.Meta{DeliveryID: "evt_1", Type: "invoice.paid"}},
		{"billing", hdr{"webhook-id": "msg_1"}, `{"type":"user.created","version":2}`, source.Meta{DeliveryID: "msg_1", Type: "user.created", Version: "2"}},
		{"billing", hdr{"svix-id": "msg_2"}, `{"type":"a"}`, source.Meta{DeliveryID: "msg_2", Type: "a"}},
		{"iot", hdr{}, `{"resource_type":"measurement","action":"finished","measurement_uuid":"u"}`, source.Meta{Type: "measurement.finished"}},
		{"auth", hdr{"x-event": "user.registered", "x-webhook-version": "2024-01"}, `{}`, source.Meta{Type: "user.registered", Version: "2024-01"}},
		{"postman", hdr{}, `{"event":"user.registered","timestamp":1,"version":"v1"}`, source.Meta{Type: "user.registered", Version: "v1"}},
		{"postman", hdr{"idempotency-key": "k1"}, `A new message has been published`, source.Meta{DeliveryID: "k1", Type: "unknown"}},
		{"postman", hdr{}, `{"type": 5}`, source.Meta{Type: "unknown"}},
		{"github", hdr{"x-github-event": "pu\nsh" + strings.Repeat("x", 300)}, ``, source.Meta{Type: ("push" + strings.Repeat("x", 300))[:source.MaxMetaLen]}},
	}
	for _, tt := range tests {
		s, _, _ := set.Lookup(context.Background(), tt.src)
		if got := s.Describe(tt.h, []byte(tt.body)); got != tt.want {
			t.Errorf("%s %v %s: got %+v, want %+v", tt.src, tt.h, tt.body, got, tt.want)
		}
	}
}

func TestRefresher(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	doc := `{"sources":{"a":{"scheme":"github","secrets":["x"]}}}`
	var fetchErr error
	fetches := 0
	r := &source.Refresher{
		Fetch: func(context.Context) ([]byte, error) { fetches++; return []byte(doc), fetchErr },
		TTL:   time.Minute,
		Now:   func() time.Time { return now },
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ctx := context.Background()
	if err := r.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := r.Lookup(ctx, "a"); !ok || fetches != 1 {
		t.Fatalf("ok=%v fetches=%d", ok, fetches)
	}
	// Rotation: a new config is picked up after the TTL, without a restart.
	doc = `{"sources":{"b":{"scheme":"github","secrets":["y"]}}}`
	if _, ok, _ := r.Lookup(ctx, "b"); ok {
		t.Error("config refreshed before its TTL")
	}
	now = now.Add(time.Minute)
	if _, ok, _ := r.Lookup(ctx, "b"); !ok || fetches != 2 {
		t.Errorf("after TTL: ok=%v fetches=%d", ok, fetches)
	}
	// A failing store keeps the last good config.
	fetchErr = errors.New("secrets manager down")
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
	f.Add([]byte(`{"sources":{"a":{"scheme":"token","secrets":["t"],"dedup":"none"}}}`))
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
