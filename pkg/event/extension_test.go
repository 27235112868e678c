package event_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"hookline/pkg/event"
)

// TestCheckExtension: a sender's extension is a CloudEvents attribute name of 1-20
// characters from a-z and 0-9 (each end of both ranges, and the characters just outside
// them), not an attribute hookline writes, with a string, number or boolean value.
func TestCheckExtension(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, value string
		ok          bool
	}{
		{"a", `"x"`, true},
		{"z", `1`, true},
		{"0", `true`, true},
		{"9", `1.5`, true},
		{"comexampleabc012789", `"x"`, true},
		{strings.Repeat("a", 20), `"x"`, true},
		{strings.Repeat("a", 21), `"x"`, false},
		{"", `"x"`, false},
		{"`", `"x"`, false}, // just below 'a'
		{"{", `"x"`, false}, // just above 'z'
		{"/", `"x"`, false}, // just below '0'
		{":", `"x"`, false}, // just above '9'
		{"aB", `"x"`, false},
		{"a-b", `"x"`, false},
		{"ok", `{"a":1}`, false},
		{"ok", `[1]`, false},
		{"ok", `null`, false},
		{"ok", `nope`, false},
		{"source", `"x"`, false},
		{event.ExtSenderSource, `"x"`, false},
		{event.ExtDataRef, `"x"`, false},
	} {
		err := event.CheckExtension(tc.name, json.RawMessage(tc.value))
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, event.ErrInvalid)) {
			t.Errorf("CheckExtension(%q, %s) = %v, want ok %v (else ErrInvalid)", tc.name, tc.value, err, tc.ok)
		}
	}
}

// TestValidateChecksEveryExtension: an envelope is refused for its first bad extension, even
// after good ones, and the envelope's own sendersource passes the form check.
func TestValidateChecksEveryExtension(t *testing.T) {
	t.Parallel()
	e := newEvent(t, "application/json", []byte(`{"a":1}`))
	e.Extensions = []event.Extension{{Name: event.ExtSenderSource, Value: json.RawMessage(`"https://example.com/src"`)}, {Name: "good", Value: json.RawMessage(`1`)}}
	if err := e.Validate(); err != nil {
		t.Fatalf("good extensions: %v", err)
	}
	for _, bad := range []event.Extension{
		{Name: "Bad", Value: json.RawMessage(`1`)},
		{Name: "ok", Value: json.RawMessage(`{}`)},
		{Name: strings.Repeat("x", 21), Value: json.RawMessage(`1`)},
	} {
		e.Extensions = []event.Extension{{Name: "good", Value: json.RawMessage(`1`)}, bad}
		if err := e.Validate(); !errors.Is(err, event.ErrInvalid) {
			t.Errorf("a good extension, then %q = %s: Validate = %v, want ErrInvalid", bad.Name, bad.Value, err)
		}
		if _, err := event.Decode(e.Marshal()); !errors.Is(err, event.ErrInvalid) {
			t.Errorf("decoding an envelope with a good extension, then %q = %s: %v, want ErrInvalid", bad.Name, bad.Value, err)
		}
	}
}
