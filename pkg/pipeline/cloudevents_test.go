package pipeline_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/publishertest"
	"hookline/pkg/source"
)

const ceToken = "ce-token-0123456789"

// ceRequest is a token-authenticated CloudEvents post with the given content type and extra
// headers.
func ceRequest(ct, body string, extra map[string]string) pipeline.IngestRequest {
	h := header{"authorization": "Bearer " + ceToken, "content-type": ct}
	for k, v := range extra {
		h[k] = v
	}
	return pipeline.IngestRequest{Source: "ce", Header: h, Body: []byte(body)}
}

func ceIngest(t *testing.T) (*pipeline.Ingest, *publishertest.Recorder) {
	t.Helper()
	set, err := source.Parse([]byte(`{"sources":{"ce":{"scheme":"cloudevents","secrets":["` + ceToken + `"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	b := &publishertest.Recorder{}
	return &pipeline.Ingest{Sources: set, Publisher: b, Now: func() time.Time { return received }}, b
}

// TestCloudEventsData: what each content mode's data becomes in the envelope, with the
// defaults the CloudEvents JSON format gives a missing datacontenttype.
func TestCloudEventsData(t *testing.T) {
	t.Parallel()
	at := "2026-11-30T10:00:00.5+01:00"
	for _, tc := range []struct {
		name, ct, body string
		extra          map[string]string
		wantCT         string
		wantData       string // the JSON data, or the base64 bytes as a string
		wantTime       time.Time
	}{
		{name: "structured JSON, no datacontenttype", ct: "application/cloudevents+json",
			body:   `{"specversion":"1.0","id":"1","source":"urn:s","type":"t","time":"` + at + `","data":{"a":1}}`,
			wantCT: "application/json", wantData: `{"a":1}`, wantTime: time.Date(2026, 11, 30, 9, 0, 0, 5e8, time.UTC)},
		{name: "structured text", ct: "application/cloudevents+json; charset=utf-8",
			body:   `{"specversion":"1.0","id":"1","source":"urn:s","type":"t","datacontenttype":"text/plain","data":"hi"}`,
			wantCT: "text/plain", wantData: `"hi"`, wantTime: received},
		{name: "structured base64, no datacontenttype", ct: "application/cloudevents+json",
			body:   `{"specversion":"1.0","id":"1","source":"urn:s","type":"t","data_base64":"AAE="}`,
			wantCT: "application/octet-stream", wantData: "\x00\x01", wantTime: received},
		{name: "structured null data", ct: "application/cloudevents+json",
			body:   `{"specversion":"1.0","id":"1","source":"urn:s","type":"t","datacontenttype":"application/json","data":null}`,
			wantCT: "application/json", wantTime: received},
		{name: "structured without data", ct: "application/cloudevents+json",
			body:     `{"specversion":"1.0","id":"1","source":"urn:s","type":"t"}`,
			wantTime: received},
		{name: "binary", ct: "application/json", body: `{"b":2}`,
			extra:  map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "urn:s", "ce-type": "t", "ce-time": at},
			wantCT: "application/json", wantData: `{"b":2}`, wantTime: time.Date(2026, 11, 30, 9, 0, 0, 5e8, time.UTC)},
	} {
		in, b := ceIngest(t)
		acc, err := in.Accept(context.Background(), ceRequest(tc.ct, tc.body, tc.extra))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		e, err := event.Decode(b.All()[0].Body)
		if err != nil {
			t.Fatalf("%s: envelope: %v", tc.name, err)
		}
		data := string(e.Data)
		if e.DataBase64 != nil {
			data = string(e.DataBase64)
		}
		if e.DataContentType != tc.wantCT || data != tc.wantData || !e.Time.Equal(tc.wantTime) || e.Time.Location() != time.UTC {
			t.Errorf("%s: content type %q, data %q, time %v; want %q, %q, %v (UTC)", tc.name, e.DataContentType, data, e.Time, tc.wantCT, tc.wantData, tc.wantTime)
		}
		if want := event.DeliveryID("ce", "urn:s\n1"); acc.ID != want || e.ID != want || acc.Batch || len(acc.IDs) != 1 {
			t.Errorf("%s: accepted %+v, event id %s; want the one id %s, no batch", tc.name, acc, e.ID, want)
		}
	}
}

// TestCloudEventsBatch: a batch is answered as one, every entry published in order; a batch
// with no events or with a repeated source and id is refused whole.
func TestCloudEventsBatch(t *testing.T) {
	t.Parallel()
	in, b := ceIngest(t)
	acc, err := in.Accept(context.Background(), ceRequest("application/cloudevents-batch+json",
		`[{"specversion":"1.0","id":"1","source":"urn:a","type":"t1"},{"specversion":"1.0","id":"1","source":"urn:b","type":"t2"}]`, nil))
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{event.DeliveryID("ce", "urn:a\n1"), event.DeliveryID("ce", "urn:b\n1")}
	if !acc.Batch || strings.Join(acc.IDs, ",") != strings.Join(ids, ",") || acc.ID != ids[0] || acc.Type != "t1" || b.Len() != 2 {
		t.Errorf("accepted %+v, %d published; want a batch of %v", acc, b.Len(), ids)
	}
	for body, want := range map[string]string{
		`[]`: "the batch holds no events",
		`[{"specversion":"1.0","id":"1","source":"urn:a","type":"t"},{"specversion":"1.0","id":"1","source":"urn:a","type":"u"}]`: `events 0 and 1 have the same source and id "1"`,
		`[{"specversion":"1.0","id":"1","source":"urn:a","type":"t"},{"specversion":"0.3","id":"2","source":"urn:a","type":"t"}]`: `event 1: specversion is "0.3"`,
		`{"specversion":"1.0"}`: "a application/cloudevents-batch+json body is a JSON array of events",
	} {
		_, err := in.Accept(context.Background(), ceRequest("application/cloudevents-batch+json", body, nil))
		if pipeline.KindOf(err) != pipeline.KindInvalid || !strings.Contains(pipeline.DetailOf(err), want) {
			t.Errorf("batch %s: %v; want invalid, %q", body, err, want)
		}
	}
	// The most a batch may hold is taken; one more is refused whole, as too large.
	batch := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf(`{"specversion":"1.0","id":"%d","source":"urn:n%d","type":"t"}`, i, n)
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	if acc, err := in.Accept(context.Background(), ceRequest("application/cloudevents-batch+json", batch(pipeline.MaxBatchEvents), nil)); err != nil || len(acc.IDs) != pipeline.MaxBatchEvents {
		t.Errorf("a batch of %d: %v, %d ids", pipeline.MaxBatchEvents, err, len(acc.IDs))
	}
	_, err = in.Accept(context.Background(), ceRequest("application/cloudevents-batch+json", batch(pipeline.MaxBatchEvents+1), nil))
	if want := "the batch holds 101 events; at most 100 are taken per request: send it in parts"; pipeline.KindOf(err) != pipeline.KindTooLarge || pipeline.DetailOf(err) != want {
		t.Errorf("a batch of %d: %v; want too large, %q", pipeline.MaxBatchEvents+1, err, want)
	}
	if want := 2 + pipeline.MaxBatchEvents; b.Len() != want {
		t.Errorf("%d published after the refused batches, want %d", b.Len(), want)
	}
}

// TestCloudEventsRefusals: each refused post says what was wrong and publishes nothing.
func TestCloudEventsRefusals(t *testing.T) {
	t.Parallel()
	in, b := ceIngest(t)
	bin := func(kv ...string) map[string]string {
		m := map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "urn:s", "ce-type": "t"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name, ct, body string
		extra          map[string]string
		want           string
	}{
		{"plain JSON", "application/json", `{}`, nil, "not a CloudEvent"},
		{"not an object", "application/cloudevents+json", `[1]`, nil, "not a JSON object"},
		{"id not a string", "application/cloudevents+json", `{"specversion":"1.0","id":1,"source":"urn:s","type":"t"}`, nil, "id is not a string"},
		{"no id", "application/cloudevents+json", `{"specversion":"1.0","source":"urn:s","type":"t"}`, nil, "id is missing"},
		{"no source", "application/cloudevents+json", `{"specversion":"1.0","id":"1","type":"t"}`, nil, "source is missing"},
		{"no type", "application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"urn:s"}`, nil, "type is missing"},
		{"bad time", "application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"urn:s","type":"t","time":"yesterday"}`, nil, `time "yesterday" is not RFC 3339`},
		{"data_base64 not a string", "application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"urn:s","type":"t","data_base64":1}`, nil, "data_base64 is not a string"},
		{"data_base64 not base64", "application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"urn:s","type":"t","data_base64":"!"}`, nil, "data_base64 is not base64"},
		{"both data members", "application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"urn:s","type":"t","data_base64":"AAE=","data":1}`, nil, "both data and data_base64"},
		{"binary bad time", "application/json", `{}`, bin("ce-time", "soon"), `ce-time "soon" is not RFC 3339`},
		{"binary no type", "application/json", `{}`, bin("ce-type", ""), "type is missing"},
		{"type too long", "application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"urn:s","type":"` + strings.Repeat("t", source.MaxMetaLen+1) + `"}`, nil, "type is 257 bytes; at most 256 are taken"},
		{"control character in the type", "application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"urn:s","type":"a\r\nBcc: x@y\u001b[2J"}`, nil, "type holds a control character"},
		{"control character in the id", "application/cloudevents+json", `{"specversion":"1.0","id":"1\u0000","source":"urn:s","type":"t"}`, nil, "id holds a control character"},
		{"C1 control character in the source", "application/cloudevents+json", `{"specversion":"1.0","id":"1","source":"urn:\u009b","type":"t"}`, nil, "source holds a control character"},
	} {
		_, err := in.Accept(context.Background(), ceRequest(tc.ct, tc.body, tc.extra))
		if pipeline.KindOf(err) != pipeline.KindInvalid || !strings.Contains(pipeline.DetailOf(err), tc.want) {
			t.Errorf("%s: %v; want invalid, %q", tc.name, err, tc.want)
		}
	}
	if b.Len() != 0 {
		t.Errorf("%d refused events published", b.Len())
	}
}

// namedHeader is a header that lists its names, as the HTTP adapters' headers do: binary
// mode reads its ce-* extensions from them.
type namedHeader struct{ header }

func (h namedHeader) Names() []string {
	names := make([]string, 0, len(h.header))
	for k := range h.header {
		names = append(names, k)
	}
	return names
}

// TestCloudEventsBinaryHMAC: in binary mode with an HMAC the ce-* headers are unsigned, so
// the id is the template's signed ce-id, or else the body; ce-* extensions are kept.
func TestCloudEventsBinaryHMAC(t *testing.T) {
	t.Parallel()
	const secret = "ce-hmac-secret-0123"
	set, err := source.Parse([]byte(`{"sources":{
		"withid": {"scheme":"cloudevents","auth":"hmac-sha256","header":"X-Sig","template":"{id}.{body}","secrets":["` + secret + `"]},
		"bodyonly": {"scheme":"cloudevents","auth":"hmac-sha256","header":"X-Sig","secrets":["` + secret + `"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	b := &publishertest.Recorder{}
	in := &pipeline.Ingest{Sources: set, Publisher: b, Now: func() time.Time { return received }}
	body := `{"n":1}`
	for _, tc := range []struct {
		src, signed, want string
	}{
		{"withid", "d-1." + body, event.DeliveryID("withid", "d-1")},
		{"bodyonly", body, event.BodyHashID("bodyonly", sha256.Sum256([]byte(body)))},
	} {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(tc.signed))
		h := namedHeader{header{"x-sig": hex.EncodeToString(mac.Sum(nil)), "content-type": "application/json",
			"ce-specversion": "1.0", "ce-id": "d-1", "ce-source": "urn:s", "ce-type": "t", "ce-region": "eu"}}
		acc, err := in.Accept(context.Background(), pipeline.IngestRequest{Source: tc.src, Header: h, Body: []byte(body)})
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		e, err := event.Decode(b.All()[len(b.All())-1].Body)
		if err != nil {
			t.Fatal(err)
		}
		region := ""
		for _, x := range e.Extensions {
			if x.Name == "region" {
				region = string(x.Value)
			}
		}
		if acc.ID != tc.want || e.ID != tc.want || !e.Verification.SignedID || region != `"eu"` {
			t.Errorf("%s: id %s (signed %v), region %s; want %s, signed, \"eu\"", tc.src, e.ID, e.Verification.SignedID, region, tc.want)
		}
	}
	h := namedHeader{header{"content-type": "application/json", "ce-specversion": "1.0", "ce-id": "d-1", "ce-source": "urn:s", "ce-type": "t", "ce-Bad_Name": "x"}}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	h.header["x-sig"] = hex.EncodeToString(mac.Sum(nil))
	if _, err := in.Accept(context.Background(), pipeline.IngestRequest{Source: "bodyonly", Header: h, Body: []byte(body)}); pipeline.KindOf(err) != pipeline.KindInvalid {
		t.Errorf("an extension header with a name CloudEvents does not allow: %v", err)
	}
}

// TestCloudEventsBusDownNamesTheEvent: when the bus fails, nothing is accepted (503) and the
// result names the event that failed, for the request's log line (every line has an id).
func TestCloudEventsBusDownNamesTheEvent(t *testing.T) {
	t.Parallel()
	in, b := ceIngest(t)
	b.Fail(errors.New("sns: 500"))
	acc, err := in.Accept(context.Background(), ceRequest("application/cloudevents-batch+json",
		`[{"specversion":"1.0","id":"1","source":"urn:a","type":"t1"},{"specversion":"1.0","id":"2","source":"urn:a","type":"t2"}]`, nil))
	if want := event.DeliveryID("ce", "urn:a\n1"); pipeline.KindOf(err) != pipeline.KindUnavailable || acc.ID != want || acc.Type != "t1" || acc.Source != "ce" || len(acc.IDs) != 0 {
		t.Errorf("Accept = %+v, %v; want unavailable, naming event %s (t1) of ce and accepting no ids", acc, err, want)
	}
}
