package event

import (
	"encoding/binary"
	"math/bits"
)

// topLevelString returns the value of key in the top-level JSON object body when that value is
// a string without escapes, without decoding the rest: GitHub's "action" costs no allocation and
// one pass over a body of any size. ok is false when the body is not an object, the key is
// absent, its value is not a plain string, or the JSON is malformed before the key.
func TopLevelString(body []byte, key string) (value []byte, ok bool) {
	i := skipWS(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipWS(body, i)
		if i >= len(body) || body[i] != '"' {
			return nil, false // '}' (no more keys) or malformed
		}
		kStart := i + 1
		kEnd, plain := scanString(body, i)
		if kEnd < 0 {
			return nil, false
		}
		i = skipWS(body, kEnd+1)
		if i >= len(body) || body[i] != ':' {
			return nil, false
		}
		i = skipWS(body, i+1)
		if plain && string(body[kStart:kEnd]) == key {
			if i < len(body) && body[i] == '"' {
				end, plainValue := scanString(body, i)
				if end >= 0 && plainValue {
					return body[i+1 : end], true
				}
			}
			return nil, false
		}
		if i = skipValue(body, i); i < 0 {
			return nil, false
		}
		i = skipWS(body, i)
		if i >= len(body) || body[i] != ',' {
			return nil, false
		}
		i++
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString takes b[i] == '"' and returns the index of the closing quote (-1 when there is
// none) and whether the string has no escapes. It looks for '"' and '\\' a word at a time
// (quoteOrBackslash): decodeWire skips every envelope's data this way, twice per event.
// FuzzScanString holds it to scanStringBytes, the same scan a byte at a time.
func scanString(b []byte, i int) (end int, plain bool) {
	plain = true
	j := i + 1
	for {
		for ; j+8 <= len(b); j += 8 {
			if m := quoteOrBackslash(binary.LittleEndian.Uint64(b[j:])); m != 0 {
				j += bits.TrailingZeros64(m) / 8
				break
			}
		}
		for j < len(b) && b[j] != '"' && b[j] != '\\' { // the last few bytes of b
			j++
		}
		if j >= len(b) {
			return -1, false
		}
		if b[j] == '"' {
			return j, plain
		}
		plain = false
		j += 2 // the backslash and the byte it escapes
	}
}

// quoteOrBackslash marks the '"' and '\\' bytes of w (little-endian lanes) by their lanes'
// high bits, exact up to the lowest mark (see notPlain): x-ones&^x marks the zero lanes of x.
func quoteOrBackslash(w uint64) uint64 {
	q, bs := w^('"'*ones), w^('\\'*ones)
	return ((q-ones)&^q | (bs-ones)&^bs) & highs
}

// skipValue returns the index just past the JSON value starting at b[i], -1 when malformed.
// Nested values are skipped by bracket depth, strings by their quotes; the scalars are not
// validated (encoding/json does that later, for the whole body).
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := scanString(b, i)
		if end < 0 {
			return -1
		}
		return end + 1
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := scanString(b, j)
				if end < 0 {
					return -1
				}
				j = end
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// eachTopLevel calls fn with every key (raw, without quotes) and raw value of the top-level
// JSON object b, in order; false when b is not a well-formed object at the top level.
func eachTopLevel(b []byte, fn func(key, value []byte)) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		kEnd, _ := scanString(b, i)
		if kEnd < 0 {
			return false
		}
		key := b[i+1 : kEnd]
		i = skipWS(b, kEnd+1)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
		end := skipValue(b, i)
		if end < 0 {
			return false
		}
		fn(key, b[i:end])
		i = skipWS(b, end)
		if i < len(b) && b[i] == '}' {
			return true
		}
		if i >= len(b) || b[i] != ',' {
			return false
		}
		i = skipWS(b, i+1)
	}
}
