package event

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// SpecVersion is the CloudEvents version of every envelope hookline writes.
const SpecVersion = "1.0"

// UnknownType is the type of an event whose sender's convention names none.
const UnknownType = "unknown"

// Validation errors. Every error from Decode, Validate and SetData wraps one of them.
var (
	ErrInvalid          = errors.New("invalid event")
	ErrInvalidJSON      = errors.New("body is not valid JSON")
	ErrUnsupportedMedia = errors.New("unsupported media type")
)

// errTooDeep is the refusal of JSON nested past maxJSONDepth: valid by RFC 8259, which lets a
// parser limit depth, but past what encoding/json, and so every consumer of the envelope, reads.
// It is an ErrInvalidJSON whose text says so instead of "not valid JSON".
var errTooDeep error = &depthError{}

type depthError struct{}

func (*depthError) Error() string {
	return fmt.Sprintf("body is JSON nested more than %d levels deep; at most %d are taken", maxJSONDepth, maxJSONDepth)
}

func (*depthError) Unwrap() error { return ErrInvalidJSON }

// Event is one received webhook as a CloudEvents 1.0 envelope plus hookline's extensions.
type Event struct {
	ID     string    // the event id: derived from the delivery or the body, or fresh (see id.go)
	Source string    // the configured source name, e.g. "github"
	Type   string    // the sender's event type, UnknownType when it names none
	Time   time.Time // when the sender says it happened (its signed timestamp), else ReceivedAt

	DataContentType string
	// Data is the body as a JSON value: the received bytes for JSON bodies, a JSON string for
	// text bodies. Nil when the body travels in DataBase64 or is empty.
	Data json.RawMessage
	// DataBase64 holds the raw bytes of a body that is neither JSON nor UTF-8 text.
	DataBase64 []byte

	// Extensions.
	ReceivedAt  time.Time // when hookline received the request (extension "receivedat")
	DeliveryID  string    // the sender's delivery id, if it gave one (extension "deliveryid")
	DataVersion string    // the payload version the sender declared (extension "dataversion")
	// Verification is how the sender was verified (extensions "verify…", see Verification).
	Verification Verification
	// DataRef, when set, is where the body was put because the envelope would not fit a bus
	// message (extension "dataref", a claim check): Data and DataBase64 are then empty, and
	// Verification.BodySHA256 is the body's hash.
	DataRef string
	// Extensions are the sender's own attributes of an incoming CloudEvent, kept in order.
	Extensions []Extension
}

// SetData stores body in the envelope according to its media type: JSON stays JSON (the exact
// bytes), UTF-8 text becomes a string, anything else is base64. contentType is the request's
// Content-Type header and may be empty.
func (e *Event) SetData(contentType string, body []byte) error {
	e.Data, e.DataBase64 = nil, nil
	mt := mediaType(contentType)
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		return fmt.Errorf("%w: %s bodies are not accepted; send JSON, text or raw bytes", ErrUnsupportedMedia, mt)
	case len(body) == 0:
		e.DataContentType = ""
		return nil
	case isJSONMedia(mt):
		// encoding/json accepts invalid UTF-8 inside strings; RFC 8259 does not, and neither
		// would the consumers that decode the envelope.
		if !validJSON(body) {
			// One pass checks both; only a refusal looks again to say which one failed.
			if !utf8.Valid(body) {
				return fmt.Errorf("%w: it is not valid UTF-8 although Content-Type is %s", ErrInvalidJSON, mt)
			}
			if nestedTooDeep(body) {
				return errTooDeep
			}
			return fmt.Errorf("%w although Content-Type is %s", ErrInvalidJSON, mt)
		}
		e.Data = trimJSONSpace(body)
	case mt == "" && validJSON(body):
		e.Data = trimJSONSpace(body)
		contentType = "application/json"
	case isTextMedia(mt) && utf8.Valid(body):
		e.Data = appendString(make([]byte, 0, len(body)+16), string(body))
		if contentType == "" {
			contentType = "text/plain; charset=utf-8"
		}
	default:
		e.DataBase64 = body
		if contentType == "" {
			contentType = "application/octet-stream"
		}
	}
	e.DataContentType = contentType
	return nil
}

