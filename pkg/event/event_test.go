package event_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"

	"hookline/pkg/event"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)

func newEvent(t *testing.T, ct string, body []byte) *event.Event {
	t.Helper()
	e := &event.Event{
		ID: event.DeliveryID("github", "d-1"), Source: "github", Type: "push",
		Time: t0, ReceivedAt: t0, DeliveryID: "d-1",
	}
	if err := e.SetData(ct, body); err != nil {
		t.Fatalf("SetData(%q): %v", ct, err)
	}
	return e
}

func TestSetDataKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ct    string
		body        []byte
		wantData    string // JSON value in "data"
		wantB64     bool
		wantCT      string
		wantBodyOut string
	}{
		{"json kept byte for byte", "application/json", []byte(`{ "b":1,  "a" : [1.0e0] }`), `{ "b":1,  "a" : [1.0e0] }`, false, "application/json", `{ "b":1,  "a" : [1.0e0] }`},
		{"json without content type", "", []byte(`{"a":1}`), `{"a":1}`, false, "application/json", `{"a":1}`},
		{"vendor json", "application/vnd.github+json; charset=utf-8", []byte(`[1]`), `[1]`, false, "application/vnd.github+json; charset=utf-8", `[1]`},
		{"plain text from postman", "text/plain", []byte("A new message has been published"), `"A new message has been published"`, false, "text/plain", "A new message has been published"},
		{"text without content type", "", []byte("héllo <b>\n"), `"héllo \u003cb\u003e\n"`, false, "text/plain; charset=utf-8", "héllo <b>\n"},
		{"form body is text", "application/x-www-form-urlencoded", []byte("payload=%7B%7D"), `"payload=%7B%7D"`, false, "application/x-www-form-urlencoded", "payload=%7B%7D"},
		{"binary", "application/octet-stream", []byte{0xff, 0x00, 0x01}, "", true, "application/octet-stream", "\xff\x00\x01"},
		{"invalid utf-8 text is binary", "text/plain", []byte{'a', 0xff}, "", true, "text/plain", "a\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEvent(t, tt.ct, tt.body)
			if got := string(e.Data); got != tt.wantData {
				t.Errorf("Data = %s, want %s", got, tt.wantData)
			}
			if (e.DataBase64 != nil) != tt.wantB64 {
				t.Errorf("DataBase64 set = %v, want %v", e.DataBase64 != nil, tt.wantB64)
			}
			if e.DataContentType != tt.wantCT {
				t.Errorf("DataContentType = %q, want %q", e.DataContentType, tt.wantCT)
			}
			back, err := event.Decode(e.Marshal())
			if err != nil {
				t.Fatalf("Decode(Marshal()): %v", err)
			}
			if got := string(back.Body()); got != tt.wantBodyOut {
				t.Errorf("round-trip Body() = %q, want %q", got, tt.wantBodyOut)
			}
		})
	}
}

