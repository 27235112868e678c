package ddbjson_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"hookline/pkg/ddbjson"
	"hookline/pkg/event"
)

// TestDecodeRecord: an event item, as GetItem's DynamoDB JSON (Unmarshal) and as a stream
// record's NewImage (FromStreamImage), decodes to the record it holds, and each way an item can
// be wrong is refused with an error that names the attribute, the same through both.
// (pkg/ddbitem's tests and FuzzFromStreamImage hold both to the SDK's Unmarshal too.)
func TestDecodeRecord(t *testing.T) {
	at := time.Date(2026, 12, 2, 16, 0, 0, 120000000, time.UTC)
	e := &event.Event{ID: "0190b4c2-0000-7000-8000-000000000001", Source: "github", Type: "push", Time: at, ReceivedAt: at, DeliveryID: "d1"}
	if err := e.SetData("application/json", []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	s := func(v string) string { return `{"S":` + strconv.Quote(v) + `}` }
	env := s(string(e.Marshal()))
	item := func(attrs ...string) string { return "{" + strings.Join(attrs, ",") + "}" }
	id, stored := `"id":`+s(e.ID), `"stored_at":`+s("2026-12-02T16:00:01.000000000Z")
	good := item(`"envelope":`+env, id, stored, `"expires_at":{"N":"1"}`, `"l":{"L":[{"S":"a"},{"BOOL":true}]}`)
	marked := item(`"envelope":`+env, id, stored, `"notified_at":`+s("2026-12-02T17:00:02+01:00"))
	stored1 := &event.Record{Event: e, StoredAt: at.Add(880 * time.Millisecond)}
	notified := *stored1
	notified.NotifiedAt = at.Add(1880 * time.Millisecond)
	for name, tt := range map[string]struct {
		item    string
		want    *event.Record
		mention string
	}{
		"stored":              {good, stored1, ""},
		"notified":            {marked, &notified, ""},
		"no envelope":         {item(id, stored), nil, "item attribute envelope is missing"},
		"envelope not S":      {item(`"envelope":{"N":"1"}`, id, stored), nil, "item attribute envelope is N, want a string (S)"},
		"envelope not JSON":   {item(`"envelope":`+s("{"), id, stored), nil, "unmarshal item " + e.ID + ": attribute envelope"},
		"no id":               {item(`"envelope":`+env, stored), nil, "item attribute id is missing"},
		"id mismatch":         {item(`"envelope":`+env, `"id":`+s("other"), stored), nil, "unmarshal item other: envelope id is " + e.ID},
		"no stored_at":        {item(`"envelope":`+env, id), nil, "item attribute stored_at is missing"},
		"stored_at not S":     {item(`"envelope":`+env, id, `"stored_at":{"N":"1"}`), nil, "stored_at is N"},
		"bad stored_at":       {item(`"envelope":`+env, id, `"stored_at":`+s("yesterday")), nil, `stored_at "yesterday" is not RFC 3339`},
		"notified_at is BOOL": {item(`"envelope":`+env, id, stored, `"notified_at":{"BOOL":true}`), nil, "notified_at is BOOL, want"},
		"bad notified_at":     {item(`"envelope":`+env, id, stored, `"notified_at":`+s("soon")), nil, `notified_at "soon" is not RFC 3339`},
	} {
		var av map[string]ddbjson.Value
		var img map[string]events.DynamoDBAttributeValue
		if err := json.Unmarshal([]byte(tt.item), &av); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(tt.item), &img); err != nil {
			t.Fatal(err)
		}
		for way, decode := range map[string]func() (*event.Record, error){
			"Unmarshal":       func() (*event.Record, error) { return ddbjson.Unmarshal(av) },
			"FromStreamImage": func() (*event.Record, error) { return ddbjson.FromStreamImage(img) },
		} {
			got, err := decode()
			switch {
			case tt.want != nil && err != nil:
				t.Errorf("%s, %s: %v", name, way, err)
			case tt.want != nil:
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("%s, %s (-want +got):\n%s", name, way, diff)
				}
				if got.StoredAt.Location() != time.UTC || got.NotifiedAt.Location() != time.UTC {
					t.Errorf("%s, %s: times not in UTC: %v, %v", name, way, got.StoredAt, got.NotifiedAt)
				}
			case err == nil || !strings.Contains(err.Error(), tt.mention):
				t.Errorf("%s, %s = %v, %v; want an error mentioning %q", name, way, got, err, tt.mention)
			}
		}
	}
}

// TestStreamImageChecked: a value that holds nothing (aws-lambda-go's zero value, which Go
// code can build though no JSON decodes to it), at any depth of any attribute, refuses the
// whole image, and the error says where it sits; values of every other type pass.
func TestStreamImageChecked(t *testing.T) {
	var zero events.DynamoDBAttributeValue
	others := events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewStringSetAttribute([]string{"a"}),
		events.NewNumberSetAttribute([]string{"1"}), events.NewBinarySetAttribute([][]byte{{0}}), events.NewNullAttribute(),
		events.NewBinaryAttribute([]byte{0}), events.NewBooleanAttribute(true), events.NewNumberAttribute("1")})
	for mention, img := range map[string]map[string]events.DynamoDBAttributeValue{
		"stream image: attribute x: empty stream attribute value": {"x": zero},
		"stream image: attribute x: [1]: empty":                   {"x": events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewStringAttribute("a"), zero})},
		"stream image: attribute x: attribute y: [0]: empty": {"x": events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{
			"y": events.NewListAttribute([]events.DynamoDBAttributeValue{zero})})},
		"stream image: attribute y: empty": {"x": others, "y": zero},
		// The image is checked before any attribute is read: here it would be missing.
		"item attribute envelope is missing": {"x": others},
	} {
		if r, err := ddbjson.FromStreamImage(img); err == nil || !strings.Contains(err.Error(), mention) {
			t.Errorf("FromStreamImage: %v, %v; want an error mentioning %q", r, err, mention)
		}
	}
}

// TestValueType: each kind of value names its DynamoDB type; one Value does not hold is
// "unknown".
func TestValueType(t *testing.T) {
	for want, v := range map[string]ddbjson.Value{
		"S": ddbjson.S(""), "N": ddbjson.N(0), "B": ddbjson.B(nil), "M": ddbjson.M(nil), "SS": ddbjson.SS("a"),
		"BOOL": ddbjson.Bool(false), "unknown": {},
	} {
		if got := v.Type(); got != want {
			t.Errorf("%+v.Type() = %q, want %q", v, got, want)
		}
	}
	var l ddbjson.Value
	if err := json.Unmarshal([]byte(`{"L":[]}`), &l); err != nil || l.Type() != "unknown" {
		t.Errorf(`{"L":[]} reads as %q, %v`, l.Type(), err)
	}
}
