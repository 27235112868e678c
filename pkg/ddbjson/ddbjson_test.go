package ddbjson_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"hookline/pkg/awsjson"
	"hookline/pkg/ddbjson"
)

// TestValues: each constructor's wire form, the empty binary and map kept as values (not
// absent, not NULL).
func TestValues(t *testing.T) {
	for want, v := range map[string]ddbjson.Value{
		`{"S":"a"}`:             ddbjson.S("a"),
		`{"S":""}`:              ddbjson.S(""),
		`{"N":"-42"}`:           ddbjson.N(-42),
		`{"B":"AQI="}`:          ddbjson.B([]byte{1, 2}),
		`{"B":""}`:              ddbjson.B(nil),
		`{"M":{"k":{"N":"1"}}}`: ddbjson.M(map[string]ddbjson.Value{"k": ddbjson.N(1)}),
		`{"M":{}}`:              ddbjson.M(map[string]ddbjson.Value{}),
		`{"SS":["x","y"]}`:      ddbjson.SS("x", "y"),
	} {
		got, err := json.Marshal(v)
		if err != nil || string(got) != want {
			t.Errorf("%s: got %s, %v", want, got, err)
		}
	}
}

// TestTimeFormatSorts: formatted in UTC, later times sort later as strings, also where
// RFC3339Nano would trim a fraction's zeros.
func TestTimeFormatSorts(t *testing.T) {
	a := time.Date(2026, 12, 2, 10, 0, 0, 100_000_000, time.UTC)
	b := a.Add(20 * time.Millisecond)
	if fa, fb := a.Format(ddbjson.TimeFormat), b.Format(ddbjson.TimeFormat); fa >= fb || fa != "2026-12-02T10:00:00.100000000Z" {
		t.Errorf("%q, %q", fa, fb)
	}
}

func TestConditionFailed(t *testing.T) {
	for err, want := range map[error]bool{
		&awsjson.Error{Code: "ConditionalCheckFailedException"}:                        true,
		fmt.Errorf("put: %w", &awsjson.Error{Code: "ConditionalCheckFailedException"}): true,
		&awsjson.Error{Code: "ProvisionedThroughputExceededException"}:                 false,
		errors.New("ConditionalCheckFailedException"):                                  false,
		nil: false,
	} {
		if got := ddbjson.ConditionFailed(err); got != want {
			t.Errorf("ConditionFailed(%v) = %v", err, got)
		}
	}
}

// TestParseTimeUTC: a time attribute written with an offset reads back as the same instant in
// UTC, as the table's times are; a time that is not RFC 3339 is refused, naming the attribute.
func TestParseTimeUTC(t *testing.T) {
	got, err := ddbjson.ParseTime("stored_at", "2026-12-02T10:00:00.5+01:00")
	if want := time.Date(2026, 12, 2, 9, 0, 0, 500000000, time.UTC); err != nil || got != want {
		t.Errorf("ParseTime = %v, %v; want %v", got, err, want)
	}
	// The parse error stays in the chain, for errors.As.
	var perr *time.ParseError
	if _, err := ddbjson.ParseTime("stored_at", "yesterday"); err == nil || !strings.Contains(err.Error(), "stored_at") || !errors.As(err, &perr) {
		t.Errorf("ParseTime(yesterday) = %v; want an error naming stored_at, wrapping the *time.ParseError", err)
	}
}
