package pipeline

import (
	"testing"
	"time"

	"hookline/pkg/event"
)

type fuzzHeader map[string]string

func (h fuzzHeader) Get(k string) string { return h[k] }

// FuzzParseCloudEvents: any body, in structured or batched mode, is either refused or gives
// events with the required attributes and extensions the envelope accepts.
func FuzzParseCloudEvents(f *testing.F) {
	f.Add("application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"s","type":"t","x":"y","data":{"a":1}}`)
	f.Add("application/cloudevents-batch+json", `[{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"AAE="}]`)
	f.Add("application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"s","type":"t","data":"text","datacontenttype":"text/plain"}`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		ces, err := parseCloudEvents(fuzzHeader{"content-type": ct}, []byte(body))
		if err != nil {
			return
		}
		for _, ce := range ces {
			if ce.ID == "" || ce.Source == "" || ce.Type == "" {
				t.Fatalf("accepted an event without id, source or type: %+v", ce)
			}
			for _, x := range ce.Extensions {
				if err := event.CheckExtension(x.Name, x.Value); err != nil {
					t.Fatalf("accepted extension %s: %v", x.Name, err)
				}
			}
			e := &event.Event{ID: "x", Source: "s", Type: ce.Type, Time: ce.Time, ReceivedAt: ce.Time}
			if e.Time.IsZero() {
				e.Time, e.ReceivedAt = fuzzTime, fuzzTime
			}
			if err := setCloudEventData(e, ce); err != nil {
				continue
			}
			e.Extensions = ce.Extensions
			if _, err := event.Decode(e.Marshal()); err != nil {
				t.Fatalf("envelope of an accepted event does not decode: %v\n%s", err, e.Marshal())
			}
		}
	})
}

var fuzzTime = mustTime("2026-12-01T00:00:00Z")

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