// Body returns the received bytes back out of the envelope: the JSON bytes, the text or the
// decoded binary.
func (e *Event) Body() []byte {
	switch {
	case e.DataBase64 != nil:
		return e.DataBase64
	case len(e.Data) > 0 && e.Data[0] == '"' && !isJSONMedia(mediaType(e.DataContentType)):
		var s string
		if json.Unmarshal(e.Data, &s) == nil {
			return []byte(s)
		}
	}
	return e.Data
}

// Validate checks the envelope's required attributes and their formats.
func (e *Event) Validate() error { return e.validate(false) }

// validate is Validate; dataValid skips the JSON check of data a caller has just made.
func (e *Event) validate(dataValid bool) error {
	switch {
	case e.ID == "":
		return fmt.Errorf("%w: id is empty", ErrInvalid)
	case e.Source == "":
		return fmt.Errorf("%w: source is empty", ErrInvalid)
	case e.Type == "":
		return fmt.Errorf("%w: type is empty", ErrInvalid)
	case e.Time.IsZero():
		return fmt.Errorf("%w: time is missing", ErrInvalid)
	case e.ReceivedAt.IsZero():
		return fmt.Errorf("%w: receivedat is missing", ErrInvalid)
	case e.Data != nil && e.DataBase64 != nil:
		return fmt.Errorf("%w: both data and data_base64 are set", ErrInvalid)
	case e.Data != nil && !dataValid && !validJSON(e.Data) && !json.Valid(e.Data):
		// validJSON (one fast pass) implies json.Valid; only what it refuses, such as invalid
		// UTF-8 in a string, which json.Valid accepts, asks encoding/json.
		return fmt.Errorf("%w: data is not a JSON value", ErrInvalid)
	case e.DataRef != "" && (e.Data != nil || e.DataBase64 != nil):
		return fmt.Errorf("%w: dataref with data in the envelope", ErrInvalid)
	}
	for _, x := range e.Extensions {
		if err := checkExtension(x.Name, x.Value); err != nil {
			return err
		}
	}
	return nil
}

// Marshal returns the structured-mode CloudEvents JSON of e.
func (e *Event) Marshal() []byte {
	return e.AppendJSON(make([]byte, 0, e.sizeHint()))
}

// sizeHint is the encoded length when no string needs escaping (the usual case), so Marshal
// allocates once; escapes only make append grow the buffer.
func (e *Event) sizeHint() int {
	const fixed = len(`{"specversion":"1.0","id":"","source":"","type":"","time":"","receivedat":"","deliveryid":"","dataversion":"","datacontenttype":"","data_base64":""}`)
	const verification = len(`,"verifyscheme":"","verifykey":,"verifyskewms":,"verifybodysha256":"","verifysignedid":false`) + 2*20 + 2*sha256.Size
	n := fixed + verification + 2*len(time.RFC3339Nano) + len(e.ID) + len(e.Source) + len(e.Type) + len(e.DeliveryID) + len(e.DataVersion) + len(e.DataContentType) + len(e.Verification.Scheme)
	if e.DataRef != "" {
		n += len(`,"dataref":""`) + len(e.DataRef)
	}
	for _, x := range e.Extensions {
		n += len(x.Name) + len(x.Value) + 4
	}
	return n + len(e.Data) + base64.StdEncoding.EncodedLen(len(e.DataBase64))
}

// appendOptional appends the member key (with its comma and colon) and the string v, unless v
// is empty: an unset optional attribute is left out.
func appendOptional(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	return appendString(append(dst, key...), v)
}

