package lambdaio_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"hookline/pkg/lambdarun"
	"hookline/pkg/metrics"
	"hookline/pkg/pipeline"
	"hookline/pkg/source"
)

// body1KiB is a 1 KiB GitHub-like JSON body.
var body1KiB = func() string {
	var b strings.Builder
	b.WriteString(`{"ref":"refs/heads/main","repository":{"full_name":"octo/hello"},"commits":[`)
	for b.Len() < 1024-40 {
		b.WriteString(`{"id":"0123456789abcdef","message":"fix"},`)
	}
	s := strings.TrimSuffix(b.String(), ",") + `],"pad":"`
	return s + strings.Repeat("x", 1024-len(s)-2) + `"}`
}()

type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, pipeline.Message) error { return nil }

// BenchmarkIngest1KiB runs the whole ingest handler as on AWS: API Gateway v2 request in,
// response out, GitHub scheme, 1 KiB JSON body, a publisher that does nothing, the request's
// one log line with its EMF metrics written by the Lambda log handler to io.Discard.
func BenchmarkIngest1KiB(b *testing.B) {
	if len(body1KiB) != 1024 || !json.Valid([]byte(body1KiB)) {
		b.Fatalf("fixture is %d bytes, valid=%v", len(body1KiB), json.Valid([]byte(body1KiB)))
	}
	h := newHandler(b, nopPublisher{}, io.Discard)
	h.Log = slog.New(lambdarun.ColdStartHandler(lambdarun.LogHandler(io.Discard, slog.LevelInfo))) // lambdarun.Start's
	h.Metrics = &metrics.EMF{W: io.Discard}
	// One secret, like the floor's one HMAC. (The test config also holds a retired secret to
	// test rotation; every secret tried before the match costs one more HMAC of the body.)
	set, err := source.Parse([]byte(`{"sources":{"github":{"scheme":"github","secrets":["` + ghSecret + `"]}}}`))
	if err != nil {
		b.Fatal(err)
	}
	h.Service.Sources = set
	req := githubRequest(body1KiB, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	req.RequestContext.HTTP.SourceIP = "192.30.252.41" // API Gateway always sends the caller's address
	ctx := context.Background()
	b.SetBytes(int64(len(body1KiB)))
	b.ReportAllocs()
	for b.Loop() {
		resp, _ := h.Handle(ctx, req)
		if resp.StatusCode != 202 {
			b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
	}
}

// BenchmarkFloor1KiB is the least any ingest must do: HMAC-SHA256 of the body and json.Valid.
func BenchmarkFloor1KiB(b *testing.B) {
	key, body := []byte(ghSecret), []byte(body1KiB)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var sum [sha256.Size]byte
	for b.Loop() {
		mac := hmac.New(sha256.New, key)
		mac.Write(body)
		mac.Sum(sum[:0])
		if !json.Valid(body) {
			b.Fatal("invalid")
		}
	}
}
