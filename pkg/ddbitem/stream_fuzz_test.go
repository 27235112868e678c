package ddbitem_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbjson"
)

// FuzzFromStreamImage: stream images reach the notifier from outside the process. Any JSON
// image either decodes to a valid record or is rejected with an error; it never panics. And
// FromStreamImage, which reads the image in place, gives what converting the whole image and
// Unmarshal give: the same record, or an error where it errs (the same error when the image
// has one bad attribute at most: which of several is reported depends on map order); and
// ddbjson.Unmarshal, reading the same JSON as GetItem's item, the same record.
func FuzzFromStreamImage(f *testing.F) {
	var ev events.DynamoDBEvent
	b, err := os.ReadFile("testdata/stream_insert.json")
	if err != nil {
		f.Fatal(err)
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		f.Fatal(err)
	}
	img, _ := json.Marshal(ev.Records[0].Change.NewImage)
	f.Add(img)
	f.Add([]byte(`{"id":{"S":"x"},"envelope":{"S":"{}"}}`))
	f.Add([]byte(`{"envelope":{"N":"1"}}`))
	f.Add([]byte(`{"envelope":{"B":null}}`))
	f.Add([]byte(`{"x":{"L":[{"S":"a"},{"M":{"y":{"B":"AA=="}}}]}}`))
	var withNotified map[string]json.RawMessage
	_ = json.Unmarshal(img, &withNotified)
	withNotified["notified_at"] = json.RawMessage(`{"S":"2026-12-02T06:00:00Z"}`)
	b2, _ := json.Marshal(withNotified)
	f.Add(b2)
	withNotified["notified_at"] = json.RawMessage(`{"N":"1"}`)
	b3, _ := json.Marshal(withNotified)
	f.Add(b3)
	f.Fuzz(func(t *testing.T, b []byte) {
		var img map[string]events.DynamoDBAttributeValue
		if json.Unmarshal(b, &img) != nil {
			return
		}
		r, err := ddbitem.FromStreamImage(img)
		want, wantErr := ddbitem.FromStreamImageByConversion(img)
		if (err == nil) != (wantErr == nil) || err != nil && len(img) <= 1 && err.Error() != wantErr.Error() {
			t.Fatalf("FromStreamImage(%s): error %v, by conversion %v", b, err, wantErr)
		}
		if err != nil {
			return
		}
		if !cmp.Equal(r, want) {
			t.Fatalf("FromStreamImage(%s) differs from the conversion's record:\n%s", b, cmp.Diff(want, r))
		}
		if err := r.Event.Validate(); err != nil {
			t.Fatalf("decoded an invalid event from %s: %v", b, err)
		}
		// The same JSON as GetItem's item, read without the SDK: the same record.
		var item map[string]ddbjson.Value
		if err := json.Unmarshal(b, &item); err != nil {
			t.Fatalf("%s: a stream image that is no DynamoDB JSON item: %v", b, err)
		}
		if got, err := ddbjson.Unmarshal(item); err != nil || !cmp.Equal(got, r) {
			t.Fatalf("ddbjson.Unmarshal(%s) = %v, %v; the stream image gives %v", b, got, err, r)
		}
	})
}
