// Package render decides how a person reads an event's data, by its media type, once for every
// place that shows it: `hookline events get` (pkg/historycli), the web view (pkg/webui) and the
// completion email (pkg/email). JSON is indented, a text body is shown as the sender wrote it,
// and binary data is handed over as bytes for each medium to show its own way (base64, a hex
// dump, a note).
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"hookline/pkg/event"
)

// Kind is how a payload reads.
type Kind string

// The kinds of payload.
const (
	None   Kind = "none"   // the event carried no data
	JSON   Kind = "json"   // Text is the JSON, indented by two spaces
	Text   Kind = "text"   // Text is the text as the sender wrote it
	Binary Kind = "binary" // Bytes holds the data; there is no Text
)

// Data is an event's payload made readable.
type Data struct {
	Kind  Kind
	Text  string
	Bytes []byte // Binary only
	Size  int    // bytes the sender sent
}

// Of renders e's data.
func Of(e *event.Event) Data {
	switch {
	case e.DataBase64 != nil:
		return Data{Kind: Binary, Bytes: e.DataBase64, Size: len(e.DataBase64)}
	case len(e.Data) == 0:
		return Data{Kind: None}
	}
	// Body differs from Data exactly when the envelope holds a text body as a JSON string.
	if body := e.Body(); !bytes.Equal(body, e.Data) {
		return Data{Kind: Text, Text: string(body), Size: len(body)}
	}
	if event.ValidJSON(e.Data) {
		return Data{Kind: JSON, Text: indent(e.Data), Size: len(e.Data)}
	}
	// Not UTF-8 (json.Valid lets that pass), or not JSON at all.
	var buf bytes.Buffer
	if err := json.Indent(&buf, e.Data, "", "  "); err != nil {
		return Data{Kind: Text, Text: string(e.Data), Size: len(e.Data)}
	}
	return Data{Kind: JSON, Text: buf.String(), Size: len(e.Data)}
}

// indent is json.Indent(dst, src, "", "  ") for src that event.ValidJSON accepts. json.Indent
// checks src and then runs encoding/json's scanner, a call per byte, over it again; every
// completion email indents its event's data, and that was most of composing one. Knowing src
// valid, only strings need reading: punctuation outside them is spaced, white space dropped,
// except after the top-level value, which json.Indent keeps. FuzzIndent holds it to json.Indent.
func indent(src []byte) string {
	var b strings.Builder
	// One allocation of the exact size: 2*len(src) was twice the size for compact data with
	// long values (~1 KB wasted per email of a 1 KiB body) and too little for nested data with
	// many short keys (a second allocation and a copy).
	b.Grow(indentedLen(src))
	(&indenter{b: &b}).run(src)
	return b.String()
}

// indentedLen is len(indent(src)): the same walk, counting instead of writing.
func indentedLen(src []byte) int {
	w := indenter{}
	w.run(src)
	return w.n
}

// indenter walks src as indent does; it counts what it would write in n, and writes it to b
// unless b is nil, so the size and the text come from one piece of code.
type indenter struct {
	b     *strings.Builder
	n     int
	depth int
}

func (w *indenter) write(p []byte) {
	w.n += len(p)
	if w.b != nil {
		w.b.Write(p)
	}
}

func (w *indenter) writeByte(c byte) {
	w.n++
	if w.b != nil {
		w.b.WriteByte(c)
	}
}

func (w *indenter) newline() {
	w.writeByte('\n')
	for range w.depth {
		w.write(twoSpaces)
	}
}

var twoSpaces = []byte("  ")

func (w *indenter) run(src []byte) {
	open, started := false, false // open: a '{' or '[' just written, its indent delayed
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			if started && w.depth == 0 && !open {
				w.write(src[i:]) // after the top-level value: kept as it is
				return
			}
			continue
		}
		started = true
		if open && c != '}' && c != ']' {
			open = false
			w.depth++
			w.newline()
		}
		switch c {
		case '"':
			j := i + 1
			for src[j] != '"' {
				if src[j] == '\\' {
					j++ // the escaped byte; a \u escape's hex digits are plain bytes
				}
				j++
			}
			w.write(src[i : j+1])
			i = j
		case '{', '[':
			open = true
			w.writeByte(c)
		case ',':
			w.writeByte(c)
			w.newline()
		case ':':
			w.writeByte(':')
			w.writeByte(' ')
		case '}', ']':
			if open {
				open = false // empty: {} and []
			} else {
				w.depth--
				w.newline()
			}
			w.writeByte(c)
		default:
			w.writeByte(c)
		}
	}
}

// Cut shortens s to at most max bytes without splitting a UTF-8 character, and reports
// whether it cut anything.
func Cut(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}

// Terminal makes s safe to print on a terminal. Every control character is shown escaped as Go
// writes it (\x1b, \a, \u009b), and every byte that is not UTF-8 as \xNN: an escape sequence
// that a sender put in a body, a header or a URL (refused requests are kept too, unsigned)
// would otherwise retitle the operator's window, clear the screen or overwrite what was
// printed. With multiline, line breaks ("\n", "\r\n") and tabs stay, for a body read as text;
// without, they are escaped too, so a table cell stays one cell on one line.
func Terminal(s string, multiline bool) string {
	for i := 0; i < len(s); {
		n, escape := escapeAt(s, i, multiline)
		if escape {
			return escapeFrom(s, i, multiline)
		}
		i += n
	}
	return s
}

func escapeFrom(s string, i int, multiline bool) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		n, escape := escapeAt(s, i, multiline)
		switch {
		case !escape:
			b.WriteString(s[i : i+n])
		case n == 1 && s[i] >= utf8.RuneSelf: // a byte that is not UTF-8
			fmt.Fprintf(&b, `\x%02x`, s[i])
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// escapeAt returns the length of the character at s[i] and whether Terminal escapes it.
func escapeAt(s string, i int, multiline bool) (n int, escape bool) {
	r, n := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError && n == 1:
		return n, true
	case !unicode.IsControl(r):
		return n, false
	case multiline && (r == '\n' || r == '\t'):
		return n, false
	case multiline && r == '\r':
		return n, !strings.HasPrefix(s[i+1:], "\n")
	}
	return n, true
}