// AppendJSON appends the structured-mode CloudEvents JSON of e to dst. It is hand-written so the
// data bytes are copied, never re-encoded, and ingest stays allocation-light.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"specversion":"1.0","id":`...)
	dst = appendString(dst, e.ID)
	dst = append(dst, `,"source":`...)
	dst = appendString(dst, e.Source)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, e.Type)
	dst = append(dst, `,"time":"`...)
	dst = e.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","receivedat":"`...)
	dst = e.ReceivedAt.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	dst = appendOptional(dst, `,"deliveryid":`, e.DeliveryID)
	dst = appendOptional(dst, `,"dataversion":`, e.DataVersion)
	if v := &e.Verification; v.Present() {
		dst = append(dst, `,"verifyscheme":`...)
		dst = appendString(dst, v.Scheme)
		dst = append(dst, `,"verifykey":`...)
		dst = strconv.AppendInt(dst, int64(v.Key), 10)
		if v.HasSkew {
			dst = append(dst, `,"verifyskewms":`...)
			dst = strconv.AppendInt(dst, v.SkewMS, 10)
		}
		dst = append(dst, `,"verifybodysha256":"`...)
		dst = hex.AppendEncode(dst, v.BodySHA256[:])
		dst = append(dst, `","verifysignedid":`...)
		dst = strconv.AppendBool(dst, v.SignedID)
	}
	for _, x := range e.Extensions {
		dst = append(dst, ',', '"')
		dst = append(dst, x.Name...)
		dst = append(dst, '"', ':')
		dst = append(dst, x.Value...)
	}
	dst = appendOptional(dst, `,"dataref":`, e.DataRef)
	dst = appendOptional(dst, `,"datacontenttype":`, e.DataContentType)
	switch {
	case e.DataBase64 != nil:
		dst = append(dst, `,"data_base64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, e.DataBase64)
		dst = append(dst, '"')
	case e.Data != nil:
		dst = append(dst, `,"data":`...)
		dst = append(dst, e.Data...)
	}
	return append(dst, '}')
}

// wire is the decoding shape of the envelope.
type wire struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            string          `json:"time"`
	ReceivedAt      string          `json:"receivedat"`
	DeliveryID      string          `json:"deliveryid"`
	DataVersion     string          `json:"dataversion"`
	VerifyScheme    string          `json:"verifyscheme"`
	VerifyKey       *int            `json:"verifykey"`
	VerifySkewMS    *int64          `json:"verifyskewms"`
	VerifyBody      string          `json:"verifybodysha256"`
	VerifySignedID  bool            `json:"verifysignedid"`
	DataContentType string          `json:"datacontenttype"`
	DataRef         string          `json:"dataref"`
	Data            json.RawMessage `json:"data"`
	DataBase64      *string         `json:"data_base64"`
}

// known are the attributes the wire struct reads; every other top-level key is an extension.
var known = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "time": true, "receivedat": true,
	"deliveryid": true, "dataversion": true, "datacontenttype": true, "dataref": true, "data": true, "data_base64": true,
	ExtVerifyScheme: true, ExtVerifyKey: true, ExtVerifySkewMS: true, ExtVerifyBodySHA256: true, ExtVerifySignedID: true,
}

// Decode parses and validates an envelope written by Marshal (or any structured-mode
// CloudEvents 1.0 JSON with hookline's receivedat extension). Envelopes of the usual form
// are read by decodeWire; encoding/json reads the others.
func Decode(b []byte) (*Event, error) {
	w, exts, fast := decodeWire(b)
	if !fast {
		var err error
		if w, exts, err = decodeWireJSON(b); err != nil {
			return nil, err
		}
	}
	// On the fast path validJSON has checked the whole input, data included.
	return w.event(exts, fast)
}

// DecodeString is Decode of an envelope held in a string (an SQS message's body, a stream
// image's attribute) without copying it first: Decode only reads its input and keeps none of
// it — every string and byte slice of the Event is a copy — so it can read the string's bytes.
// sameAsReference checks that on every input the tests and FuzzDecode give it.
func DecodeString(s string) (*Event, error) {
	return Decode(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// decodeReference is Decode with encoding/json alone, the reference FuzzDecode holds the
// fast path to.
func decodeReference(b []byte) (*Event, error) {
	w, exts, err := decodeWireJSON(b)
	if err != nil {
		return nil, err
	}
	return w.event(exts, false)
}

// decodeWireJSON reads b with encoding/json; the extensions are the top-level attributes the
// wire struct does not read.
func decodeWireJSON(b []byte) (wire, []Extension, error) {
	var w wire
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&w); err != nil {
		return wire{}, nil, fmt.Errorf("%w: not a JSON object: %v", ErrInvalid, err)
	}
	if d.More() {
		return wire{}, nil, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalid)
	}
	var exts []Extension
	eachTopLevel(b, func(k, v []byte) {
		if !known[string(k)] {
			exts = append(exts, Extension{Name: string(k), Value: append(json.RawMessage(nil), v...)})
		}
	})
	return w, exts, nil
}

// event checks w and builds the Event; dataValid says the data is known to be valid JSON.
func (w *wire) event(exts []Extension, dataValid bool) (*Event, error) {
	if w.SpecVersion != SpecVersion {
		return nil, fmt.Errorf("%w: specversion is %q, want %q", ErrInvalid, w.SpecVersion, SpecVersion)
	}
	e := &Event{
		ID: w.ID, Source: w.Source, Type: w.Type,
		DeliveryID: w.DeliveryID, DataVersion: w.DataVersion, DataContentType: w.DataContentType,
		DataRef: w.DataRef, Extensions: exts,
	}
	var err error
	if e.Time, err = parseTime("time", w.Time); err != nil {
		return nil, err
	}
	if e.ReceivedAt, err = parseTime("receivedat", w.ReceivedAt); err != nil {
		return nil, err
	}
	if e.Verification, err = w.verification(); err != nil {
		return nil, err
	}
	if !bytes.Equal(w.Data, []byte("null")) { // an absent data field leaves w.Data nil
		e.Data = w.Data
	}
	if w.DataBase64 != nil {
		if e.DataBase64, err = base64.StdEncoding.DecodeString(*w.DataBase64); err != nil {
			return nil, fmt.Errorf("%w: data_base64: %v", ErrInvalid, err)
		}
		if e.DataBase64 == nil {
			e.DataBase64 = []byte{}
		}
	}
	if err := e.validate(dataValid); err != nil {
		return nil, err
	}
	return e, nil
}

// verification reads the verify… extensions; all absent is an event without evidence.
func (w *wire) verification() (Verification, error) {
	if w.VerifyScheme == "" {
		if w.VerifyKey != nil || w.VerifySkewMS != nil || w.VerifyBody != "" {
			return Verification{}, fmt.Errorf("%w: verify extensions without %s", ErrInvalid, ExtVerifyScheme)
		}
		return Verification{}, nil
	}
	v := Verification{Scheme: w.VerifyScheme, SignedID: w.VerifySignedID}
	if w.VerifyKey == nil || *w.VerifyKey < 0 {
		return Verification{}, fmt.Errorf("%w: %s is missing or negative", ErrInvalid, ExtVerifyKey)
	}
	v.Key = *w.VerifyKey
	if w.VerifySkewMS != nil {
		v.SkewMS, v.HasSkew = *w.VerifySkewMS, true
	}
	if len(w.VerifyBody) != hex.EncodedLen(sha256.Size) {
		return Verification{}, fmt.Errorf("%w: %s is not 64 hex digits", ErrInvalid, ExtVerifyBodySHA256)
	}
	if _, err := hex.Decode(v.BodySHA256[:], []byte(w.VerifyBody)); err != nil {
		return Verification{}, fmt.Errorf("%w: %s is not 64 hex digits", ErrInvalid, ExtVerifyBodySHA256)
	}
	return v, nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%w: %s is missing", ErrInvalid, field)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not RFC 3339", ErrInvalid, field, s)
	}
	return t, nil
}

// trimJSONSpace drops the insignificant white space around a JSON value (a trailing newline,
// say): it cannot travel inside the envelope's data, and the value itself stays byte for byte.
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

// mediaType returns the lower-cased media type of a Content-Type value, without parameters.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct)) // returns ct itself, no copy, when already lower-case
}

func isJSONMedia(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func isTextMedia(mt string) bool {
	return mt == "" || strings.HasPrefix(mt, "text/") ||
		mt == "application/x-www-form-urlencoded" || mt == "application/xml" || strings.HasSuffix(mt, "+xml")
}

// appendString appends s as a JSON string as encoding/json writes it (HTML-safe).
func appendString(dst []byte, s string) []byte { return AppendJSONString(dst, s, true) }

// AppendJSONString appends s as a JSON string: quote, backslash and control characters escaped,
// invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped; <, > and & escaped only with escapeHTML —
// encoding/json's way, which the envelope keeps (safe to paste into HTML) — and as they are
// without it, slog's way, which pkg/lambdarun's log handler must reproduce byte for byte.
func AppendJSONString(dst []byte, s string, escapeHTML bool) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!escapeHTML || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // control characters and HTML-sensitive <, >, & (safe to paste into HTML)
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' { // valid JSON, but not valid JavaScript source
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
