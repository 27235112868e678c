package event_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"hookline/pkg/event"
)

// TestStringEscapes: strings in the envelope are JSON strings any decoder reads back, safe to
// paste into HTML and JavaScript, with invalid UTF-8 replaced the way encoding/json does it.
func TestStringEscapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want, back string }{
		{`plain ~ text`, `"plain ~ text"`, `plain ~ text`},
		{"quote \" backslash \\", `"quote \" backslash \\"`, "quote \" backslash \\"},
		{"nl\n cr\r tab\t", `"nl\n cr\r tab\t"`, "nl\n cr\r tab\t"},
		{"nul\x00 unit\x1f space\x20 del\x7f", `"nul\u0000 unit\u001f space  del` + "\x7f" + `"`, "nul\x00 unit\x1f space  del\x7f"},
		{"<b> & </b>", `"\u003cb\u003e \u0026 \u003c/b\u003e"`, "<b> & </b>"},
		{"line\u2028para\u2029end", `"line\u2028para\u2029end"`, "line\u2028para\u2029end"},
		{"é and 漢", `"é and 漢"`, "é and 漢"},
		{"bad \x80 byte", `"bad \ufffd byte"`, "bad \ufffd byte"},
		{"cut \xe6\xbc", `"cut \ufffd\ufffd"`, "cut \ufffd\ufffd"},
		{"\xff", `"\ufffd"`, "\ufffd"},
	} {
		e := &event.Event{ID: "i", Source: "s", Type: "t", DeliveryID: tc.in, DataVersion: "v", Time: time.Unix(0, 0), ReceivedAt: time.Unix(0, 0)}
		b := e.Marshal()
		_, rest, ok := strings.Cut(string(b), `"deliveryid":`)
		got, _, _ := strings.Cut(rest, `,"`)
		if !ok || got != tc.want {
			t.Errorf("%q encoded as %s, want %s", tc.in, got, tc.want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil || back != tc.back {
			t.Errorf("%q decodes to %q (%v), want %q", tc.in, back, err, tc.back)
		}
		if want, _ := json.Marshal(tc.in); tc.in != "nul\x00 unit\x1f space\x20 del\x7f" && !strings.Contains(tc.in, "\u2028") && string(want) != got {
			t.Errorf("%q: encoding/json writes %s, we write %s", tc.in, want, got)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	valid := func() *event.Event {
		return &event.Event{ID: "i", Source: "s", Type: "t", Time: at, ReceivedAt: at, Data: []byte(`{}`)}
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("a valid event: %v", err)
	}
	for _, tc := range []struct {
		name   string
		break_ func(e *event.Event)
		want   string
	}{
		{"id", func(e *event.Event) { e.ID = "" }, "id is empty"},
		{"source", func(e *event.Event) { e.Source = "" }, "source is empty"},
		{"type", func(e *event.Event) { e.Type = "" }, "type is empty"},
		{"time", func(e *event.Event) { e.Time = time.Time{} }, "time is missing"},
		{"receivedat", func(e *event.Event) { e.ReceivedAt = time.Time{} }, "receivedat is missing"},
		{"both data", func(e *event.Event) { e.DataBase64 = []byte{1} }, "both data and data_base64 are set"},
		{"data not JSON", func(e *event.Event) { e.Data = []byte(`{`) }, "data is not a JSON value"},
	} {
		e := valid()
		tc.break_(e)
		err := e.Validate()
		if !errors.Is(err, event.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", tc.name, err, tc.want)
		}
		if _, rerr := event.NewRecord(e, at); !errors.Is(rerr, event.ErrInvalid) {
			t.Errorf("%s: NewRecord accepted an invalid event (%v)", tc.name, rerr)
		}
	}
	e := valid()
	e.Data, e.DataBase64 = nil, []byte{}
	if err := e.Validate(); err != nil {
		t.Errorf("empty data_base64 alone: %v", err)
	}
	// JSON with invalid UTF-8 in a string: json.Valid accepts it, so Validate does, although
	// its fast check (validJSON) refuses it.
	e = valid()
	e.Data = []byte("{\"a\":\"\xff\"}")
	if err := e.Validate(); err != nil {
		t.Errorf("data that json.Valid accepts (invalid UTF-8 in a string): %v", err)
	}
	r, err := event.NewRecord(valid(), at.In(time.FixedZone("x", 3600)))
	if err != nil || r.StoredAt.Location() != time.UTC || !r.StoredAt.Equal(at) || r.Status() != "stored" {
		t.Errorf("NewRecord = %+v, %v; want stored at %v in UTC", r, err, at)
	}
	r.NotifiedAt = at
	if r.Status() != "notified" {
		t.Errorf("Status after notify = %q", r.Status())
	}
}

// TestMediaTypes: the media type decides how a body travels, whatever its case and parameters.
func TestMediaTypes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ct       string
		body     string
		wantData string // "" = base64
	}{
		{"Application/json", `{"a":1}`, `{"a":1}`},
		{" APPLICATION/JSON ; charset=UTF-8", `{"a":1}`, `{"a":1}`},
		{"application/problem+JSON", `{"a":1}`, `{"a":1}`},
		{"Text/Plain", `hi`, `"hi"`},
		{"application/xml", `<a/>`, `"\u003ca/\u003e"`},
		{"application/atom+xml", `<a/>`, `"\u003ca/\u003e"`},
		{"application/x-www-form-urlencoded", `a=1`, `"a=1"`},
		{"application/pdf", `%PDF`, ``},
		{"image/png", `png`, ``},
		{"", `plain words`, `"plain words"`},
		{"; charset=utf-8", `only parameters`, `"only parameters"`},
		{"", "\xff\xfe", ``},
	} {
		e := &event.Event{}
		if err := e.SetData(tc.ct, []byte(tc.body)); err != nil {
			t.Errorf("%q: %v", tc.ct, err)
			continue
		}
		if string(e.Data) != tc.wantData || (tc.wantData == "") != (e.DataBase64 != nil) {
			t.Errorf("%q %q: data %s, base64 %q; want data %s", tc.ct, tc.body, e.Data, e.DataBase64, tc.wantData)
		}
		if got := string(e.Body()); got != tc.body {
			t.Errorf("%q: Body() = %q, want the bytes received %q", tc.ct, got, tc.body)
		}
	}
	// A JSON string sent as JSON comes back as JSON, quotes and all; one sent as text, unquoted.
	js := &event.Event{}
	_ = js.SetData("application/json", []byte(`"quoted"`))
	txt := &event.Event{}
	_ = txt.SetData("text/plain", []byte(`"quoted"`))
	if string(js.Body()) != `"quoted"` || string(txt.Body()) != `"quoted"` || string(txt.Data) != `"\"quoted\""` {
		t.Errorf("JSON string body: %s / text: %s (data %s)", js.Body(), txt.Body(), txt.Data)
	}
	if err := (&event.Event{}).SetData("Multipart/Mixed; boundary=b", []byte("--b")); !errors.Is(err, event.ErrUnsupportedMedia) {
		t.Errorf("Multipart/Mixed: %v", err)
	}
}

// Deriving an id allocates only the id string: the hash stays on the stack. (A delivery id
// over 32 bytes costs one more: DeliveryID's []byte conversion.)
func TestDeliveryIDAllocatesOnlyTheID(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = event.DeliveryID("github", "d-0123456789") }); n != 1 {
		t.Errorf("DeliveryID allocates %v times, want 1", n)
	}
}
