package emailpolicy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t *testing.T, s string) Policy {
	t.Helper()
	p, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const sample = `{"sources": {
  "github": {"types": ["issues.", "push"]},
  "stripe": {"digest": "5m"},
  "shop":   {"types": ["issues.", "push"]},
  "*":      {"types": ["user.created"]}
}}`

func TestDecide(t *testing.T) {
	t.Parallel()
	p := mustParse(t, sample)
	tests := []struct {
		source, typ string
		mode        Mode
		every       time.Duration
	}{
		{"github", "issues.opened", Immediate, 0},
		{"github", "issues.opened.extra", None, 0}, // a prefix is one segment below
		{"github", "push", Immediate, 0},
		{"github", "pull_request.opened", None, 0},
		{"stripe", "invoice.paid", Digested, 5 * time.Minute},
		{"auth", "user.created", Immediate, 0}, // "*"
		{"auth", "user.deleted", None, 0},
	}
	for _, tt := range tests {
		mode, every := p.Decide(tt.source, tt.typ)
		if mode != tt.mode || every != tt.every {
			t.Errorf("Decide(%s, %s) = %v, %v; want %v, %v", tt.source, tt.typ, mode, every, tt.mode, tt.every)
		}
	}
	def := mustParse(t, "")
	if m, _ := def.Decide("anything", "at.all"); m != Immediate || !def.IsDefault() {
		t.Error("the default policy does not email everything")
	}
	none := mustParse(t, `{"sources": {}}`)
	if m, _ := none.Decide("github", "push"); m != None || none.IsDefault() {
		t.Error("an empty policy emails")
	}
	if got := p.Digests(); !cmp.Equal(got, map[string]time.Duration{"stripe": 5 * time.Minute}) {
		t.Errorf("Digests = %v", got)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"sources": {"github": {"typo": 1}}}`:          "unknown field",
		`{"sources": {"Git Hub": {}}}`:                  `source "Git Hub"`,
		`{"sources": {"github": {"digest": "30s"}}}`:    "whole minutes",
		`{"sources": {"github": {"digest": "2h"}}}`:     "whole minutes",
		`{"sources": {"github": {"digest": "90s"}}}`:    "whole minutes",
		`{"sources": {"github": {"digest": "soon"}}}`:   "invalid duration",
		`{"sources": {"*": {"digest": "5m"}}}`:          "name the source",
		`{"sources": {"github": {"types": [" push"]}}}`: "padded",
		`{}`: `"sources" is missing`,
	} {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", in, err, want)
		}
	}
	// The policy survives its own String: the notifier gets what the stack rendered.
	p := mustParse(t, sample)
	if q := mustParse(t, p.String()); !cmp.Equal(p, q) {
		t.Errorf("round trip: %v → %v", p, q)
	}
}

func TestSNSFilterPolicy(t *testing.T) {
	t.Parallel()
	got := mustParse(t, sample).SNSFilterPolicy()
	want := map[string]any{"$or": []any{
		map[string]any{"source": []any{"github"}, "type": []any{map[string]any{"prefix": "issues."}, "push"}},
		map[string]any{"source": []any{"shop"}, "type": []any{map[string]any{"prefix": "issues."}, "push"}},
		map[string]any{"source": []any{"stripe"}, "type": []any{DigestType}},
		map[string]any{"source": []any{map[string]any{"anything-but": []any{"github", "shop", "stripe"}}}, "type": []any{"user.created"}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("filter policy (-want +got):\n%s", diff)
	}
	if mustParse(t, "").SNSFilterPolicy() != nil {
		t.Error("the default policy filters")
	}
	one := mustParse(t, `{"sources": {"github": {}}}`).SNSFilterPolicy()
	if !cmp.Equal(one, map[string]any{"source": []any{"github"}}) {
		t.Errorf("one rule: %v, want no $or", one)
	}
	if b, _ := json.Marshal(mustParse(t, `{"sources": {}}`).SNSFilterPolicy()); string(b) != `{"source":[{"exists":false}]}` {
		t.Errorf("no rule: %s", b)
	}
}

func TestStreamFilters(t *testing.T) {
	t.Parallel()
	got, err := mustParse(t, sample).StreamFilters("source_group")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	want := `[` +
		`{"dynamodb":{"NewImage":{"source":{"S":["github","shop"]},"source_group":{"S":[{"exists":true}]},"type":{"S":[{"prefix":"issues."},"push"]}}},"eventName":["INSERT"]},` +
		`{"dynamodb":{"NewImage":{"source":{"S":["stripe"]},"source_group":{"S":[{"exists":true}]}}},"eventName":["INSERT"]},` +
		`{"dynamodb":{"NewImage":{"source":{"S":[{"anything-but":["github","shop","stripe"]}]},"source_group":{"S":[{"exists":true}]},"type":{"S":["user.created"]}}},"eventName":["INSERT"]}]`
	if string(b) != want {
		t.Errorf("stream filters:\n%s\nwant\n%s", b, want)
	}
	def, _ := mustParse(t, "").StreamFilters("source_group")
	if b, _ := json.Marshal(def); string(b) != `[{"dynamodb":{"NewImage":{"source_group":{"S":[{"exists":true}]}}},"eventName":["INSERT"]}]` {
		t.Errorf("default: %s", b)
	}
	var many strings.Builder
	many.WriteString(`{"sources": {`)
	for i := range 6 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`"s` + string(rune('a'+i)) + `": {"types": ["t` + string(rune('a'+i)) + `"]}`)
	}
	many.WriteString(`}}`)
	if _, err := mustParse(t, many.String()).StreamFilters("source_group"); err == nil {
		t.Error("six different rules fit in five filters")
	}
}
