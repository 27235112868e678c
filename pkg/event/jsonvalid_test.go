package event

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
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

// scanValidStringJSON is where the JSON string starting at b[i] ends, found by encoding/json and
// unicode/utf8 instead of a scan: just past the shortest b[i:k] ending in '"' that is valid JSON
// and valid UTF-8, or -1. No other k can be the end: a string's first unescaped '"' closes it,
// and whatever is malformed before that quote makes every longer prefix invalid too.
func scanValidStringJSON(b []byte, i int) int {
	for k := i + 2; k <= len(b); k++ {
		if b[k-1] == '"' && json.Valid(b[i:k]) && utf8.Valid(b[i:k]) {
			return k
		}
	}
	return -1
}

// atStringStarts calls check for a string starting at each of the first 9 offsets of b that hold
// a '"' (every alignment of the words a scanner reads against the input's end), and for b behind
// an added quote, so every input is a string's body.
func atStringStarts(b []byte, check func(b []byte, i int)) {
	for i := 0; i < len(b) && i < 9; i++ {
		if b[i] == '"' {
			check(b, i)
		}
	}
	check(append([]byte{'"'}, b...), 0)
}

// FuzzScanValidString: scanValidString, which skips plain bytes a word at a time, ends each
// string where encoding/json and unicode/utf8 say it ends (scanValidStringJSON).
func FuzzScanValidString(f *testing.F) {
	for _, s := range validJSONSeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`"abcdefgh"`, `"abcdefghijklmnopq"`, `"abcdefghijklmnop`, "\"abcdefg\x1fhijk\"", "\"abcdefgh\x7f\"",
		`"abcdefg\"hijklmn"`, `"abcdefg\\hijklmn"`, "\"abcdefghéijklmnop\"", "\"abcdefgh\x80ijklmnop\"",
		"\"abcdefgh\x00\"", "\"a!#[]~ \x7f\x7f\"", `"12345678\u00e9abcdefgh"`,
		// The closing quote in the second word of a 16-byte step (index 24 from the opening one).
		`"abcdefghijklmnopqrstuvw"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		atStringStarts(b, func(b []byte, i int) {
			if got, want := scanValidString(b, i), scanValidStringJSON(b, i); got != want {
				t.Fatalf("scanValidString(%q, %d) = %d, encoding/json and unicode/utf8 say %d", b, i, got, want)
			}
		})
	})
}

// checkLanes: mask marks each byte value c in each lane of a word otherwise plain ("abcdefgh")
// exactly when marked(c), with the lane's top bit.
func checkLanes(t *testing.T, name string, mask func(uint64) uint64, marked func(c byte) bool) {
	t.Helper()
	for lane := range 8 {
		for c := range 256 {
			w := []byte("abcdefgh")
			w[lane] = byte(c)
			want := uint64(0)
			if marked(byte(c)) {
				want = 0x80 << (8 * lane)
			}
			if got := mask(binary.LittleEndian.Uint64(w)); got != want {
				t.Errorf("%s(%q) = %#x, want %#x", name, w, got, want)
			}
		}
	}
}

// TestNotPlain: each byte value in each lane of a word otherwise plain is marked exactly when
// strSafe says it is not plain, and the lowest lane marked is the first byte that is not plain
// when several are.
func TestNotPlain(t *testing.T) {
	checkLanes(t, "notPlain", notPlain, func(c byte) bool { return !strSafe[c] })
	// Lanes that are not plain next to each other and above plain ones, where a borrow could
	// move the first.
	for _, tc := range []struct {
		w     string
		first int
	}{
		{"\x00\x00\x00\x00\x00\x00\x00\x00", 0}, {"ab\x1f\x20\"\x21\\\x80", 2}, {"\x20\x20\x20\x20\x20\x20\x20\x1f", 7},
		{"abc\"\"\x00\x00\x00", 3}, {"a\x7f\x7f\x7f\\\x01\xff\x00", 4}, {"\x21\x21\x21\x21\x21\x21\x80\x00", 6},
	} {
		m := notPlain(binary.LittleEndian.Uint64([]byte(tc.w)))
		if got := bits.TrailingZeros64(m) / 8; got != tc.first {
			t.Errorf("notPlain(%q) = %#x: first byte not plain %d, want %d", tc.w, m, got, tc.first)
		}
	}
}

// BenchmarkValidJSON: validJSON over the load generator's body (a 1 KiB string of plain
// bytes) and over an envelope with that body as its data.
func BenchmarkValidJSON(b *testing.B) {
	body := []byte(`{"delivery":"0b7c6f2e-4f0a-4c55-9a53-3c1d2e4f5a6b","pad":"` + strings.Repeat("x", 964) + `"}`)
	for _, tc := range []struct {
		name string
		in   []byte
	}{{"body", body}, {"github", []byte(validJSONSeeds[1])}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.in)))
			for b.Loop() {
				if !validJSON(tc.in) {
					b.Fatal("not valid")
				}
			}
		})
	}
}
