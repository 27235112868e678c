package pipeline_test

import (
	"strings"
	"testing"
	"time"

	"hookline/pkg/pipeline"
)

var queryNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))

func params(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParseTimeBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Time
		err  string
	}{
		{"", time.Time{}, ""},
		{"0s", queryNow.UTC(), ""},
		{"90m", queryNow.Add(-90 * time.Minute).UTC(), ""},
		{"2026-11-30T08:00:00+01:00", time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC), ""},
		{"2026-11-30T08:00:00.5Z", time.Date(2026, 11, 30, 8, 0, 0, 500_000_000, time.UTC), ""},
		{"-1ns", time.Time{}, `since: duration "-1ns" must not be negative`},
		{"yesterday", time.Time{}, `since: "yesterday" is neither an RFC 3339 time`},
		{"2000000h", queryNow.Add(-2000000 * time.Hour).UTC(), ""},
		{"2562048h", time.Time{}, `since: duration "2562048h" is longer than any hookline takes (about 292 years)`},
		{"99999999999999999999ns", time.Time{}, `since: duration "99999999999999999999ns" is longer than any`},
		{"1h2x", time.Time{}, `since: "1h2x" is neither an RFC 3339 time`},
		// Made of a duration's characters but not one: not "longer than any", which would
		// send the reader looking for a smaller number.
		{"5mm", time.Time{}, `since: "5mm" is neither an RFC 3339 time`},
		{"1hh", time.Time{}, `since: "1hh" is neither an RFC 3339 time`},
		{"1.5.5h", time.Time{}, `since: "1.5.5h" is neither an RFC 3339 time`},
		{"1h.m", time.Time{}, `since: "1h.m" is neither an RFC 3339 time`},
		{"3nh", time.Time{}, `since: "3nh" is neither an RFC 3339 time`},
		{"2562047h47m", queryNow.Add(-2562047*time.Hour - 47*time.Minute).UTC(), ""},
		{"2562047h48m", time.Time{}, `since: duration "2562047h48m" is longer than any`},
		{"1h9223372036854775808ns", time.Time{}, `since: duration "1h9223372036854775808ns" is longer than any`},
		{".5h9999999999999999µs", time.Time{}, `since: duration ".5h9999999999999999µs" is longer than any`},
		{"2026", time.Time{}, `since: "2026" is neither an RFC 3339 time`},
	} {
		got, err := pipeline.ParseTimeBound("since", tc.in, queryNow)
		if tc.err != "" {
			if pipeline.KindOf(err) != pipeline.KindInvalid || !strings.Contains(pipeline.DetailOf(err), tc.err) {
				t.Errorf("%q: %v, want invalid %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("%q = %v, %v; want %v in UTC", tc.in, got, err, tc.want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	q, err := pipeline.ParseQuery(params("source", " github ", "type", " issues. ", "cursor", "c1", "since", "2h", "until", "1h", "limit", "1000"), queryNow)
	want := pipeline.Query{Source: "github", Type: "issues.", Cursor: "c1", Since: queryNow.Add(-2 * time.Hour).UTC(), Until: queryNow.Add(-time.Hour).UTC(), Limit: 1000}
	if err != nil || q != want {
		t.Errorf("ParseQuery = %+v, %v; want %+v", q, err, want)
	}
	for _, name := range []string{"a", "0", "my-source_2", strings.Repeat("a", 64)} {
		if q, err := pipeline.ParseQuery(params("source", name), queryNow); err != nil || q.Source != name {
			t.Errorf("source %q: %+v, %v", name, q, err)
		}
	}
	if q, err := pipeline.ParseQuery(params("limit", "1"), queryNow); err != nil || q.Limit != 1 {
		t.Errorf("limit 1: %+v, %v", q, err)
	}
	if q, err := pipeline.ParseQuery(params(), queryNow); err != nil || q != (pipeline.Query{}) {
		t.Errorf("no parameters: %+v, %v; want the zero query", q, err)
	}
	for _, tc := range []struct {
		kv   []string
		want string
	}{
		{[]string{"limit", "0"}, `limit: "0" is not a whole number from 1 to 1000`},
		{[]string{"limit", "1001"}, `limit: "1001"`},
		{[]string{"limit", "ten"}, `limit: "ten"`},
		{[]string{"since", "1h", "until", "1h"}, "must be before until"},
		{[]string{"since", "1h", "until", "2h"}, "must be before until"},
		{[]string{"since", "x"}, "since:"},
		{[]string{"until", "x"}, "until:"},
		// No event is stored under a source that is not a source name: refused, not an empty list.
		{[]string{"source", "GitHub"}, `source: "GitHub" is not a source name (1-64 of a-z, 0-9, '-' and '_', starting with a letter or digit)`},
		{[]string{"source", "github,stripe"}, `source: "github,stripe" is not a source name`},
		{[]string{"source", "' OR 1=1--"}, `source: "' OR 1=1--" is not a source name`},
		{[]string{"source", "_github"}, `source: "_github"`},
		{[]string{"source", strings.Repeat("a", 65)}, `source: "` + strings.Repeat("a", 64) + `…" is not a source name`},
	} {
		_, err := pipeline.ParseQuery(params(tc.kv...), queryNow)
		if pipeline.KindOf(err) != pipeline.KindInvalid || !strings.Contains(pipeline.DetailOf(err), tc.want) {
			t.Errorf("%v: %v, want invalid %q", tc.kv, err, tc.want)
		}
	}
}

// TestCheckRawQuery: a repeated parameter would reach ParseQuery joined ("a,b", as API Gateway
// joins them) and a misspelt one not at all: both answer an empty or unfiltered list unless
// refused, by name.
func TestCheckRawQuery(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "source=github&type=push.&since=1h&until=2026-12-01T00:00:00Z&limit=5&cursor=abc", "source=", "&", "source=a%2Cb"} {
		if err := pipeline.CheckRawQuery(raw); err != nil {
			t.Errorf("%q: %v, want nil", raw, err)
		}
	}
	for raw, want := range map[string]string{
		"source=github&source=stripe":  "source: given 2 times; it takes one value",
		"limit=1&limit=2&limit=3":      "limit: given 3 times",
		"source=a&source=":             "source: given 2 times",
		"sourse=github":                `unknown query parameter "sourse": the event list takes source, type, since, until, limit, cursor`,
		"source=github&bogus":          `unknown query parameter "bogus"`,
		"b=1&a=1":                      `unknown query parameter "a"`, // the first by name: the same answer every time
		"source=%zz":                   "the query string cannot be read",
		"source=github;type=push":      "the query string cannot be read",
		strings.Repeat("k", 100) + "=": `unknown query parameter "` + strings.Repeat("k", 64) + `…"`,
		// The 64-byte cut falls inside "€": clipped before it, not into \xe2 bytes.
		strings.Repeat("k", 63) + "%E2%82%AC%E2%82%AC=": `unknown query parameter "` + strings.Repeat("k", 63) + `…"`,
	} {
		err := pipeline.CheckRawQuery(raw)
		if pipeline.KindOf(err) != pipeline.KindInvalid || !strings.Contains(pipeline.DetailOf(err), want) {
			t.Errorf("%.40q: %v, want invalid %q", raw, err, want)
		}
	}
}
