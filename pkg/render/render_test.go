package render_test

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hookline/pkg/event"
	"hookline/pkg/render"
)

func received(t *testing.T, contentType string, body []byte) *event.Event {
	t.Helper()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	e := &event.Event{ID: event.BodyID("s", body), Source: "s", Type: "t", Time: now, ReceivedAt: now}
	if err := e.SetData(contentType, body); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType string
		body              []byte
		want              render.Data
	}{
		{"json is indented", "application/json", []byte(`{"a":[1,2],"b":"c"}`),
			render.Data{Kind: render.JSON, Text: "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": \"c\"\n}", Size: 19}},
		{"text as sent", "text/plain; charset=utf-8", []byte("A new message has been published"),
			render.Data{Kind: render.Text, Text: "A new message has been published", Size: 32}},
		{"a JSON string stays JSON", "application/json", []byte(`"hello"`),
			render.Data{Kind: render.JSON, Text: `"hello"`, Size: 7}},
		{"binary as bytes", "application/octet-stream", []byte{0, 1, 2, 0xff},
			render.Data{Kind: render.Binary, Bytes: []byte{0, 1, 2, 0xff}, Size: 4}},
		{"nothing", "", nil, render.Data{Kind: render.None}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, render.Of(received(t, tc.contentType, tc.body))); diff != "" {
				t.Errorf("Of (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s       string
		max     int
		want    string
		wantCut bool
	}{
		{"short", 10, "short", false},
		{"exactly", 7, "exactly", false},
		{"abcdef", 3, "abc", true},
		{"aé", 2, "a", true}, // é is two bytes: never split
		{"日本", 4, "日", true},
	}
	for _, tc := range tests {
		got, cut := render.Cut(tc.s, tc.max)
		if got != tc.want || cut != tc.wantCut {
			t.Errorf("Cut(%q, %d) = %q, %v; want %q, %v", tc.s, tc.max, got, cut, tc.want, tc.wantCut)
		}
	}
}

// FuzzIndent: JSON data is indented exactly as json.Indent indents it, whichever way Of takes,
// and indentedLen, which sizes indent's buffer, counts what indent writes.
func FuzzIndent(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,2],"b":"c"}`, `{}`, `[]`, `[[],{}]`, `{"a":{}, "b" : [ ] }`, `"x"`, `1`, `-0.5e+3`, `true`, `null`,
		`{"s":"a\"b\\c\u00e9,:{}[]","t":"\\"}`, " {\"a\" :\t1 ,\r\n\"b\":[true,false,null]} \n", `1 `, "[1]\t\n",
		`{"ref":"refs/heads/main","repository":{"full_name":"octo/hello"},"commits":[{"id":"0123","message":"fix"}]}`,
		"\"caf\xc3\xa9\"", "\"\xff\"", `{"a":1,}`, `[1 2]`, ``, `{"a":"\ud83d\ude00"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want bytes.Buffer
		if err := json.Indent(&want, b, "", "  "); err != nil {
			return // not JSON: Of shows it as text (TestOf)
		}
		e := &event.Event{Data: b}
		if b[0] == '"' {
			e.DataContentType = "application/json" // else a JSON string reads as a text body
		}
		if got := render.Of(e); got.Kind != render.JSON || got.Text != want.String() {
			t.Fatalf("Of(%q) = %s %q; json.Indent gives %q", b, got.Kind, got.Text, want.String())
		}
		if n := render.IndentedLen(b); event.ValidJSON(b) && n != want.Len() {
			t.Fatalf("IndentedLen(%q) = %d, want %d", b, n, want.Len())
		}
	})
}

func TestTerminal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in       string
		multiline      bool
		want, wantCell string // multiline, and as a table cell
	}{
		{"plain text is kept", "push from github, üñí 漢字 🎉", true, "push from github, üñí 漢字 🎉", "push from github, üñí 漢字 🎉"},
		{"window title and clear screen", "a\x1b]0;PWNED\a\x1b[2Jb", true, `a\x1b]0;PWNED\a\x1b[2Jb`, `a\x1b]0;PWNED\a\x1b[2Jb`},
		{"C1 CSI and DEL", "a\u009b31mb\x7f", true, `a\u009b31mb\x7f`, `a\u009b31mb\x7f`},
		{"line breaks and tabs", "line 1\r\nline 2\n\tend", true, "line 1\r\nline 2\n\tend", `line 1\r\nline 2\n\tend`},
		{"a lone carriage return overwrites the line", "paid\rfailed", true, `paid\rfailed`, `paid\rfailed`},
		{"a carriage return at the end", "a\r", true, `a\r`, `a\r`},
		{"bytes that are not UTF-8", "a\xffb\xc3", true, `a\xffb\xc3`, `a\xffb\xc3`},
		{"NUL", "a\x00b", true, `a\x00b`, `a\x00b`},
		{"empty", "", true, "", ""},
	}
	for _, tt := range tests {
		if got := render.Terminal(tt.in, true); got != tt.want {
			t.Errorf("%s: Terminal(%q, true) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
		if got := render.Terminal(tt.in, false); got != tt.wantCell {
			t.Errorf("%s: Terminal(%q, false) = %q, want %q", tt.name, tt.in, got, tt.wantCell)
		}
	}
}

// TestIndentAllocatesOnce: indented data is written into one buffer of its exact size, for
// data that grows a little when indented and for data that grows more than twice.
func TestIndentAllocatesOnce(t *testing.T) {
	nested := `{"a":{"b":{"c":{"d":[1,2,3,{"e":[[],{}]}]}}},"f":[{"g":1},{"h":2}]}`
	for _, data := range []string{`{"delivery":"d-1","pad":"` + strings.Repeat("x", 1000) + `"}`, strings.Repeat(`[`+nested+`,`, 3) + `0]]]`} {
		e := &event.Event{Data: []byte(data)}
		got := render.Of(e)
		if got.Kind != render.JSON {
			t.Fatalf("Of(%q) is %s, want JSON", data, got.Kind)
		}
		if n := testing.AllocsPerRun(20, func() { render.Of(e) }); n != 1 {
			t.Errorf("indenting %d bytes into %d: %v allocations, want 1", len(data), len(got.Text), n)
		}
		// The one allocation is the text's own size (rounded up to its size class: under 1/8 more).
		const runs = 20
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			render.Of(e)
		}
		runtime.ReadMemStats(&after)
		if n, size := (after.TotalAlloc-before.TotalAlloc)/runs, uint64(len(got.Text)); n > size+size/8 {
			t.Errorf("indenting %d bytes into %d allocated %d bytes", len(data), size, n)
		}
	}
}
