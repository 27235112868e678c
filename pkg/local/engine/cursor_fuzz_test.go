package engine

import (
	"encoding/base64"
	"testing"
	"time"

	"hookline/pkg/ddbitem"
	"hookline/pkg/pipeline"
)

// FuzzDecodeCursor: a cursor is client input. Whatever it is, decoding never panics, rejects
// with KindInvalid, or yields a position in the received_key format.
func FuzzDecodeCursor(f *testing.F) {
	key := ddbitem.ReceivedKey(time.Date(2026, 11, 23, 10, 0, 0, 1, time.UTC), "9973001d-73c4-5d2f-be5e-6575b6058bff")
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(key)))
	f.Add("")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := decodeCursor(s)
		if err != nil {
			if pipeline.KindOf(err) != pipeline.KindInvalid {
				t.Fatalf("decodeCursor(%q) error %v is not KindInvalid", s, err)
			}
			return
		}
		if _, _, err := ddbitem.ParseReceivedKey(k); err != nil {
			t.Fatalf("decodeCursor(%q) = %q, not a received key: %v", s, k, err)
		}
	})
}
