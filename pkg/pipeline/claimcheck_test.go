package pipeline_test

import (
	"context"
	"strings"
	"testing"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/publishertest"
	"hookline/pkg/sender"
	"hookline/pkg/source"
)

// blobs is a BlobStore that keeps what it is given.
type blobs struct {
	put   map[string][]byte
	type_ map[string]string // the content type each body was put with
}

func (b *blobs) Put(_ context.Context, key string, body []byte, contentType string) (string, error) {
	if b.put == nil {
		b.put, b.type_ = map[string][]byte{}, map[string]string{}
	}
	b.put[key], b.type_[key] = body, contentType
	return "blob:" + key, nil
}

// TestClaimCheckContentType: a claim-checked body is stored as JSON, text or bytes, by how the
// envelope keeps it, whatever Content-Type the sender gave (S3 serves the object with it to
// whoever follows data_url, and a browser would run an HTML or SVG body's script); the
// envelope keeps the sender's.
func TestClaimCheckContentType(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", pipeline.MaxMessageBytes)
	for _, tc := range []struct{ sent, body, stored string }{
		{"application/json", `{"a":"` + big + `"}`, "application/json"},
		{"application/vnd.api+json; charset=utf-8", `"` + big + `"`, "application/json"}, // a JSON string is still JSON
		{"", `{"a":"` + big + `"}`, "application/json"},
		{"text/html; charset=utf-8", "<script>alert(1)</script>" + big, "text/plain; charset=utf-8"},
		{"image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">` + big + "</svg>", "text/plain; charset=utf-8"},
		{"text/plain", big, "text/plain; charset=utf-8"},
		{"text/html", "\xff<script>alert(1)</script>" + big, "application/octet-stream"}, // not UTF-8: bytes
		{"application/pdf", "%PDF-1.7" + big, "application/octet-stream"},
		{"text/html\x7fx", big, "text/plain; charset=utf-8"},
	} {
		bus, store := &publishertest.Recorder{}, &blobs{}
		in := &pipeline.Ingest{Sources: ingestSources(t), Publisher: bus, Blobs: store, MaxBody: pipeline.LambdaPayloadBytes,
			Now: newIngest(t, bus).Now}
		req := handRequest(tc.body)
		req.Header.(header)["content-type"] = tc.sent
		if _, err := in.Accept(context.Background(), req); err != nil {
			t.Fatalf("%q: %v", tc.sent, err)
		}
		e, err := event.Decode(bus.All()[0].Body)
		if err != nil {
			t.Fatal(err)
		}
		key := strings.TrimPrefix(e.DataRef, "blob:")
		if got := store.type_[key]; e.DataRef == "" || got != tc.stored || string(store.put[key]) != tc.body {
			t.Errorf("sent as %q: stored as %q (dataref %q); want %q, the body as sent", tc.sent, got, e.DataRef, tc.stored)
		}
		if want := tc.sent; want != "" && e.DataContentType != want {
			t.Errorf("sent as %q: the envelope says %q", tc.sent, e.DataContentType)
		}
	}
}

// TestClaimCheckBoundary: with a blob store, a body whose envelope would be one byte over a
// bus message travels as a reference; one byte less travels inline.
func TestClaimCheckBoundary(t *testing.T) {
	t.Parallel()
	bus := &publishertest.Recorder{}
	store := &blobs{}
	in := &pipeline.Ingest{Sources: ingestSources(t), Publisher: bus, Blobs: store, MaxBody: pipeline.LambdaPayloadBytes,
		Now: newIngest(t, bus).Now}
	const probe = 100
	if _, err := in.Accept(context.Background(), handRequest(jsonBody(probe))); err != nil {
		t.Fatal(err)
	}
	fits := probe + pipeline.MaxMessageBytes - bus.All()[0].Size() // the largest inline body
	for _, tc := range []struct {
		n       int
		claimed bool
	}{{fits, false}, {fits + 1, true}} {
		if _, err := in.Accept(context.Background(), handRequest(jsonBody(tc.n))); err != nil {
			t.Fatalf("%d-byte body: %v", tc.n, err)
		}
		m := bus.All()[bus.Len()-1]
		e, err := event.Decode(m.Body)
		if err != nil {
			t.Fatal(err)
		}
		if claimed := e.DataRef != ""; claimed != tc.claimed || m.Size() > pipeline.MaxMessageBytes {
			t.Errorf("%d-byte body: dataref %q, message %d bytes; want claim-checked %v, within %d", tc.n, e.DataRef, m.Size(), tc.claimed, pipeline.MaxMessageBytes)
		}
	}
	if len(store.put) != 1 {
		t.Errorf("%d bodies in the blob store, want 1", len(store.put))
	}
}

// TestTwilioURL: a Twilio source verifies the URL the sender requested — the configured url,
// or the forwarded scheme, Host and path — with the request's query.
func TestTwilioURL(t *testing.T) {
	t.Parallel()
	const token = "twilio-auth-token-0123"
	set, err := source.Parse([]byte(`{"sources":{
		"tw": {"scheme":"twilio","secrets":["` + token + `"]},
		"twu": {"scheme":"twilio","url":"https://public.example.com/hooks/twu","secrets":["` + token + `"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	bus := &publishertest.Recorder{}
	in := &pipeline.Ingest{Sources: set, Publisher: bus}
	body := []byte("MessageStatus=sent&To=%2B15550001")
	for _, tc := range []struct{ src, signedURL, rawPath string }{
		{"tw", "http://hooks.example.com/webhooks/tw?a=1", "/webhooks/tw"},
		{"twu", "https://public.example.com/hooks/twu?a=1", "/webhooks/twu"},
	} {
		h, err := sender.Sign(sender.Request{Scheme: sender.Twilio, Secret: token, Body: body, URL: tc.signedURL,
			ContentType: "application/x-www-form-urlencoded"})
		if err != nil {
			t.Fatal(err)
		}
		headers := map[string]string{"host": "hooks.example.com", "x-forwarded-proto": "http"}
		for k := range h {
			headers[strings.ToLower(k)] = h.Get(k)
		}
		_, err = in.Accept(context.Background(), pipeline.IngestRequest{Source: tc.src, Header: mapHeader(headers), Body: body,
			RawPath: tc.rawPath, RawQuery: "a=1"})
		if err != nil {
			t.Errorf("%s signed for %s: %v", tc.src, tc.signedURL, err)
		}
	}
	if bus.Len() != 2 {
		t.Errorf("%d published, want 2", bus.Len())
	}
}
