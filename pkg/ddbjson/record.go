package ddbjson

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// Attribute names of an event item (pkg/ddbitem documents the item; it and ddbstore use these
// names through its constants, which are these).
const (
	AttrID          = "id" // the table's partition key
	AttrSource      = "source"
	AttrType        = "type"
	AttrStoredAt    = "stored_at"
	AttrNotifiedAt  = "notified_at" // absent until the completion email went out
	AttrEnvelope    = "envelope"    // the CloudEvents JSON; the source of truth
	AttrExpiresAt   = "expires_at"  // TTL, unix seconds
	AttrReceivedKey = "received_key"
	AttrSourceGroup = "source_group" // the history index's partition key
)

// DecodeRecord is the one decoder of an event item, whatever holds its attributes (the SDK's
// values in ddbitem.Unmarshal, a stream record's NewImage in FromStreamImage, DynamoDB JSON in
// Unmarshal): str returns a string attribute's value, or an error saying it is missing or not
// a string (S); has reports whether the item has the attribute at all. The event comes from the
// envelope; the other copies of its attributes are ignored, except that the id must agree.
func DecodeRecord(str func(name string) (string, error), has func(name string) bool) (*event.Record, error) {
	env, err := str(AttrEnvelope)
	if err != nil {
		return nil, err
	}
	id, err := str(AttrID)
	if err != nil {
		return nil, err
	}
	e, err := event.DecodeString(env)
	if err != nil {
		return nil, fmt.Errorf("unmarshal item %s: attribute %s: %w", id, AttrEnvelope, err)
	}
	if e.ID != id {
		return nil, fmt.Errorf("unmarshal item %s: envelope id is %s", id, e.ID)
	}
	r := &event.Record{Event: e}
	stored, err := str(AttrStoredAt)
	if err != nil {
		return nil, fmt.Errorf("unmarshal item %s: %w", id, err)
	}
	if r.StoredAt, err = ParseTime(AttrStoredAt, stored); err != nil {
		return nil, fmt.Errorf("unmarshal item %s: %w", id, err)
	}
	if has(AttrNotifiedAt) {
		notified, err := str(AttrNotifiedAt)
		if err != nil {
			return nil, fmt.Errorf("unmarshal item %s: %w", id, err)
		}
		if r.NotifiedAt, err = ParseTime(AttrNotifiedAt, notified); err != nil {
			return nil, fmt.Errorf("unmarshal item %s: %w", id, err)
		}
	}
	return r, nil
}

// ParseTime reads the time attribute name: RFC 3339, in UTC.
func ParseTime(name, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("item attribute %s %q is not RFC 3339: %w", name, s, err)
	}
	return t.UTC(), nil
}

// Missing and NotString are DecodeRecord's errors for an attribute that is absent, or that
// holds a value of the DynamoDB type typ ("N", "BOOL", ...) rather than a string.
func Missing(name string) error { return fmt.Errorf("item attribute %s is missing", name) }

// NotString: see Missing.
func NotString(name, typ string) error {
	return fmt.Errorf("item attribute %s is %s, want a string (S)", name, typ)
}

// Unmarshal decodes an event item read as DynamoDB JSON (GetItem's Item).
func Unmarshal(item map[string]Value) (*event.Record, error) {
	return DecodeRecord(func(name string) (string, error) {
		v, ok := item[name]
		switch {
		case !ok:
			return "", Missing(name)
		case v.S == nil:
			return "", NotString(name, v.Type())
		}
		return *v.S, nil
	}, func(name string) bool { _, ok := item[name]; return ok })
}

// FromStreamImage decodes the NewImage of a DynamoDB stream record as Lambda delivers it (the
// notifier's input). An image with a value that holds nothing (aws-lambda-go's zero value,
// which Go code can build though no JSON decodes to it), at any depth, is refused, whichever
// attribute it is in.
func FromStreamImage(img map[string]events.DynamoDBAttributeValue) (*event.Record, error) {
	for k, v := range img {
		if err := checkStream(v); err != nil {
			return nil, fmt.Errorf("stream image: attribute %s: %w", k, err)
		}
	}
	return DecodeRecord(func(name string) (string, error) {
		v, ok := img[name]
		switch {
		case !ok:
			return "", Missing(name)
		case v.DataType() != events.DataTypeString:
			return "", NotString(name, StreamType(v.DataType()))
		}
		return v.String(), nil
	}, func(name string) bool { _, ok := img[name]; return ok })
}

