package sink

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// Buffer is an io.Writer that goroutines (a server's log, a command's output) write while the
// test reads it; the zero value is empty. It is a Sink of the writes, so it locks as a Sink does.
type Buffer struct{ writes Sink[[]byte] }

// Write keeps a copy of p (a writer may reuse p once Write returns).
func (b *Buffer) Write(p []byte) (int, error) {
	return len(p), b.writes.Put(bytes.Clone(p))
}

// String returns what was written so far.
func (b *Buffer) String() string { return string(bytes.Join(b.writes.All(), nil)) }

// Take returns what was written since the last Take (or since the start) and empties the
// buffer, in one step, so no write falls between the read and the reset.
func (b *Buffer) Take() string { return string(bytes.Join(b.writes.Take(), nil)) }

// Lines decodes what was written so far as a JSON log (JSONLines).
func (b *Buffer) Lines(t testing.TB) []map[string]any {
	t.Helper()
	return JSONLines(t, b.String())
}

// TakeLines decodes what was written since the last Take or TakeLines as a JSON log.
func (b *Buffer) TakeLines(t testing.TB) []map[string]any {
	t.Helper()
	return JSONLines(t, b.Take())
}

// JSONLines decodes each non-empty line of s (a JSON log: what a Buffer holds) into a map, and
// fails t on a line that is not a JSON object.
func JSONLines(t testing.TB, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not a JSON object: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}
