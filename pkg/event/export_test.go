package event

// DecodeReference is Decode through encoding/json alone (decode.go's reference).
var DecodeReference = decodeReference

// DecodesFast reports whether Decode reads b without encoding/json.
func DecodesFast(b []byte) bool {
	_, _, ok := decodeWire(b)
	return ok
}