// checkStream fails for a value that holds nothing or is of no DynamoDB type, and for a list or
// a map with one inside; the error names the index or the attribute where it sits.
func checkStream(v events.DynamoDBAttributeValue) error {
	switch v.DataType() {
	case events.DataTypeString, events.DataTypeNumber, events.DataTypeBoolean, events.DataTypeNull,
		events.DataTypeStringSet, events.DataTypeNumberSet, events.DataTypeBinarySet:
		return nil
	case events.DataTypeBinary:
		if v.IsNull() { // the zero value claims to be binary but holds nothing; Binary would panic
			return errEmpty
		}
		return nil
	case events.DataTypeList:
		for i, e := range v.List() {
			if err := checkStream(e); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	case events.DataTypeMap:
		for k, e := range v.Map() {
			if err := checkStream(e); err != nil {
				return fmt.Errorf("attribute %s: %w", k, err)
			}
		}
		return nil
	}
	return fmt.Errorf("unsupported stream attribute type %v", v.DataType())
}

var errEmpty = errors.New("empty stream attribute value")

// StreamType is the DynamoDB name of a stream value's type: "S", "N", "BOOL", ...
func StreamType(t events.DynamoDBDataType) string {
	switch t {
	case events.DataTypeString:
		return "S"
	case events.DataTypeNumber:
		return "N"
	case events.DataTypeBinary:
		return "B"
	case events.DataTypeBoolean:
		return "BOOL"
	case events.DataTypeNull:
		return "NULL"
	case events.DataTypeStringSet:
		return "SS"
	case events.DataTypeNumberSet:
		return "NS"
	case events.DataTypeBinarySet:
		return "BS"
	case events.DataTypeList:
		return "L"
	case events.DataTypeMap:
		return "M"
	}
	return fmt.Sprintf("type %d", t)
}

// CheckNew is what PutNew (ddbstore's, ddbput's) asks of r first: an event, whose id is not a
// control item's (IsControl).
func CheckNew(r *event.Record) error {
	if r == nil || r.Event == nil {
		return errors.New("put event: record has no event")
	}
	if id := r.Event.ID; IsControl(id) {
		return pipeline.Errorf(pipeline.KindInvalid, "event id %q starts with %q, which the events table keeps for its own items", id, ControlPrefix)
	}
	return nil
}

// Expiry is when the item of an event received at received may expire (its TTL): retention
// later, or the zero time (never) for a retention of 0.
func Expiry(received time.Time, retention time.Duration) time.Time {
	if retention <= 0 {
		return time.Time{}
	}
	return received.Add(retention)
}

// PastTTL reports whether n, an item's expires_at (unix seconds, a DynamoDB N), is at or before
// now. DynamoDB deletes such an item only within days, and reads return it until then, so the
// history readers pass it by as gone, as DynamoDB advises; an N that is not a positive integer
// never expires (DynamoDB's TTL ignores it too).
func PastTTL(n string, now time.Time) bool {
	s, err := strconv.ParseInt(n, 10, 64)
	return err == nil && s > 0 && s <= now.Unix()
}

// ItemPastTTL is PastTTL of an item's expires_at; false when it has none.
func ItemPastTTL(item map[string]Value, now time.Time) bool {
	v := item[AttrExpiresAt]
	return v.N != nil && PastTTL(*v.N, now)
}

// CheckRecord is what an event item needs before it is written, through the SDK (ddbitem) or
// as DynamoDB JSON (ddbput): a valid event, and the time it was stored. r.Event must be set.
func CheckRecord(r *event.Record) error {
	e := r.Event
	if err := e.Validate(); err != nil {
		return fmt.Errorf("marshal item %s: %w", e.ID, err)
	}
	if r.StoredAt.IsZero() {
		return fmt.Errorf("marshal item %s: stored_at is zero", e.ID)
	}
	return nil
}
