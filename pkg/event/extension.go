package event

import (
	"encoding/json"
	"fmt"
)

// Extension is a CloudEvents extension attribute a sender set (incoming CloudEvents), kept
// verbatim in the envelope beside hookline's own: a lower-case alphanumeric name and a JSON
// string, number or boolean.
type Extension struct {
	Name  string
	Value json.RawMessage
}

// ExtSenderSource is the extension that keeps an incoming CloudEvent's own source (a URI):
// the envelope's source is the hookline source the event arrived at.
const ExtSenderSource = "sendersource"

// reserved are the attributes hookline writes itself; a sender's extension may not use them.
var reserved = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "time": true,
	"datacontenttype": true, "data": true, "data_base64": true,
	"receivedat": true, "deliveryid": true, "dataversion": true, ExtSenderSource: true, ExtDataRef: true,
	ExtVerifyScheme: true, ExtVerifyKey: true, ExtVerifySkewMS: true, ExtVerifyBodySHA256: true, ExtVerifySignedID: true,
}

// ExtDataRef names where a body too large for the bus was put (the CloudEvents dataref
// extension: a URI-reference to the data); the envelope then carries no data.
const ExtDataRef = "dataref"

// CheckExtension reports whether a sender may set the extension name to value: a CloudEvents
// attribute name (a-z, 0-9, at most 20 characters, as the spec recommends), not one hookline
// writes, and a scalar value.
func CheckExtension(name string, value json.RawMessage) error {
	if reserved[name] {
		return fmt.Errorf("%w: extension %q is an attribute hookline sets itself", ErrInvalid, name)
	}
	return checkExtension(name, value)
}

// checkExtension checks the name's and value's form; the envelope's own extensions
// (sendersource) pass it too.
func checkExtension(name string, value json.RawMessage) error {
	if len(name) == 0 || len(name) > 20 {
		return fmt.Errorf("%w: extension %q: names are 1-20 characters", ErrInvalid, name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return fmt.Errorf("%w: extension %q: names use a-z and 0-9 only", ErrInvalid, name)
		}
	}
	var v any
	if err := json.Unmarshal(value, &v); err != nil {
		return fmt.Errorf("%w: extension %q: not a JSON value", ErrInvalid, name)
	}
	switch v.(type) {
	case string, float64, bool:
		return nil
	}
	return fmt.Errorf("%w: extension %q: values are strings, numbers or booleans", ErrInvalid, name)
}
