package event

import (
	"math"
	"testing"
	"time"
)

// TestMarshalSizeHint: Marshal allocates its buffer once, from sizeHint, which is the encoded
// length of the widest event of a shape when nothing needs escaping. The only bytes it reserves
// and never uses: 5 per time (written in UTC, "Z" where the layout allows "-07:00") and, for
// JSON data, the 9 by which `,"data":` is shorter than `,"data_base64":""`, and without data (a
// claim check) all of `,"data_base64":""`. A dataref and each extension are counted exactly.
func TestMarshalSizeHint(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.FixedZone("IST", 5*3600+30*60))
	wide := func() *Event {
		return &Event{
			ID: "0190b4c2-0000-7000-8000-000000000001", Source: "a-source", Type: "issues.opened",
			Time: at, ReceivedAt: at, DeliveryID: "delivery-7", DataVersion: "2024-01-01", DataContentType: "application/vnd.a+json",
			Verification: Verification{Scheme: "standard-webhooks", Key: math.MinInt64, SkewMS: math.MinInt64, HasSkew: true},
		}
	}
	b64 := wide()
	b64.DataBase64 = []byte("some bytes\x00\xff")
	data := wide()
	data.Data = []byte(`{"action":"opened","number":1347}`)
	exts := wide()
	exts.DataBase64 = []byte("some bytes")
	exts.Extensions = []Extension{{Name: "tenant", Value: []byte(`"acme"`)}, {Name: "seq", Value: []byte(`42`)}}
	ref := wide()
	ref.DataRef = "blob:0190b4c2-0000-7000-8000-000000000001"
	bare := &Event{ID: "i", Source: "s", Type: "t", Time: at, ReceivedAt: at}
	for _, tc := range []struct {
		name   string
		e      *Event
		unused int
	}{
		{"base64 data", b64, 2 * 5},
		{"JSON data", data, 2*5 + 9},
		{"extensions", exts, 2 * 5},
		{"claim check", ref, 2*5 + len(`,"data_base64":""`)},
	} {
		b := tc.e.Marshal()
		if hint := tc.e.sizeHint(); hint-len(b) != tc.unused || cap(b) != hint {
			t.Errorf("%s: %d bytes encoded, hint %d, cap %d; want the hint %d over and the buffer never grown", tc.name, len(b), hint, cap(b), tc.unused)
		}
	}
	// A bare event reserves room for every optional field, and still fits without growing.
	if b := bare.Marshal(); cap(b) != bare.sizeHint() || len(b) > cap(b) {
		t.Errorf("bare event: %d bytes in a buffer of %d, hint %d", len(b), cap(b), bare.sizeHint())
	}
}
