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

// nested is the image {"a": v}, v being containers nested in the order kinds says ('m' a map
// {"m": …}, 'l' a one-element list) around the string "x", and the bytes appendImage writes
// for it, built here without appendImage's depth check.
func nested(kinds string) (map[string]events.DynamoDBAttributeValue, []byte) {
	v := events.NewStringAttribute("x")
	b := []byte{tagS, 1, 'x'}
	for i := len(kinds) - 1; i >= 0; i-- {
		if kinds[i] == 'm' {
			v = events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{"m": v})
			b = append([]byte{tagM, 1, 1, 'm'}, b...)
		} else {
			v = events.NewListAttribute([]events.DynamoDBAttributeValue{v})
			b = append([]byte{tagL, 1}, b...)
		}
	}
	return map[string]events.DynamoDBAttributeValue{"a": v}, append([]byte{1, 1, 'a'}, b...)
}

// TestImageDepth: images nest at most maxImageDepth (32) containers deep, maps and lists
// alike, counted through both: 32 round-trip, 33 are refused by the decoder, and by the
// encoder when the 33rd is a map. (The encoder checks the depth at maps only: 33 lists
// encode, and the decoder refuses them. Stream images are built from ddbitem's flat items,
// so no image nests that deep.)
func TestImageDepth(t *testing.T) {
	repeat := func(s string, n int) string {
		out := ""
		for range n {
			out += s
		}
		return out
	}
	cases := []struct {
		name    string
		kinds   string
		encodes bool // appendImage takes it (and writes the bytes nested built)
		refused bool // appendImage refuses it
		parses  bool // parseImage takes nested's bytes
	}{
		{"32 maps", repeat("m", 32), true, false, true},
		{"33 maps", repeat("m", 33), false, true, false},
		{"32 lists", repeat("l", 32), true, false, true},
		{"33 lists", repeat("l", 33), false, false, false},
		{"32 lists, then a map", repeat("l", 32) + "m", false, true, false},
		{"32 maps and lists", repeat("lm", 16), true, false, true},
		{"33 maps and lists", repeat("lm", 16) + "l", false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, want := nested(c.kinds)
			b, err := appendImage(nil, img)
			if c.encodes && (err != nil || !reflect.DeepEqual(b, want)) {
				t.Errorf("appendImage = %x, %v; want %x", b, err, want)
			}
			if c.refused && err == nil {
				t.Errorf("appendImage took %d containers", len(c.kinds))
			}
			got, err := parseImage(want)
			if !c.parses {
				if err == nil {
					t.Errorf("parseImage took %d containers", len(c.kinds))
				}
				return
			}
			if err != nil {
				t.Fatalf("parseImage: %v", err)
			}
			if !reflect.DeepEqual(got, img) {
				g, _ := json.Marshal(got) // for reading only; DeepEqual compared
				w, _ := json.Marshal(img)
				t.Errorf("round trip:\n got %s\nwant %s", g, w)
			}
		})
	}
}
