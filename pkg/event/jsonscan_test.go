package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTopLevelString: whenever the scanner finds a value, encoding/json agrees on it.
func FuzzTopLevelString(f *testing.F) {
	for _, s := range []string{
		`{"action":"opened","issue":{"action":"nested"}}`,
		`{"issue":{"action":"nested","x":[1,"]}"]},"action":"closed"}`,
		`{"a\"ction":"x","action":"y"}`,
		`{"action":"op\"ened"}`,
		` {"zen":"Keep it logically awesome.","hook_id":1}`,
		`{"action":1}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := TopLevelString(body, "action")
		// Ingest only reads types from valid UTF-8 JSON (event.SetData refuses the rest).
		if !ok || !json.Valid(body) || !utf8.Valid(body) {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("scanner found %q in %s, which is no JSON object: %v", got, body, err)
		}
		var s string
		if err := json.Unmarshal(m["action"], &s); err != nil {
			t.Fatalf("scanner found %q in %s, encoding/json no string action: %v", got, body, err)
		}
		// encoding/json keeps the last of duplicate keys, the scanner the first.
		if s != string(got) && bytes.Count(body, []byte(`"action"`)) == 1 {
			t.Fatalf("scanner found %q, encoding/json %q in %s", got, s, body)
		}
	})
}

func TestTopLevelString(t *testing.T) {
	tests := []struct {
		body, want string
		ok         bool
	}{
		{`{"action":"opened","issue":{"number":1}}`, "opened", true},
		{`{"issue":{"action":"nested","labels":[{"action":"x"}],"s":"}\"{"},"action":"closed"}`, "closed", true},
		{` { "ref" : "refs/heads/main" , "action" : "created" } `, "created", true},
		{`{"ref":"refs/heads/main","commits":[]}`, "", false},
		{`{"action":1}`, "", false},
		{`{"action":"esc\u0041"}`, "", false},
		{`["action","opened"]`, "", false},
		{`{"action":`, "", false},
		{``, "", false},
	}
	for _, tt := range tests {
		got, ok := TopLevelString([]byte(tt.body), "action")
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("TopLevelString(%s) = %q, %v; want %q, %v", tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

// TestTopLevelStringTruncated: every prefix of a body, cut anywhere, is answered without reading
// past its end; the value is found only once it is whole.
func TestTopLevelStringTruncated(t *testing.T) {
	body := `{ "n" : 1 , "o" : {"a":["}",1]} , "s" : "x" , "action" : "opened" }`
	for n := range len(body) + 1 {
		prefix := []byte(body[:n])
		v, ok := TopLevelString(prefix, "action")
		whole := n >= len(`{ "n" : 1 , "o" : {"a":["}",1]} , "s" : "x" , "action" : "opened"`)
		if ok != whole || (ok && string(v) != "opened") {
			t.Errorf("%q: %q, %v; want found %v", prefix, v, ok, whole)
		}
		if _, ok := TopLevelString(prefix, "missing"); ok {
			t.Errorf("%q: found a key it does not hold", prefix)
		}
	}
}

// TestEachTopLevelTruncated: an object cut anywhere is not well formed and is read without going
// past its end; the whole object yields its keys and raw values in order.
func TestEachTopLevelTruncated(t *testing.T) {
	body := `{ "n" : 1 , "o" : {"a":["}",1]} , "s" : "x" }`
	for n := range len(body) {
		if eachTopLevel([]byte(body[:n]), func(_, _ []byte) {}) {
			t.Errorf("%q: accepted as a whole object", body[:n])
		}
	}
	var got []string
	if !eachTopLevel([]byte(body), func(k, v []byte) { got = append(got, string(k)+"="+string(v)) }) {
		t.Fatalf("%s: not accepted", body)
	}
	if want := `n=1 o={"a":["}",1]} s="x"`; strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, " "), want)
	}
	for _, empty := range []string{"{}", "{ }"} {
		if !eachTopLevel([]byte(empty), func(_, _ []byte) { t.Errorf("%s: a key", empty) }) {
			t.Errorf("%s: not accepted", empty)
		}
	}
}

// scanStringBytes is scanString a byte at a time: the reference the word-at-a-time scan is
// held to (FuzzScanString).
func scanStringBytes(b []byte, i int) (end int, plain bool) {
	plain = true
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			plain = false
			j++
		case '"':
			return j, plain
		}
	}
	return -1, false
}

// FuzzScanString: scanString, which looks for '"' and '\\' a word at a time, returns what the
// byte-at-a-time scan returns, for a string starting at each of the first 9 offsets and behind
// an added quote.
func FuzzScanString(f *testing.F) {
	for _, s := range []string{
		`"abcdefgh"`, `"abcdefghijklmnopq"`, `"abcdefghijklmnop`, `"abcdefg\"hijklmn"`, `"abcdefg\\hijklmn"`,
		`"abcdefgh\`, `"abcdefg\`, "\"abcdefgh\xff\x80\x00\"", `"12345678\u00e9abcdefgh"`, `""`, `"\""`, `"a\\"b"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		atStringStarts(b, func(b []byte, i int) {
			gotEnd, gotPlain := scanString(b, i)
			wantEnd, wantPlain := scanStringBytes(b, i)
			if gotEnd != wantEnd || gotPlain != wantPlain {
				t.Fatalf("scanString(%q, %d) = %d, %v; a byte at a time %d, %v", b, i, gotEnd, gotPlain, wantEnd, wantPlain)
			}
		})
	})
}

// TestQuoteOrBackslash: each byte value in each lane of a word otherwise of neither is marked
// exactly when it is '"' or '\\'.
func TestQuoteOrBackslash(t *testing.T) {
	checkLanes(t, "quoteOrBackslash", quoteOrBackslash, func(c byte) bool { return c == '"' || c == '\\' })
}
