package source_test

import (
	"strings"
	"testing"

	"hookline/pkg/source"
	"hookline/pkg/verify"
)

// TestConfigLimits checks every limit of the sources config at the limit and one step past it.
func TestConfigLimits(t *testing.T) {
	t.Parallel()
	one := func(name, fields string) string {
		return `{"sources":{"` + name + `":{` + fields + `}}}`
	}
	gh := `"scheme":"github","secrets":["` + secret16 + `"]`
	for _, tc := range []struct {
		name, doc string
		wantErr   string // "" = valid
	}{
		{"name of 64", one(strings.Repeat("a", 64), gh), ""},
		{"name of 65", one(strings.Repeat("a", 65), gh), "name: use 1-64"},
		{"secret of 16 bytes", one("a", gh), ""},
		{"secret of 15 bytes", one("a", `"scheme":"github","secrets":["`+secret16[:15]+`"]`), "the key is 15 bytes; use at least 16"},
		{"token of 15 inside spaces", one("a", `"scheme":"token","secrets":["  `+secret16[:15]+`  "]`), "the key is 15 bytes"},
		{"tolerance of an hour", one("a", `"scheme":"stripe","secrets":["whsec_`+secret16+`"],"tolerance":"1h"`), ""},
		{"tolerance over an hour", one("a", `"scheme":"stripe","secrets":["whsec_`+secret16+`"],"tolerance":"1h0m0.000000001s"`), "over the 1h0m0s maximum"},
		{"tolerance of a nanosecond", one("a", `"scheme":"stripe","secrets":["whsec_`+secret16+`"],"tolerance":"1ns"`), ""},
		{"tolerance of zero", one("a", `"scheme":"stripe","secrets":["whsec_`+secret16+`"],"tolerance":"0s"`), "not a positive Go duration"},
		{"rate at the maximum", one("a", gh+`,"rate":{"per_second":1000000,"burst":1000000}`), ""},
		{"rate over the maximum", one("a", gh+`,"rate":{"per_second":1000000.5}`), "rate.per_second: 1.0000005e+06 is not"},
		{"rate of zero", one("a", gh+`,"rate":{"per_second":0}`), "rate.per_second: 0 is not"},
		{"burst over the maximum", one("a", gh+`,"rate":{"per_second":1,"burst":1000001}`), "rate.burst: 1000001 is not from 1 to 1000000"},
		{"negative burst", one("a", gh+`,"rate":{"per_second":1,"burst":-1}`), "rate.burst: -1"},
	} {
		_, err := source.Parse([]byte(tc.doc))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.wantErr)
		}
	}
}

// TestDescribeClipsMetadata: a type or delivery id from a request loses control characters and
// is cut to MaxMetaLen bytes, never in the middle of a UTF-8 sequence.
func TestDescribeClipsMetadata(t *testing.T) {
	t.Parallel()
	set, err := source.Parse([]byte(`{"sources":{"gh":{"scheme":"github","secrets":["` + secret16 + `"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	gh, _, _ := set.Lookup(t.Context(), "gh")
	max := source.MaxMetaLen
	for _, tc := range []struct{ in, want string }{
		{strings.Repeat("a", max), strings.Repeat("a", max)},
		{strings.Repeat("a", max+1), strings.Repeat("a", max)},
		{strings.Repeat("a", max-1) + "é", strings.Repeat("a", max-1)}, // é would straddle the cut
		{strings.Repeat("a", max-2) + "é", strings.Repeat("a", max-2) + "é"},
		{strings.Repeat("a", max-2) + "漢", strings.Repeat("a", max-2)},
		{"is\x00sues\x1f.op\x7fened\n", "issues.opened"},
		{"\x01push", "push"},                // a control character first
		{strings.Repeat("\x80", max+1), ""}, // no UTF-8 sequence starts anywhere: nothing is left, no panic
		{" push ", "push"},
		{"pull request", "pull request"},
	} {
		m := gh.Describe(hdr{"x-github-event": tc.in, "x-github-delivery": tc.in}, []byte(`{}`), verify.Result{})
		wantType := tc.want
		if wantType == "" {
			wantType = "unknown" // nothing left of the type: none
		}
		if m.Type != wantType || m.DeliveryID != tc.want {
			t.Errorf("%q (%d bytes): type %q, delivery %q (%d bytes); want %q", tc.in, len(tc.in), m.Type, m.DeliveryID, len(m.Type), tc.want)
		}
	}
}
