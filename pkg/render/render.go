// Package render decides how a person reads an event's data, by its media type, once for every
// place that shows it: `hookline events get` (pkg/historycli), the web view (pkg/webui) and the
// completion email (pkg/email). JSON is indented, a text body is shown as the sender wrote it,
// and binary data is handed over as bytes for each medium to show its own way (base64, a hex
// dump, a note).
package render

import (
	"bytes"
	"encoding/json"
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
	var buf bytes.Buffer
	if err := json.Indent(&buf, e.Data, "", "  "); err != nil {
		return Data{Kind: Text, Text: string(e.Data), Size: len(e.Data)}
	}
	return Data{Kind: JSON, Text: buf.String(), Size: len(e.Data)}
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
