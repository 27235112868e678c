package engine

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func sampleImage() map[string]events.DynamoDBAttributeValue {
	return map[string]events.DynamoDBAttributeValue{
		"id":       events.NewStringAttribute("0192f3a4-5b6c-7d8e-9f00-000000000001"),
		"envelope": events.NewStringAttribute(`{"specversion":"1.0","data":{"zoë":"\u2028"}}`),
		"n":        events.NewNumberAttribute("1764590400"),
		"b":        events.NewBinaryAttribute([]byte{0, 1, 0xff}),
		"ok":       events.NewBooleanAttribute(true),
		"no":       events.NewBooleanAttribute(false),
		"null":     events.NewNullAttribute(),
		"ss":       events.NewStringSetAttribute([]string{"a", ""}),
		"ns":       events.NewNumberSetAttribute([]string{"1", "2.5"}),
		"bs":       events.NewBinarySetAttribute([][]byte{{1}, {}}),
		"l":        events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewStringAttribute("x"), events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{"k": events.NewNumberAttribute("3")})}),
		"m":        events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{}),
		"":         events.NewStringAttribute(""),
	}
}

// The binary image decodes to the very values that were encoded: compared through their
// DynamoDB JSON, which is what Lambda hands a stream consumer.
func TestImageRoundTrip(t *testing.T) {
	img := sampleImage()
	b, err := appendImage(nil, img)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseImage(b)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(img)
	have, _ := json.Marshal(got)
	if string(want) != string(have) {
		t.Errorf("round trip:\n got %s\nwant %s", have, want)
	}
	again, _ := appendImage(nil, got)
	if !reflect.DeepEqual(again, b) {
		t.Error("encoding is not deterministic")
	}
	for cut := range len(b) {
		if _, err := parseImage(b[:cut]); err == nil {
			t.Fatalf("a %d-byte prefix of a %d-byte image parsed", cut, len(b))
		}
	}
	if _, err := parseImage(append(b, 0)); err == nil {
		t.Error("trailing bytes parsed")
	}
	if _, err := appendImage(nil, map[string]events.DynamoDBAttributeValue{"zero": {}}); err == nil {
		t.Error("the zero attribute value encoded")
	}
}

func FuzzParseImage(f *testing.F) {
	b, _ := appendImage(nil, sampleImage())
	f.Add(b)
	f.Add([]byte{1, 0, tagL, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := parseImage(b)
		if err != nil {
			return
		}
		again, err := appendImage(nil, img)
		if err != nil {
			t.Fatalf("parsed image does not encode: %v", err)
		}
		if _, err := parseImage(again); err != nil {
			t.Fatalf("re-encoded image does not parse: %v", err)
		}
	})
}
