package lambdaio

import "testing"

// TestHasUpper: only A to Z make lowerHeaders copy the names; punctuation, digits and
// lower-case letters on either side of them in ASCII do not.
func TestHasUpper(t *testing.T) {
	for s, want := range map[string]bool{"content-type": false, "x-hub-signature-256": false, "@[`{": false, "": false,
		"Content-Type": true, "a-Z": true, "A": true} {
		if got := hasUpper(s); got != want {
			t.Errorf("hasUpper(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestTooLargeBoundary: an answer fits while its length, 1 KiB for the response's own JSON and
// one more byte per quote or backslash (escaped again in Lambda's response) stay within the
// limit; one byte more does not.
func TestTooLargeBoundary(t *testing.T) {
	b := []byte(`{"k":"v\\"}`) // 11 bytes, 4 quotes and 2 backslashes: 11 + 1024 + 6
	const fits = 11 + 1024 + 6
	if len(b) != 11 {
		t.Fatalf("test body is %d bytes", len(b))
	}
	for limit, want := range map[int]bool{fits: false, fits - 1: true, fits + 1: false} {
		if got := (&HistoryHandler{MaxResponse: limit}).tooLarge(b); got != want {
			t.Errorf("limit %d: tooLarge = %v, want %v", limit, got, want)
		}
	}
	if (&HistoryHandler{}).tooLarge(b) {
		t.Error("with no MaxResponse the limit is Lambda's payload limit, not 0")
	}
}
