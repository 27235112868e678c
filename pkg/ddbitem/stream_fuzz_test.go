package ddbitem_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
)

// FuzzFromStreamImage: stream images reach the notifier from outside the process. Any JSON
// image either decodes to a valid record or is rejected with an error; it never panics.
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
	f.Fuzz(func(t *testing.T, b []byte) {
		var img map[string]events.DynamoDBAttributeValue
		if json.Unmarshal(b, &img) != nil {
			return
		}
		r, err := ddbitem.FromStreamImage(img)
		if err != nil {
			return
		}
		if err := r.Event.Validate(); err != nil {
			t.Fatalf("decoded an invalid event from %s: %v", b, err)
		}
	})
}
