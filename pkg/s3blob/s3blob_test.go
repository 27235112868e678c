package s3blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"hookline/pkg/awsjson"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/s3blob"
	"hookline/pkg/sender"
	"hookline/pkg/source"
)

// fakeS3 is gofakes3 (an S3 server in Go) on 127.0.0.1 with one bucket (made by the SDK's
// client, which the test also uses to look at objects), and the store's awsjson client pointed
// at it: the adapter is tested on the wire.
func fakeS3(t *testing.T) (*awsjson.Client, *s3.Client, string) {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}
	sdk := s3.NewFromConfig(cfg)
	const bucket = "hookline-bodies"
	if _, err := sdk.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	client, err := awsjson.New(context.Background(), cfg, awsjson.S3)
	if err != nil {
		t.Fatal(err)
	}
	return client, sdk, bucket
}

func TestPutGetLink(t *testing.T) {
	client, sdk, bucket := fakeS3(t)
	store := &s3blob.Store{Client: client, Bucket: bucket}
	ctx := context.Background()
	body := make([]byte, 5<<20)
	if _, err := rand.Read(body); err != nil {
		t.Fatal(err)
	}
	ref, err := store.Put(ctx, "events/github/0b5e/abc", body, "application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	if ref != "s3://"+bucket+"/events/github/0b5e/abc" {
		t.Errorf("ref %q", ref)
	}
	got, err := store.Get(ctx, ref)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Get: %d bytes, %v; want the %d bytes put", len(got), err, len(body))
	}
	// The object carries the content type it was put with.
	head, err := sdk.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("events/github/0b5e/abc")})
	if err != nil || aws.ToString(head.ContentType) != "application/octet-stream" || aws.ToInt64(head.ContentLength) != int64(len(body)) {
		t.Errorf("head: %+v, %v", head, err)
	}
	// A presigned link fetches the same bytes with no credentials.
	link, err := store.Link(ctx, ref)
	if err != nil || !strings.Contains(link, "X-Amz-Signature=") || !strings.Contains(link, "X-Amz-Expires=900") {
		t.Fatalf("Link = %q, %v", link, err)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	viaLink, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(viaLink, body) {
		t.Errorf("GET link: %d, %d bytes", resp.StatusCode, len(viaLink))
	}
}

func TestGetMissingAndForeign(t *testing.T) {
	client, _, bucket := fakeS3(t)
	store := &s3blob.Store{Client: client, Bucket: bucket}
	ctx := context.Background()
	if _, err := store.Get(ctx, "s3://"+bucket+"/events/nope"); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("missing object: %v, want ErrNotFound", err)
	}
	if _, err := store.Get(ctx, "s3://other-bucket/events/x"); err == nil || errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("a reference into another bucket: %v, want a refusal", err)
	}
	if _, err := store.Link(ctx, "s3://other-bucket/x"); err == nil {
		t.Error("Link of a reference into another bucket succeeded")
	}
}

type lastMessage struct{ m pipeline.Message }

func (l *lastMessage) Publish(_ context.Context, m pipeline.Message) error { l.m = m; return nil }

// TestClaimCheckThroughS3: ingest with the S3 store puts a body over the bus limit into the
// bucket before it publishes, and the envelope names the object instead of carrying the body;
// ResolveData (what GET /events/{id} does) brings the body back.
func TestClaimCheckThroughS3(t *testing.T) {
	client, _, bucket := fakeS3(t)
	store := &s3blob.Store{Client: client, Bucket: bucket}
	set, err := source.Parse([]byte(`{"sources":{"github":{"scheme":"github","secrets":["s3-claim-check-secret"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"action":"opened","pad":"` + strings.Repeat("x", pipeline.MaxMessageBytes) + `"}`)
	h, err := sender.Sign(sender.Request{Scheme: sender.GitHub, Secret: "s3-claim-check-secret", Type: "issues", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	hdr := map[string]string{}
	for k := range h {
		hdr[strings.ToLower(k)] = h.Get(k)
	}
	pub := &lastMessage{}
	in := &pipeline.Ingest{Sources: set, Publisher: pub, Blobs: store}
	acc, err := in.Accept(context.Background(), pipeline.IngestRequest{Source: "github", Header: mapHeader(hdr), Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if pub.m.Size() > pipeline.MaxMessageBytes {
		t.Fatalf("published %d bytes, over the bus limit", pub.m.Size())
	}
	e, err := event.Decode(pub.m.Body)
	if err != nil || e.ID != acc.ID || !strings.HasPrefix(e.DataRef, "s3://"+bucket+"/events/github/"+acc.ID+"/") || e.Data != nil {
		t.Fatalf("envelope: %+v, %v", e, err)
	}
	back, err := pipeline.ResolveData(context.Background(), store, e)
	if err != nil || !bytes.Equal(back.Data, body) {
		t.Fatalf("ResolveData: %d bytes, %v", len(back.Data), err)
	}
}

type mapHeader map[string]string

func (h mapHeader) Get(k string) string { return h[k] }
