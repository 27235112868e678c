package lambdaio_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/lambdaio"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/publishertest"
	"hookline/pkg/sender"
	"hookline/pkg/source"
)

// TestCloudEventsIdentity: who decides an incoming CloudEvent's id. A token's holder is
// trusted (ce-source + ce-id); with an HMAC the ids inside a signed structured body count,
// but binary mode's ce-* headers are unsigned, so there the body decides.
func TestCloudEventsIdentity(t *testing.T) {
	at := time.Unix(1700002000, 0)
	set, err := source.Parse([]byte(`{"sources": {
		"cetoken": {"scheme": "cloudevents", "secrets": ["ce-token-0123456789"]},
		"cehmac":  {"scheme": "cloudevents", "auth": "hmac-sha256", "header": "X-Signature", "secrets": ["ce-hmac-secret-0123456789"]}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	structured := `{"specversion":"1.0","id":"A-1","source":"urn:sender","type":"com.example.thing.done","region":"eu","data":{"n":1}}`
	binaryHeaders := func(id string) http.Header {
		return http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {id}, "Ce-Source": {"urn:sender"}, "Ce-Type": {"com.example.thing.done"}, "Ce-Region": {"eu"}}
	}
	post := func(t *testing.T, src string, r sender.Request) *event.Event {
		t.Helper()
		pub := &publishertest.Recorder{}
		h := &lambdaio.IngestHandler{Service: &pipeline.Ingest{Sources: set, Publisher: pub, Now: func() time.Time { return at }}, Log: quiet()}
		signed, err := sender.Sign(r)
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := h.Handle(t.Context(), apiRequest(src, signed, r.Body, "203.0.113.9"))
		if resp.StatusCode != 202 || pub.Len() != 1 {
			t.Fatalf("got %d %s, %d published", resp.StatusCode, resp.Body, pub.Len())
		}
		e, err := event.Decode(pub.All()[0].Body)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	tok := sender.Request{Scheme: sender.CloudEvents, Secret: "ce-token-0123456789"}
	hm := sender.Request{Scheme: sender.CloudEvents, Secret: "ce-hmac-secret-0123456789", HMAC: sender.HMACOptions{Header: "X-Signature"}}

	r := tok
	r.Body, r.ContentType = []byte(structured), "application/cloudevents+json"
	e := post(t, "cetoken", r)
	if e.ID != event.DeliveryID("cetoken", "urn:sender\nA-1") || e.Verification.SignedID || e.Type != "com.example.thing.done" {
		t.Errorf("token structured: id %s signed %v type %s", e.ID, e.Verification.SignedID, e.Type)
	}
	if len(e.Extensions) != 2 || e.Extensions[0].Name != event.ExtSenderSource || e.Extensions[1].Name != "region" {
		t.Errorf("extensions %+v", e.Extensions)
	}

	r = hm
	r.Body, r.ContentType = []byte(structured), "application/cloudevents+json"
	if e := post(t, "cehmac", r); e.ID != event.DeliveryID("cehmac", "urn:sender\nA-1") || !e.Verification.SignedID {
		t.Errorf("hmac structured: id %s signed %v", e.ID, e.Verification.SignedID)
	}

	// Binary with an HMAC: a new ce-id on the same signed body is a replay, not a new event.
	var ids []string
	for _, id := range []string{"B-1", "B-2"} {
		r = hm
		r.Body, r.ContentType, r.Header = []byte(`{"n":2}`), "application/json", binaryHeaders(id)
		e := post(t, "cehmac", r)
		ids = append(ids, e.ID)
		if e.DeliveryID != id || string(e.Data) != `{"n":2}` {
			t.Errorf("binary %s: delivery %q data %s", id, e.DeliveryID, e.Data)
		}
	}
	if ids[0] != ids[1] || ids[0] != event.BodyID("cehmac", []byte(`{"n":2}`)) {
		t.Errorf("hmac binary ids %v: want both the body's id", ids)
	}
	// With a token the ce-id is trusted: two ids, two events.
	ids = nil
	for _, id := range []string{"B-1", "B-2"} {
		r = tok
		r.Body, r.ContentType, r.Header = []byte(`{"n":2}`), "application/json", binaryHeaders(id)
		ids = append(ids, post(t, "cetoken", r).ID)
	}
	if ids[0] == ids[1] {
		t.Errorf("token binary: two ce-ids gave one id")
	}
}

// TestCloudEventsRefusals: malformed CloudEvents are refused whole, with a problem naming the
// entry, and nothing is published.
func TestCloudEventsRefusals(t *testing.T) {
	set, err := source.Parse([]byte(`{"sources": {"ce": {"scheme": "cloudevents", "secrets": ["ce-token-0123456789"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ct, body, detail string
	}{
		{"no type", "application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"s"}`, "type is missing"},
		{"old spec", "application/cloudevents+json", `{"specversion":"0.3","id":"1","source":"s","type":"t"}`, "CloudEvents 1.0"},
		{"reserved extension", "application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"s","type":"t","receivedat":"x"}`, "hookline sets itself"},
		{"object extension", "application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"s","type":"t","meta":{"a":1}}`, "strings, numbers or booleans"},
		{"bad batch entry", "application/cloudevents-batch+json", `[{"specversion":"1.0","id":"1","source":"s","type":"t"},{"specversion":"1.0","id":"2","source":"s"}]`, "event 1: type is missing"},
		{"duplicate in batch", "application/cloudevents-batch+json", `[{"specversion":"1.0","id":"1","source":"s","type":"t"},{"specversion":"1.0","id":"1","source":"s","type":"t"}]`, "same source and id"},
		{"not a cloudevent", "application/json", `{"a":1}`, "not a CloudEvent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &publishertest.Recorder{}
			h := &lambdaio.IngestHandler{Service: &pipeline.Ingest{Sources: set, Publisher: pub}, Log: quiet()}
			hdr := http.Header{"Content-Type": {tt.ct}, "Authorization": {"Bearer ce-token-0123456789"}}
			resp, _ := h.Handle(t.Context(), apiRequest("ce", hdr, []byte(tt.body), "203.0.113.9"))
			if resp.StatusCode != 400 || !strings.Contains(resp.Body, tt.detail) || pub.Len() != 0 {
				t.Errorf("got %d %s (%d published), want 400 naming %q", resp.StatusCode, resp.Body, pub.Len(), tt.detail)
			}
		})
	}
}

type memBlobs map[string][]byte

func (m memBlobs) Put(_ context.Context, key string, body []byte, _ string) (string, error) {
	m[key] = body
	return "mem:" + key, nil
}

// TestCloudEventsBinaryClaimCheck: a binary-mode event whose data is over the bus limit goes to
// the blob store like any large body; the envelope names it.
func TestCloudEventsBinaryClaimCheck(t *testing.T) {
	set, err := source.Parse([]byte(`{"sources": {"ce": {"scheme": "cloudevents", "secrets": ["ce-token-0123456789"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	pub, blobs := &publishertest.Recorder{}, memBlobs{}
	h := &lambdaio.IngestHandler{Service: &pipeline.Ingest{Sources: set, Publisher: pub, Blobs: blobs}, Log: quiet()}
	body := []byte(`{"pad":"` + strings.Repeat("x", pipeline.MaxMessageBytes) + `"}`)
	hdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer ce-token-0123456789"},
		"Ce-Specversion": {"1.0"}, "Ce-Id": {"big-1"}, "Ce-Source": {"urn:s"}, "Ce-Type": {"com.example.big"}}
	resp, _ := h.Handle(context.Background(), apiRequest("ce", hdr, body, "203.0.113.9"))
	if resp.StatusCode != 202 || pub.Len() != 1 || len(blobs) != 1 {
		t.Fatalf("got %d %s, %d published, %d blobs", resp.StatusCode, resp.Body, pub.Len(), len(blobs))
	}
	e, err := event.Decode(pub.All()[0].Body)
	if err != nil || !strings.HasPrefix(e.DataRef, "mem:events/ce/") || e.Data != nil {
		t.Fatalf("envelope %+v, %v", e, err)
	}
}
