package event

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// maxJSONDepth is encoding/json's nesting limit: Valid refuses deeper values.
const maxJSONDepth = 10000

// strSafe marks the bytes a JSON string may hold without a closer look: not '"', '\\', a
// control character or the start of a multi-byte UTF-8 sequence.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// ValidJSON reports json.Valid(b) && utf8.Valid(b) in one pass over b, several times faster
// than json.Valid alone: for code that reads an envelope's data, such as pkg/render.
func ValidJSON(b []byte) bool { return validJSON(b) }

// validJSON reports json.Valid(b) && utf8.Valid(b) in one pass over b. A declared-JSON body
// passes both checks on every ingest; encoding/json's scanner calls a state function per
// byte and utf8.Valid reads the body a second time, which made validation half of ingest's
// time. Outside strings only ASCII is valid JSON, so UTF-8 is checked inside strings only.
// FuzzValidJSON holds it to encoding/json and unicode/utf8 on the same inputs.
func validJSON(b []byte) bool {
	var objects [maxJSONDepth/64 + 1]uint64 // bit d: the container at depth d is an object
	n, depth := len(b), 0
	i := skipWS(b, 0)
value:
	if i >= n {
		return false
	}
	switch c := b[i]; c {
	case '{', '[':
		if depth == maxJSONDepth {
			return false
		}
		if c == '{' {
			objects[depth/64] |= 1 << (depth % 64)
		} else {
			objects[depth/64] &^= 1 << (depth % 64)
		}
		depth++
		i = skipWS(b, i+1)
		if i < n && b[i] == c+2 { // '}' is '{'+2, ']' is '['+2
			depth--
			i++
			goto after
		}
		if c == '{' {
			goto key
		}
		goto value
	case '"':
		if i = scanValidString(b, i); i < 0 {
			return false
		}
	case 't':
		if !hasLiteral(b[i:], "true") {
			return false
		}
		i += 4
	case 'f':
		if !hasLiteral(b[i:], "false") {
			return false
		}
		i += 5
	case 'n':
		if !hasLiteral(b[i:], "null") {
			return false
		}
		i += 4
	default:
		if i = scanNumber(b, i); i < 0 {
			return false
		}
	}
after:
	i = skipWS(b, i)
	if depth == 0 {
		return i == n
	}
	if i >= n {
		return false
	}
	// After a value in a container: a ',' and the next key (object) or value (array), or the
	// container's own closer.
	switch d := depth - 1; b[i] {
	case ',':
		i = skipWS(b, i+1)
		if isObject(&objects, d) {
			goto key
		}
		goto value
	case '}':
		if !isObject(&objects, d) {
			return false
		}
	case ']':
		if isObject(&objects, d) {
			return false
		}
	default:
		return false
	}
	depth--
	i++
	goto after
key:
	if i >= n || b[i] != '"' {
		return false
	}
	if i = scanValidString(b, i); i < 0 {
		return false
	}
	if i = skipWS(b, i); i >= n || b[i] != ':' {
		return false
	}
	i = skipWS(b, i+1)
	goto value
}

// isObject reports whether validJSON's container at depth d (>= 0) is an object: bit d of
// objects. Unsigned, d/64 and d%64 are a shift and a mask.
func isObject(objects *[maxJSONDepth/64 + 1]uint64, d int) bool {
	return objects[uint(d)/64]&(1<<(uint(d)%64)) != 0
}

func hasLiteral(b []byte, lit string) bool {
	return len(b) >= len(lit) && string(b[:len(lit)]) == lit
}

// scanValidString takes b[i] == '"' and returns the index just past the closing quote, or -1
// when the string is malformed: a control character, a bad escape, invalid UTF-8, no end.
// Plain bytes (strSafe) are skipped a word at a time: bodies are mostly runs of them, and a
// byte at a time this loop was most of validJSON's time. One word first, which holds the end
// of most keys and short values, then two at a time for long runs. FuzzScanValidString holds
// it to scanValidStringBytes, the same scan a byte at a time.
func scanValidString(b []byte, i int) int {
	j := i + 1
	for {
		if j+8 <= len(b) {
			if m := notPlain(binary.LittleEndian.Uint64(b[j:])); m != 0 {
				j += bits.TrailingZeros64(m) / 8 // the first byte that is not plain
				goto special
			}
			j += 8
			for ; j+16 <= len(b); j += 16 {
				lo, hi := notPlain(binary.LittleEndian.Uint64(b[j:])), notPlain(binary.LittleEndian.Uint64(b[j+8:]))
				if lo != 0 {
					j += bits.TrailingZeros64(lo) / 8
					goto special
				}
				if hi != 0 {
					j += 8 + bits.TrailingZeros64(hi)/8
					goto special
				}
			}
		}
		for j < len(b) && strSafe[b[j]] { // the last few bytes of b
			j++
		}
	special:
		if j >= len(b) {
			return -1
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1
		case c == '\\':
			if j = scanEscape(b, j); j < 0 {
				return -1
			}
		case c < 0x20:
			return -1
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				return -1
			}
			j += size
		}
	}
}

// scanEscape takes b[j] == '\\' in a string and returns the index just past the escape, or -1
// when it is not one JSON allows.
func scanEscape(b []byte, j int) int {
	if j+1 >= len(b) {
		return -1
	}
	switch b[j+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return j + 2
	case 'u':
		if j+6 > len(b) || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
			return -1
		}
		return j + 6
	}
	return -1
}

// scanNumber returns the index just past the JSON number at b[i], or -1 when there is none:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) int {
	n := len(b)
	if i < n && b[i] == '-' {
		i++
	}
	switch {
	case i < n && b[i] == '0':
		i++
	case i < n && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return -1
	}
	if i < n && b[i] == '.' {
		if i+1 >= n || !isDigit(b[i+1]) {
			return -1
		}
		i = skipDigits(b, i+1)
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= n || !isDigit(b[i]) {
			return -1
		}
		i = skipDigits(b, i)
	}
	return i
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// nestedTooDeep reports whether b opens more than maxJSONDepth arrays and objects at once,
// outside strings: JSON (RFC 8259 lets a parser limit depth) that validJSON, like
// encoding/json, refuses for its depth alone when the rest is well formed. Only a refusal
// calls it, to say why.
func nestedTooDeep(b []byte) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			if depth++; depth > maxJSONDepth {
				return true
			}
		case '}', ']':
			depth--
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		}
	}
	return false
}

// Bytes repeated in each of a word's eight lanes, for notPlain.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// notPlain returns the bytes of w (little-endian lanes) that are not plain in a string
// (strSafe), each as its lane's high bit, exact from the lowest lane up to the first one set:
// a byte above 0x7f has its own high bit; of the others, x-0x20 sets it for one below 0x20, and
// x^'"'-1 and x^'\\'-1 for '"' and '\\'. A plain byte never borrows from the lane above it,
// so the lowest bit set is the first byte that is not plain (a borrow out of one that is not
// can set the bits of lanes above it: callers look no further than the first).
func notPlain(w uint64) uint64 {
	return (w | (w - 0x20*ones) | (w ^ '"'*ones - ones) | (w ^ '\\'*ones - ones)) & highs
}
