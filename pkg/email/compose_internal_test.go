package email

import (
	"strings"
	"testing"
	"time"
)

// FuzzBuiltinEmail holds builtinEmail to what text/template renders of the built-in template
// for the same view: subject and body byte for byte.
func FuzzBuiltinEmail(f *testing.F) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 123e6, time.UTC).UnixNano()
	f.Add("ev1", "github", "push", "d-1", "v2", "application/json", "{\n  \"a\": 1\n}", 12, 10, true, at, at+1, at+2)
	f.Add("ev1", "github", "push", "", "", "", "", 0, 0, false, at, at, at)
	f.Add("", "", "", "", "", "text/plain", "x\n", -1, 1, false, int64(0), int64(-1), int64(1)<<62)
	f.Add("{{.ID}}", "a\nb", "t\r", "\x00", "ü", "%v", "…", 1, 2, true, at, at, at)
	c, err := NewComposer("", 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, source, typ, delivery, version, contentType, data string, size, shown int, truncated bool, sent, received, stored int64) {
		v := View{ID: id, Source: source, Type: typ, DeliveryID: delivery, Version: version, ContentType: contentType,
			Time: time.Unix(0, sent).UTC(), ReceivedAt: time.Unix(0, received).UTC(), StoredAt: time.Unix(0, stored).UTC(),
			Data: data, Size: size, Shown: shown, Truncated: truncated}
		var wantSubject, wantBody strings.Builder
		if err := c.builtin.ExecuteTemplate(&wantSubject, "subject", v); err != nil {
			t.Fatal(err)
		}
		if err := c.builtin.ExecuteTemplate(&wantBody, "body", v); err != nil {
			t.Fatal(err)
		}
		subject, body := builtinEmail(&v)
		if subject != wantSubject.String() {
			t.Errorf("subject %q, the template's %q", subject, wantSubject.String())
		}
		if body != wantBody.String() {
			t.Errorf("body differs from the template's:\n got %q\nwant %q", body, wantBody.String())
		}
	})
}
