package event

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

var validJSONSeeds = []string{
	`{"a":1}`, ` {"ref":"refs/heads/main","commits":[{"id":"x","n":-0.5e+10}],"ok":true,"no":null,"f":false} `,
	`[]`, `{}`, `[[],{}]`, `"x"`, `0`, `-0`, `1.5E3`, `01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`,
	`"\u00e9\n\t\"\\\/\b\f\r"`, `"\u00g1"`, `"\x"`, "\"\x1f\"", "\"\x7f\"", `"é✓😀"`,
	"\"\xff\"", "\"\xed\xa0\x80\"", "\"\xc3\"", "\xef\xbb\xbf{}", "{}\xc3\xa9", `tru`, `truex`, `nul`, `nulll`,
	`{"a" 1}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a":1}}`, `{1:2}`, `{"a":}`, ``, ` `, "\t\r\n[\n]\n",
	`[1]x`, `{"a":[1,{"b":[true]}]}`, `{"a":{"b":{"c":[]}}}`, `]`, `}`, `[}`, `{]`,
	// Input that ends where the scanner looks for more: after '[' or '{', a value, a ',', a key,
	// a literal, inside a string, after a backslash, inside a \u escape.
	`[`, `{`, `[ `, `[1`, `{"a":1`, `{"a":1,`, `{"a"`, `{"a" `, `{"a":`, `true`, `false`, `null`,
	`"`, `"abc`, `"\`, `"ab\`, `"\u`, `"\u00`, `"\u00e9`, `"\u00e9"`,
	// Hex digits at the ends of each range and just outside them.
	`"\u09af"`, `"\u0AF0"`, `"\u0a/0"`, `"\u0:00"`, "\"\\u0`00\"", `"\u0g00"`, `"\u0@00"`, `"\u0G00"`,
	// 0x80 is the first byte that is not ASCII: alone it is not UTF-8.
	"\"\x7e\"", "\"\x80\"", "\"a\x80b\"",
	// An array after an object at the same depth is an array again; a '.' needs a digit after it.
	`[{},[1,2]]`, `{"a":{},"b":[1,2]}`, `[{"a":1},[2,3]]`, `[1.]`, `{"a":1.}`, `[1.,2]`,
	// After a value, each closer closes only its own kind of container.
	`[1}`, `{"a":1]`, `[{"a":1]}`, `{"a":[1}]`,
}

// FuzzValidJSON: validJSON agrees with json.Valid(b) && utf8.Valid(b) on every input.
func FuzzValidJSON(f *testing.F) {
	for _, s := range validJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := validJSON(b), json.Valid(b) && utf8.Valid(b)
		if got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json and unicode/utf8 say %v", b, got, want)
		}
		// What validJSON takes is never called too deep: the refusal's wording cannot lie.
		if got && nestedTooDeep(b) {
			t.Fatalf("nestedTooDeep(%q) on valid JSON", b)
		}
	})
}

func TestValidJSON(t *testing.T) {
	cases := append([]string{}, validJSONSeeds...)
	// encoding/json's nesting limit, on both sides of it.
	for _, d := range []int{maxJSONDepth, maxJSONDepth + 1} {
		cases = append(cases, strings.Repeat("[", d)+strings.Repeat("]", d),
			strings.Repeat(`{"a":`, d)+"1"+strings.Repeat("}", d))
	}
	valid := 0
	for _, s := range cases {
		got, want := validJSON([]byte(s)), json.Valid([]byte(s)) && utf8.Valid([]byte(s))
		if got != want {
			t.Errorf("validJSON(%.40q) = %v, want %v", s, got, want)
		}
		if want {
			valid++
		}
	}
	// Both answers occur, so agreement is not agreement on "false" alone.
	if valid == 0 || valid == len(cases) {
		t.Fatalf("%d of %d cases valid: the table tests only one answer", valid, len(cases))
	}
}

// TestScanEnds: the two scanners validJSON builds on return the index just past what they
// read, or -1 for malformed input (validJSON treats any negative result as "not JSON").
func TestScanEnds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{`"ab"`, 4}, {`"ab"x`, 4}, {`"\u00e9\n"`, 10}, {"\"é\"", 4},
		{`"\q"`, -1}, {`"\u12"`, -1}, {`"\u12`, -1}, {"\"\x01\"", -1}, {"\"\xff\"", -1}, {`"ab`, -1}, {`"\`, -1},
	} {
		if got := scanValidString([]byte(tc.in), 0); got != tc.want {
			t.Errorf("scanValidString(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want int
	}{
		{`0`, 1}, {`-0.5`, 4}, {`12.5e3]`, 6}, {`1E-2,`, 4},
		{`-`, -1}, {`1.x`, -1}, {`1.`, -1}, {`1e+x`, -1}, {`1e`, -1}, {`-x`, -1},
	} {
		if got := scanNumber([]byte(tc.in), 0); got != tc.want {
			t.Errorf("scanNumber(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
