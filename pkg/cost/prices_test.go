package cost

import (
	"strings"
	"testing"
)

// TestDecodePricesRefusesAnIncompleteList: a misspelt item or field, an item left out, and a
// second value after the list are each refused, naming what is wrong; the checked-in list
// decodes (Prices).
func TestDecodePricesRefusesAnIncompleteList(t *testing.T) {
	if _, err := decodePrices(pricesJSON); err != nil {
		t.Fatalf("prices.json: %v", err)
	}
	full := string(pricesJSON)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"misspelt item", strings.Replace(full, `"XRayTrace"`, `"XRayTraces"`, 1), `unknown field "XRayTraces"`},
		{"misspelt field", strings.Replace(full, `"Unit"`, `"Units"`, 1), `unknown field "Units"`},
		{"item left out", `{"HTTPAPIRequest":{"USD":1,"Per":1,"Unit":"u","Source":"s"}}`, "RESTAPIRequest needs"},
		{"no source", strings.Replace(full, `"Source": "https://aws.amazon.com/de/xray/pricing/"`, `"Source": ""`, 1), "XRayTrace needs"},
		{"two values", full + "{}", "more than one JSON value"},
	} {
		if _, err := decodePrices([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: decodePrices = %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}
