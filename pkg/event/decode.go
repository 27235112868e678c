package event

import (
	"strconv"
)

// decodeWire fills w from an envelope of the usual form without encoding/json, which took a
// tenth of the local pipeline's CPU (the subscriber and the notifier each decode every
// envelope): one validJSON pass over the whole input, then one walk over its top-level
// attributes. ok is false for every input outside that form — not valid JSON and UTF-8, not
// an object, a known attribute twice, spelled with escapes or other letter case, a string
// with escapes, a null, a number that is not a plain integer, a value of another type than
// the wire struct's field — and Decode hands those to encoding/json, whose answer is the
// reference: FuzzDecode holds the two to the same result on every input.
//
// On ok the extensions are the top-level attributes wire does not read, as eachTopLevel
// would find them, and w.Data is a copy, as encoding/json's json.RawMessage is.
func decodeWire(b []byte) (w wire, exts []Extension, ok bool) {
	if !validJSON(b) {
		return wire{}, nil, false
	}
	i := skipWS(b, 0)
	if b[i] != '{' {
		return wire{}, nil, false
	}
	var seen uint32
	i = skipWS(b, i+1)
	if b[i] == '}' {
		return w, nil, true
	}
	for {
		// validJSON vouched for the syntax: a key, a colon, a value, then ',' or '}'.
		kEnd, plain := scanString(b, i)
		key := b[i+1 : kEnd]
		i = skipWS(b, kEnd+1) // at ':'
		i = skipWS(b, i+1)
		end := skipValue(b, i)
		v := b[i:end]
		if !plain || !lowerASCII(key) {
			// encoding/json matches names after unescaping and without regard to case.
			return wire{}, nil, false
		}
		if f, known := wireFields[string(key)]; known {
			if seen&(1<<f) != 0 {
				return wire{}, nil, false // encoding/json keeps the last; rare enough to leave to it
			}
			seen |= 1 << f
			if !w.set(f, v) {
				return wire{}, nil, false
			}
		} else {
			exts = append(exts, Extension{Name: string(key), Value: append([]byte(nil), v...)})
		}
		i = skipWS(b, end)
		if b[i] == '}' {
			return w, exts, true
		}
		i = skipWS(b, i+1)
	}
}

// lowerASCII reports whether name holds no upper-case letter and no byte outside ASCII, the
// names no other spelling of a wire attribute can fold to.
func lowerASCII(name []byte) bool {
	for _, c := range name {
		if c >= 0x80 || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

// The wire struct's attributes, by the bit decodeWire marks them with.
const (
	fSpecVersion = iota
	fID
	fSource
	fType
	fTime
	fReceivedAt
	fDeliveryID
	fDataVersion
	fVerifyScheme
	fVerifyKey
	fVerifySkewMS
	fVerifyBody
	fVerifySignedID
	fDataContentType
	fDataRef
	fData
	fDataBase64
)

var wireFields = map[string]int{
	"specversion": fSpecVersion, "id": fID, "source": fSource, "type": fType, "time": fTime,
	"receivedat": fReceivedAt, "deliveryid": fDeliveryID, "dataversion": fDataVersion,
	ExtVerifyScheme: fVerifyScheme, ExtVerifyKey: fVerifyKey, ExtVerifySkewMS: fVerifySkewMS,
	ExtVerifyBodySHA256: fVerifyBody, ExtVerifySignedID: fVerifySignedID,
	"datacontenttype": fDataContentType, "dataref": fDataRef, "data": fData, "data_base64": fDataBase64,
}

// set stores the raw JSON value v (valid, without surrounding space) in field f; false when v
// is not of the form decodeWire takes.
func (w *wire) set(f int, v []byte) bool {
	switch f {
	case fData:
		w.Data = append([]byte(nil), v...)
		return true
	case fVerifyKey:
		n, ok := plainInt(v, strconv.IntSize)
		if ok {
			k := int(n)
			w.VerifyKey = &k
		}
		return ok
	case fVerifySkewMS:
		n, ok := plainInt(v, 64)
		if ok {
			w.VerifySkewMS = &n
		}
		return ok
	case fVerifySignedID:
		switch string(v) {
		case "true":
			w.VerifySignedID = true
		case "false":
			w.VerifySignedID = false
		default:
			return false
		}
		return true
	}
	if v[0] != '"' {
		return false
	}
	end, plain := scanString(v, 0)
	if !plain {
		return false
	}
	s := string(v[1:end])
	switch f {
	case fSpecVersion:
		w.SpecVersion = s
	case fID:
		w.ID = s
	case fSource:
		w.Source = s
	case fType:
		w.Type = s
	case fTime:
		w.Time = s
	case fReceivedAt:
		w.ReceivedAt = s
	case fDeliveryID:
		w.DeliveryID = s
	case fDataVersion:
		w.DataVersion = s
	case fVerifyScheme:
		w.VerifyScheme = s
	case fVerifyBody:
		w.VerifyBody = s
	case fDataContentType:
		w.DataContentType = s
	case fDataRef:
		w.DataRef = s
	case fDataBase64:
		w.DataBase64 = &s
	}
	return true
}

// plainInt parses a JSON number written as an integer (no fraction, no exponent) that fits
// bits, which is what encoding/json stores in an int or int64 field.
func plainInt(v []byte, bits int) (int64, bool) {
	for _, c := range v {
		if c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, false // a string, literal, object or array
	}
	n, err := strconv.ParseInt(string(v), 10, bits)
	return n, err == nil
}
