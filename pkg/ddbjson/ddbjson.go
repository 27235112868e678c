// Package ddbjson is DynamoDB's JSON attribute values as the wire has them, for the adapters that
// call DynamoDB through pkg/awsjson (ddbkeep, ddbput, ddbnotify, ddbhistory) rather than the SDK's
// client; the events table's time format and the names of its items, attributes and indexes,
// which ddbstore uses too (names.go), as it does the set of history partitions a writer has
// registered (Registered); and the one decoder of an event item (DecodeRecord), which reads it
// from DynamoDB JSON, from a stream record's NewImage (the notifier's input) and, in
// pkg/ddbitem, from the SDK's values. It imports nothing of the SDK: its DynamoDB packages'
// initialisation is what those adapters exist to avoid.
package ddbjson

import (
	"errors"
	"strconv"

	"hookline/pkg/pipeline"
)

// TimeFormat is RFC 3339 with a fixed nine-digit fraction. Formatted in UTC its strings sort
// lexically in time order, which the table's sort keys rely on (time.RFC3339Nano trims zeros).
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// Value is one attribute value; exactly one field is set.
type Value struct {
	S  *string           `json:"S,omitempty"`
	N  *string           `json:"N,omitempty"`
	B  *[]byte           `json:"B,omitempty"` // a pointer, so an empty binary is "" rather than absent
	M  *map[string]Value `json:"M,omitempty"` // a pointer, so an empty map is {} rather than absent
	SS []string          `json:"SS,omitempty"`
	// BOOL is a pointer, so false is a value rather than absent.
	BOOL *bool `json:"BOOL,omitempty"`
}

// Type is the DynamoDB name of v's type ("S", "N", ...), or "unknown" for a value of a type
// Value does not hold (L, NS, ...): it decodes to no field set.
func (v Value) Type() string {
	switch {
	case v.S != nil:
		return "S"
	case v.N != nil:
		return "N"
	case v.B != nil:
		return "B"
	case v.M != nil:
		return "M"
	case v.SS != nil:
		return "SS"
	case v.BOOL != nil:
		return "BOOL"
	}
	return "unknown"
}

// S is a string value.
func S(s string) Value { return Value{S: &s} }

// N is a number value.
func N(n int64) Value { s := strconv.FormatInt(n, 10); return Value{N: &s} }

// B is a binary value; nil is an empty binary (DynamoDB keeps one; nil would be NULL).
func B(b []byte) Value {
	if b == nil {
		b = []byte{}
	}
	return Value{B: &b}
}

// M is a map value.
func M(m map[string]Value) Value { return Value{M: &m} }

// Bool is a boolean value.
func Bool(b bool) Value { return Value{BOOL: &b} }

// SS is a string set value.
func SS(s ...string) Value { return Value{SS: s} }

// ConditionFailed reports whether err is DynamoDB's answer to a request whose condition did
// not hold (ConditionalCheckFailedException): a duplicate, or a limit reached.
func ConditionFailed(err error) bool {
	var api interface{ ErrorCode() string }
	return errors.As(err, &api) && api.ErrorCode() == "ConditionalCheckFailedException"
}

// Classify marks throttling, which awsjson (or the SDK, for ddbstore) has already retried, as
// KindThrottled so callers answer 429 rather than 500; everything else stays as it is, its
// whole chain kept. It reads only the error's code, so it serves the SDK's errors and awsjson's.
func Classify(err error) error {
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded":
			return &pipeline.Error{Kind: pipeline.KindThrottled, Detail: "the event store is busy; retry later", Err: err}
		}
	}
	return err
}