func TestSetDataErrors(t *testing.T) {
	t.Parallel()
	e := &event.Event{}
	if err := e.SetData("application/json", []byte(`{"a":`)); !errors.Is(err, event.ErrInvalidJSON) {
		t.Errorf("truncated JSON: err = %v, want ErrInvalidJSON", err)
	}
	// Nested past the depth limit: valid JSON (RFC 8259 lets a parser limit depth), so the
	// refusal says what is wrong with it rather than "not valid JSON".
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	for _, body := range []string{deep, `{"a":` + deep + `}`, strings.Repeat(`{"a":`, 10_001) + "1" + strings.Repeat("}", 10_001)} {
		err := e.SetData("application/json", []byte(body))
		if !errors.Is(err, event.ErrInvalidJSON) || err.Error() != "body is JSON nested more than 10000 levels deep; at most 10000 are taken" {
			t.Errorf("%.20s… nested too deep: err = %v, want an ErrInvalidJSON that says so", body, err)
		}
	}
	for _, body := range []string{strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000), `["` + strings.Repeat("[", 20_000) + `"]`} {
		if err := e.SetData("application/json", []byte(body)); err != nil {
			t.Errorf("%.20s…: %v, want it taken", body, err)
		}
	}
	if err := e.SetData("application/json", []byte(`["\"`+strings.Repeat("[", 20_000)+`]`)); err == nil || strings.Contains(err.Error(), "deep") {
		t.Errorf("malformed, brackets inside a string: %v, want not valid JSON", err)
	}
	if err := e.SetData("multipart/form-data; boundary=x", []byte("--x")); !errors.Is(err, event.ErrUnsupportedMedia) {
		t.Errorf("multipart: err = %v, want ErrUnsupportedMedia", err)
	}
	if err := e.SetData("text/plain", nil); err != nil || e.Data != nil || e.DataBase64 != nil {
		t.Errorf("empty body: err = %v, data = %q, b64 = %q; want no data", err, e.Data, e.DataBase64)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEvent(t, "application/json", []byte(`{"zen":"Keep it logically awesome."}`))
	e.DataVersion = "2024-01-01"
	e.Time = t0.Add(-time.Second)
	got, err := event.Decode(e.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	good := string(newEvent(t, "application/json", []byte(`{}`)).Marshal())
	tests := map[string]string{
		"not json":         `nope`,
		"trailing":         good + `{}`,
		"wrong spec":       strings.Replace(good, `"1.0"`, `"0.3"`, 1),
		"no id":            strings.Replace(good, `"id":"`, `"id":"","x":"`, 1),
		"bad time":         strings.Replace(good, `"time":"2026`, `"time":"x2026`, 1),
		"bad base64":       `{"specversion":"1.0","id":"a","source":"s","type":"t","time":"2026-01-01T00:00:00Z","receivedat":"2026-01-01T00:00:00Z","data_base64":"!!"}`,
		"both data kinds":  `{"specversion":"1.0","id":"a","source":"s","type":"t","time":"2026-01-01T00:00:00Z","receivedat":"2026-01-01T00:00:00Z","data":1,"data_base64":"AA=="}`,
		"no receivedat":    `{"specversion":"1.0","id":"a","source":"s","type":"t","time":"2026-01-01T00:00:00Z"}`,
		"empty type field": `{"specversion":"1.0","id":"a","source":"s","type":"","time":"2026-01-01T00:00:00Z","receivedat":"2026-01-01T00:00:00Z"}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := event.Decode([]byte(in)); !errors.Is(err, event.ErrInvalid) {
				t.Errorf("Decode(%s) err = %v, want ErrInvalid", in, err)
			}
		})
	}
}

// TestAcceptedByCloudEventsSDK proves the envelope is valid CloudEvents 1.0 for a peer we did
// not write, and that the peer reads the same attributes and data back.
func TestAcceptedByCloudEventsSDK(t *testing.T) {
	t.Parallel()
	bodies := []struct{ ct, body string }{
		{"application/json", `{"action":"opened","number":1}`},
		{"text/plain", "A new message has been published"},
		{"application/octet-stream", "\x00\x01binary"},
	}
	for _, b := range bodies {
		t.Run(b.ct, func(t *testing.T) {
			t.Parallel()
			e := newEvent(t, b.ct, []byte(b.body))
			var peer ce.Event
			if err := json.Unmarshal(e.Marshal(), &peer); err != nil {
				t.Fatalf("sdk-go unmarshal: %v\n%s", err, e.Marshal())
			}
			if err := peer.Validate(); err != nil {
				t.Fatalf("sdk-go Validate: %v", err)
			}
			if peer.ID() != e.ID || peer.Source() != e.Source || peer.Type() != e.Type || !peer.Time().Equal(e.Time) {
				t.Errorf("sdk-go read id=%q source=%q type=%q time=%v", peer.ID(), peer.Source(), peer.Type(), peer.Time())
			}
			if got := peer.Extensions()["deliveryid"]; got != "d-1" {
				t.Errorf("deliveryid extension = %v, want d-1", got)
			}
			want := []byte(b.body)
			got := peer.Data() // for text data the SDK unquotes the JSON string: the text itself
			if !bytes.Equal(got, want) {
				t.Errorf("sdk-go data = %q, want %q", got, want)
			}
		})
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	a := event.DeliveryID("github", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	if a != event.DeliveryID("github", "72d3162e-cc78-11e3-81ab-4c9367dc0958") {
		t.Error("DeliveryID is not deterministic")
	}
	if a == event.DeliveryID("stripe", "72d3162e-cc78-11e3-81ab-4c9367dc0958") {
		t.Error("same delivery id on two sources must give two ids")
	}
	if event.BodyID("github", []byte("x")) == event.DeliveryID("github", "x") {
		t.Error("body and delivery ids must not collide")
	}
	if !event.ValidID(a) || a[14] != '5' {
		t.Errorf("DeliveryID %q is not a canonical v5 UUID", a)
	}
	n1, err := event.NewID()
	if err != nil {
		t.Fatal(err)
	}
	n2, _ := event.NewID()
	if n1 == n2 || !event.ValidID(n1) || n1[14] != '7' {
		t.Errorf("NewID gave %q, %q; want distinct v7 UUIDs", n1, n2)
	}
	for _, bad := range []string{"", "x", strings.ToUpper(a), a + "0"} {
		if event.ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

// FuzzDecode: Decode gives encoding/json's answer on every input (the same event or the
// same error), and what decodes survives its own encoding unchanged.
func FuzzDecode(f *testing.F) {
	e := &event.Event{ID: "a", Source: "s", Type: "t", Time: t0, ReceivedAt: t0}
	_ = e.SetData("application/json", []byte(`{"k":[1,2]}`))
	f.Add(e.Marshal())
	f.Add([]byte(`{"specversion":"1.0"}`))
	for _, b := range envelopes(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsReference(t, b)
		got, err := event.Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes must survive our own encoding unchanged.
		again, err := event.Decode(got.Marshal())
		if err != nil {
			t.Fatalf("re-decode of %s: %v", got.Marshal(), err)
		}
		if !bytes.Equal(again.Marshal(), got.Marshal()) {
			t.Fatalf("not stable:\n%s\n%s", got.Marshal(), again.Marshal())
		}
	})
}

func FuzzSetData(f *testing.F) {
	f.Add("application/json", []byte(`{"a":1}`))
	f.Add("text/plain", []byte("hi\x00\u2028"))
	f.Add("", []byte{0xff})
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		e := &event.Event{ID: "a", Source: "s", Type: "t", Time: t0, ReceivedAt: t0}
		if err := e.SetData(ct, body); err != nil {
			return
		}
		back, err := event.Decode(e.Marshal())
		if err != nil {
			t.Fatalf("Decode(Marshal()) of %q/%q: %v\n%s", ct, body, err, e.Marshal())
		}
		want := body
		if trimmed := bytes.Trim(body, " \t\r\n"); e.Data != nil && bytes.Equal(e.Data, trimmed) {
			want = trimmed // a JSON body: the value is kept, the white space around it is not
		}
		if !bytes.Equal(back.Body(), want) && len(body) > 0 {
			t.Fatalf("body %q came back as %q", body, back.Body())
		}
	})
}

// TestIDStableAcrossHashPaths pins derived ids, of short and long names alike: each must be the
// RFC 9562 v5 UUID of its name (want values from Python's
// hashlib and uuid.UUID(bytes=sha1(namespace+name)[:16], version=5), code we did not write).
// A body id is the v5 UUID of the body's SHA-256.
func TestIDStableAcrossHashPaths(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("b", 600)
	for _, tc := range []struct{ got, want string }{
		{event.DeliveryID("github", "72d3162e-cc78-11e3-81ab-4c9367dc0958"), "9973001d-73c4-5d2f-be5e-6575b6058bff"},
		{event.DeliveryID("github", strings.Repeat("d", 600)), "dc5b2bdc-2e2e-521e-af16-44b33075c7eb"},
		{event.BodyID("github", []byte(long)), "9cab7abc-8294-584b-8c93-3384838653f7"},
		{event.BodyHashID("github", sha256.Sum256([]byte(long))), "9cab7abc-8294-584b-8c93-3384838653f7"},
	} {
		if tc.got != tc.want {
			t.Errorf("id = %s, want %s", tc.got, tc.want)
		}
	}
}
