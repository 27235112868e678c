package email

import (
	"math"
	"runtime"
	"strings"
	"testing"
	"time"
)

// FuzzBuiltinEmail holds builtinEmail to what text/template renders of the built-in template
// for the same view: subject and body byte for byte, the body within the buffer sized for it.
func FuzzBuiltinEmail(f *testing.F) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 123e6, time.UTC).UnixNano()
	f.Add("ev1", "github", "push", "d-1", "v2", "application/json", "{\n  \"a\": 1\n}", 12, 10, true, at, at+1, at+2)
	f.Add("ev1", "github", "push", "", "", "", "", 0, 0, false, at, at, at)
	f.Add("", "", "", "", "", "text/plain", "x\n", -1, 1, false, int64(0), int64(-1), int64(1)<<62)
	f.Add("{{.ID}}", "a\nb", "t\r", "\x00", "ü", "%v", "…", 1, 2, true, at, at, at)
	f.Add("i", "s", "t", "d", "v", "c", "x", math.MinInt, math.MaxInt, true, at, at, at)
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
		if len(body) > builtinSize(&v) {
			t.Errorf("body is %d bytes, over the %d builtinSize gave its buffer", len(body), builtinSize(&v))
		}
	})
}

// TestBuiltinEmailAllocatesItsSize: the body's buffer is about the body's size (rounded up to
// a size class, under 1/8 more), not a kilobyte to spare per email; the subject is the rest.
func TestBuiltinEmailAllocatesItsSize(t *testing.T) {
	at := time.Date(2026, 12, 3, 3, 0, 0, 0, time.UTC)
	v := View{ID: "0b7c2f1e-7d42-4b8e-9d0a-3f6a1c5e2b90", Source: "github", Type: "push", DeliveryID: "d-1",
		ContentType: "application/json", Time: at, ReceivedAt: at, StoredAt: at,
		Data: "{\n  \"delivery\": \"d-1\",\n  \"pad\": \"" + strings.Repeat("x", 1000) + "\"\n}", Size: 1030, Shown: 1030}
	subject, body := builtinEmail(&v)
	const runs = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		builtinEmail(&v)
	}
	runtime.ReadMemStats(&after)
	if n, size := (after.TotalAlloc-before.TotalAlloc)/runs, uint64(len(body)+len(subject)); n > size+size/8 {
		t.Errorf("builtinEmail allocated %d bytes for a %d-byte body and a %d-byte subject", n, len(body), len(subject))
	}
}
