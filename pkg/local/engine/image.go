package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-lambda-go/events"
)

// The stream's images are stored in a compact binary form instead of DynamoDB JSON: encoding
// and parsing that JSON (the image holds the envelope, itself JSON, as an escaped string) was
// a tenth of the local pipeline's CPU. The form is private to this file; it round-trips every
// attribute value a stream record can carry.
//
//	image  = uvarint(count) { string(name) value }   names in sorted order
//	value  = tag payload
//	string = uvarint(len) bytes
const (
	tagS byte = iota + 1
	tagN
	tagB
	tagBOOL
	tagNULL
	tagSS
	tagNS
	tagBS
	tagL
	tagM
)

// maxImageDepth bounds nesting, as DynamoDB does (32 levels).
const maxImageDepth = 32

func appendImage(b []byte, img map[string]events.DynamoDBAttributeValue) ([]byte, error) {
	return appendMap(b, img, 0)
}

func appendMap(b []byte, m map[string]events.DynamoDBAttributeValue, depth int) ([]byte, error) {
	if depth > maxImageDepth {
		return nil, errors.New("image nests too deep")
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names) // one image, one encoding
	b = binary.AppendUvarint(b, uint64(len(m)))
	for _, k := range names {
		b = appendString(b, k)
		var err error
		if b, err = appendValue(b, m[k], depth); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
	}
	return b, nil
}

func appendValue(b []byte, v events.DynamoDBAttributeValue, depth int) ([]byte, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return appendString(append(b, tagS), v.String()), nil
	case events.DataTypeNumber:
		return appendString(append(b, tagN), v.Number()), nil
	case events.DataTypeBinary:
		if v.IsNull() { // the zero value claims to be binary but holds nothing
			return nil, errors.New("empty attribute value")
		}
		return appendString(append(b, tagB), string(v.Binary())), nil
	case events.DataTypeBoolean:
		if v.Boolean() {
			return append(b, tagBOOL, 1), nil
		}
		return append(b, tagBOOL, 0), nil
	case events.DataTypeNull:
		return append(b, tagNULL), nil
	case events.DataTypeStringSet:
		return appendStrings(append(b, tagSS), v.StringSet()), nil
	case events.DataTypeNumberSet:
		return appendStrings(append(b, tagNS), v.NumberSet()), nil
	case events.DataTypeBinarySet:
		bs := v.BinarySet()
		b = binary.AppendUvarint(append(b, tagBS), uint64(len(bs)))
		for _, x := range bs {
			b = appendString(b, string(x))
		}
		return b, nil
	case events.DataTypeList:
		l := v.List()
		b = binary.AppendUvarint(append(b, tagL), uint64(len(l)))
		for i, x := range l {
			var err error
			if b, err = appendValue(b, x, depth+1); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return b, nil
	case events.DataTypeMap:
		return appendMap(append(b, tagM), v.Map(), depth+1)
	default:
		return nil, fmt.Errorf("unsupported attribute type %v", v.DataType())
	}
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

var errImage = errors.New("damaged stream image")

// imageReader decodes what appendImage wrote.
type imageReader struct{ b []byte }

func parseImage(b []byte) (map[string]events.DynamoDBAttributeValue, error) {
	r := &imageReader{b: b}
	m, err := r.readMap(0)
	if err == nil && len(r.b) != 0 {
		err = errImage
	}
	return m, err
}

func (r *imageReader) uvarint() (int, error) {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)) { // every counted item takes at least a byte
		return 0, errImage
	}
	r.b = r.b[k:]
	return int(n), nil
}

func (r *imageReader) string() (string, error) {
	n, err := r.uvarint()
	if err != nil || n > len(r.b) {
		return "", errImage
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s, nil
}

func (r *imageReader) strings() ([]string, error) {
	n, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	out := make([]string, n)
	for i := range out {
		if out[i], err = r.string(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *imageReader) readMap(depth int) (map[string]events.DynamoDBAttributeValue, error) {
	if depth > maxImageDepth {
		return nil, errImage
	}
	n, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	m := make(map[string]events.DynamoDBAttributeValue, n)
	for range n {
		k, err := r.string()
		if err != nil {
			return nil, err
		}
		if m[k], err = r.value(depth); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (r *imageReader) value(depth int) (events.DynamoDBAttributeValue, error) {
	var zero events.DynamoDBAttributeValue
	if len(r.b) == 0 {
		return zero, errImage
	}
	tag := r.b[0]
	r.b = r.b[1:]
	switch tag {
	case tagS, tagN, tagB:
		s, err := r.string()
		if err != nil {
			return zero, err
		}
		switch tag {
		case tagS:
			return events.NewStringAttribute(s), nil
		case tagN:
			return events.NewNumberAttribute(s), nil
		}
		return events.NewBinaryAttribute([]byte(s)), nil
	case tagBOOL:
		if len(r.b) == 0 || r.b[0] > 1 {
			return zero, errImage
		}
		v := r.b[0] == 1
		r.b = r.b[1:]
		return events.NewBooleanAttribute(v), nil
	case tagNULL:
		return events.NewNullAttribute(), nil
	case tagSS, tagNS:
		ss, err := r.strings()
		if err != nil {
			return zero, err
		}
		if tag == tagSS {
			return events.NewStringSetAttribute(ss), nil
		}
		return events.NewNumberSetAttribute(ss), nil
	case tagBS:
		ss, err := r.strings()
		if err != nil {
			return zero, err
		}
		bs := make([][]byte, len(ss))
		for i, s := range ss {
			bs[i] = []byte(s)
		}
		return events.NewBinarySetAttribute(bs), nil
	case tagL:
		if depth+1 > maxImageDepth {
			return zero, errImage
		}
		n, err := r.uvarint()
		if err != nil {
			return zero, err
		}
		l := make([]events.DynamoDBAttributeValue, n)
		for i := range l {
			if l[i], err = r.value(depth + 1); err != nil {
				return zero, err
			}
		}
		return events.NewListAttribute(l), nil
	case tagM:
		m, err := r.readMap(depth + 1)
		if err != nil {
			return zero, err
		}
		return events.NewMapAttribute(m), nil
	}
	return zero, errImage
}

// flatImageSize is len(appendImage(nil, img)) for an image of strings and numbers (streamImage's),
// counted without encoding it: the SizeBytes of a record that refers to its events row.
func flatImageSize(img map[string]events.DynamoDBAttributeValue) int64 {
	n := uvarintLen(len(img))
	for k, v := range img {
		var s string
		if v.DataType() == events.DataTypeNumber {
			s = v.Number()
		} else {
			s = v.String()
		}
		n += uvarintLen(len(k)) + len(k) + 1 + uvarintLen(len(s)) + len(s)
	}
	return int64(n)
}

func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}
