package ddbhistory

import (
	"testing"
	"time"

	"hookline/pkg/ddbjson"
	"hookline/pkg/pipeline"
)

// FuzzDecodeCursor: a cursor is client input. Whatever it is, decoding never panics, rejects
// with KindInvalid, or yields a position that encodes back to a cursor decoding the same.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor(ddbjson.ReceivedKey(time.Date(2026, 11, 23, 10, 0, 0, 1, time.UTC), "9973001d-73c4-5d2f-be5e-6575b6058bff")))
	f.Add("")
	f.Add("eyJiZWZvcmUiOiIifQ")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		key, err := decodeCursor(s)
		if err != nil {
			if pipeline.KindOf(err) != pipeline.KindInvalid {
				t.Fatalf("decodeCursor(%q) error %v is not KindInvalid", s, err)
			}
			return
		}
		again, err := decodeCursor(EncodeCursor(key))
		if err != nil || again != key {
			t.Fatalf("position %q does not survive encode/decode: %q, %v", key, again, err)
		}
	})
}
