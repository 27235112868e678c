package awsjson_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"hookline/pkg/awsjson"
)

// recorded is one request as it reached the network.
type recorded struct {
	req  *http.Request
	body []byte
}

// recorder answers every request with 200 and body, and keeps the last one.
type recorder struct {
	mu   sync.Mutex
	last recorded
	body string
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	var b []byte
	if req.Body != nil {
		b, _ = io.ReadAll(req.Body)
	}
	r.mu.Lock()
	r.last = recorded{req, b}
	r.mu.Unlock()
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(r.body))}, nil
}

// sdkOnly are the headers the SDK adds for its own bookkeeping (an invocation id, the attempt
// count, its user agent): they carry nothing S3 acts on, and the adapter does not send them.
var sdkOnly = []string{"Amz-Sdk-Invocation-Id", "Amz-Sdk-Request", "User-Agent"}

// withoutBookkeeping is the SDK's request without sdkOnly, signed again as the SDK signed it
// (same time, payload hash, S3's unescaped path): the request the adapter must send.
func withoutBookkeeping(t *testing.T, sdk recorded, creds aws.Credentials) *http.Request {
	t.Helper()
	at, err := time.Parse("20060102T150405Z", sdk.req.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	resign := func(r *http.Request) *http.Request {
		r = r.Clone(context.Background())
		r.Header.Del("Authorization")
		if err := signer.SignHTTP(context.Background(), creds, r, r.Header.Get("X-Amz-Content-Sha256"), "s3", "eu-west-1", at); err != nil {
			t.Fatal(err)
		}
		return r
	}
	// The re-signing is the SDK's own: the request as recorded signs to its own Authorization.
	if got := resign(sdk.req).Header.Get("Authorization"); got != sdk.req.Header.Get("Authorization") {
		t.Fatalf("re-signing the SDK's request gives %s, not its own %s", got, sdk.req.Header.Get("Authorization"))
	}
	bare := sdk.req.Clone(context.Background())
	for _, h := range sdkOnly {
		bare.Header.Del(h)
	}
	return resign(bare)
}

// sameRequest reports how got differs from want: method, URL, every header, the body.
func sameRequest(t *testing.T, what string, got recorded, want *http.Request, wantBody []byte) {
	t.Helper()
	if got.req.Method != want.Method || got.req.URL.String() != want.URL.String() {
		t.Errorf("%s: %s %s, want %s %s", what, got.req.Method, got.req.URL, want.Method, want.URL)
	}
	names := map[string]bool{}
	for h := range got.req.Header {
		names[h] = true
	}
	for h := range want.Header {
		names[h] = true
	}
	for h := range names {
		if g, w := got.req.Header.Values(h), want.Header.Values(h); strings.Join(g, ",") != strings.Join(w, ",") {
			t.Errorf("%s: header %s = %q, want %q", what, h, g, w)
		}
	}
	if got.req.ContentLength != want.ContentLength || !bytes.Equal(got.body, wantBody) {
		t.Errorf("%s: body %d bytes (length %d), want %d (length %d)", what, len(got.body), got.req.ContentLength, len(wantBody), want.ContentLength)
	}
}

// TestSameRequestsAsTheSDK holds PutObject, GetObject and PresignGetObject to the SDK's S3
// client's (what s3blob used before): the same URL (virtual-hosted or path style by bucket and
// endpoint, the key's escaping, x-id), headers (payload hash, checksum, content type, session
// token, Expect: 100-continue from 2 MiB) and body, signed alike; the presigned URL byte for byte.
func TestSameRequestsAsTheSDK(t *testing.T) {
	ctx := context.Background()
	creds := aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", SessionToken: "token"}
	small := []byte(`{"action":"opened","pad":"xxxx"}`)
	large := bytes.Repeat([]byte("x"), 2<<20) // from 2 MiB the SDK sends Expect: 100-continue
	for _, endpoint := range []string{"", "http://127.0.0.1:9000", "http://localhost:9000", "https://s3.example.com/"} {
		for _, bucket := range []string{"hookline-bodies", "my.bucket", "Upper_Case", "abc", "z0-9", strings.Repeat("b", 63), strings.Repeat("c", 64), "ab", "-ab", "ab-"} {
			for _, key := range []string{"events/github/0b5e1a/01JD8Z/body", "events/gh/a b+c/é~x%2F(1)/AZaz09-_.~@`[{/"} {
				for i, contentType := range []string{"application/json", ""} {
					body := [][]byte{small, large}[i]
					sum := sha256.Sum256(body)
					name := fmt.Sprintf("%s %s %s %q %d bytes", endpoint, bucket, key, contentType, len(body))
					sdkHTTP, ourHTTP := &recorder{body: "object"}, &recorder{body: "object"}
					opts := s3.Options{Region: "eu-west-1", HTTPClient: sdkHTTP, Credentials: aws.NewCredentialsCache(staticCreds(creds))}
					cfg := aws.Config{Region: "eu-west-1", HTTPClient: ourHTTP, Credentials: staticCreds(creds)}
					if endpoint != "" {
						opts.BaseEndpoint, cfg.BaseEndpoint = aws.String(endpoint), aws.String(endpoint)
					}
					sdk := s3.New(opts)
					ours := client(t, cfg, awsjson.S3)

					in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
						ContentLength: aws.Int64(int64(len(body))), ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
						ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum[:]))}
					if contentType != "" {
						in.ContentType = aws.String(contentType)
					}
					if _, err := sdk.PutObject(ctx, in); err != nil {
						t.Fatalf("%s: SDK PutObject: %v", name, err)
					}
					awsjson.SetClock(ours, signedAt(t, sdkHTTP.last.req))
					if err := ours.PutObject(ctx, bucket, key, body, contentType); err != nil {
						t.Fatalf("%s: PutObject: %v", name, err)
					}
					sameRequest(t, "PutObject "+name, ourHTTP.last, withoutBookkeeping(t, sdkHTTP.last, creds), body)

					if _, err := sdk.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
						t.Fatalf("%s: SDK GetObject: %v", name, err)
					}
					awsjson.SetClock(ours, signedAt(t, sdkHTTP.last.req))
					got, err := ours.GetObject(ctx, bucket, key, 0)
					if err != nil || string(got) != "object" {
						t.Fatalf("%s: GetObject: %q, %v", name, got, err)
					}
					sameRequest(t, "GetObject "+name, ourHTTP.last, withoutBookkeeping(t, sdkHTTP.last, creds), nil)

					link, err := s3.NewPresignClient(sdk).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, s3.WithPresignExpires(15*time.Minute))
					if err != nil {
						t.Fatalf("%s: SDK presign: %v", name, err)
					}
					at, err := time.Parse("20060102T150405Z", queryOf(t, link.URL, "X-Amz-Date"))
					if err != nil {
						t.Fatal(err)
					}
					awsjson.SetClock(ours, func() time.Time { return at })
					ourLink, err := ours.PresignGetObject(ctx, bucket, key, 15*time.Minute)
					if err != nil || ourLink != link.URL {
						t.Errorf("%s: presigned\n %s, %v\nwant\n %s", name, ourLink, err, link.URL)
					}
				}
			}
		}
	}
}

type staticCreds aws.Credentials

func (c staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials(c), nil
}

func signedAt(t *testing.T, r *http.Request) func() time.Time {
	t.Helper()
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	return func() time.Time { return at }
}

func queryOf(t *testing.T, link, name string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req.URL.Query().Get(name)
}

// TestS3Errors: S3's XML error answers become *Error with S3's code, message and request id;
// 5xx and SlowDown are tried again (a PUT with the same body), a client error is not; a broken
// connection is tried again and then reported; an object over the limit is refused.
func TestS3Errors(t *testing.T) {
	const denied = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>req-403</RequestId><HostId>h</HostId></Error>`
	for _, tc := range []struct {
		name      string
		failures  int
		status    int
		answer    string
		wantCalls int32
		wantCode  string // "" wants success
	}{
		{"403 is not retried", 9, 403, denied, 1, "AccessDenied"},
		{"500 retried, then success", 1, 500, `<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>`, 2, ""},
		{"SlowDown retried, then success", 2, 503, `<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>`, 3, ""},
		{"503 past the attempts", 9, 503, `<Error><Code>ServiceUnavailable</Code></Error>`, 3, "ServiceUnavailable"},
		{"404 NoSuchKey", 9, 404, `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>k</Key></Error>`, 1, "NoSuchKey"},
		{"not XML", 9, 400, `<html>`, 1, "Bad Request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			var bodies []string
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				mu.Unlock()
				if int(calls.Add(1)) <= tc.failures {
					w.Header().Set("X-Amz-Request-Id", "req-hdr")
					w.WriteHeader(tc.status)
					_, _ = io.WriteString(w, tc.answer)
					return
				}
			}))
			defer srv.Close()
			err := client(t, config(srv.URL), awsjson.S3).PutObject(context.Background(), "b", "k", []byte("body"), "")
			if calls.Load() != tc.wantCalls {
				t.Errorf("%d calls, want %d", calls.Load(), tc.wantCalls)
			}
			for i, b := range bodies {
				if b != "body" {
					t.Errorf("attempt %d sent %q", i+1, b)
				}
			}
			var e *awsjson.Error
			switch {
			case tc.wantCode == "" && err != nil:
				t.Errorf("error %v, want success", err)
			case tc.wantCode != "" && (!errors.As(err, &e) || e.Code != tc.wantCode || e.Status != tc.status || e.Op != "PutObject" || e.Service != "S3"):
				t.Errorf("error %#v, want %s (HTTP %d) of S3 PutObject", err, tc.wantCode, tc.status)
			case tc.wantCode != "" && !strings.Contains(tc.answer, "<RequestId>") && e.RequestID != "req-hdr":
				t.Errorf("request id %q, want the header's when the answer has none", e.RequestID)
			}
		})
	}
	t.Run("request id and message", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(403)
			_, _ = io.WriteString(w, denied)
		}))
		defer srv.Close()
		_, err := client(t, config(srv.URL), awsjson.S3).GetObject(context.Background(), "b", "k", 0)
		var e *awsjson.Error
		if !errors.As(err, &e) || e.Message != "Access Denied" || e.RequestID != "req-403" || e.Op != "GetObject" {
			t.Errorf("%#v", err)
		}
	})
	t.Run("network error", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		url := srv.URL
		srv.Close() // nothing listens there any more
		var dials atomic.Int32
		cfg := config(url)
		cfg.HTTPClient = roundTrip(func(r *http.Request) (*http.Response, error) {
			dials.Add(1)
			return http.DefaultTransport.RoundTrip(r)
		})
		err := client(t, cfg, awsjson.S3).PutObject(context.Background(), "b", "k", []byte("body"), "")
		if err == nil || dials.Load() != 3 || !strings.Contains(err.Error(), "S3 PutObject") {
			t.Errorf("%d attempts, %v; want 3 and the refusal", dials.Load(), err)
		}
	})
	t.Run("over the limit", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "0123456789")
		}))
		defer srv.Close()
		c := client(t, config(srv.URL), awsjson.S3)
		if b, err := c.GetObject(context.Background(), "b", "k", 9); err == nil {
			t.Errorf("10 bytes with a limit of 9: %q", b)
		}
		if b, err := c.GetObject(context.Background(), "b", "k", 10); err != nil || string(b) != "0123456789" {
			t.Errorf("10 bytes with a limit of 10: %q, %v", b, err)
		}
		// The largest limit there is: the whole answer, not an overflowed count that reads nothing.
		if b, err := c.GetObject(context.Background(), "b", "k", math.MaxInt64); err != nil || string(b) != "0123456789" {
			t.Errorf("10 bytes with a limit of MaxInt64: %q, %v", b, err)
		}
	})
	t.Run("presigned link's lifetime", func(t *testing.T) {
		// S3 takes an X-Amz-Expires of 1 to 604800 seconds; a link outside that is refused
		// when it is used, so it is not made.
		c := client(t, config("http://127.0.0.1:1"), awsjson.S3)
		for _, ttl := range []time.Duration{-time.Minute, 0, 999 * time.Millisecond, 7*24*time.Hour + time.Second} {
			if link, err := c.PresignGetObject(context.Background(), "b", "k", ttl); err == nil || !strings.Contains(err.Error(), "a link lasts 1s to 168h0m0s") {
				t.Errorf("ttl %v: %q, %v; want it refused", ttl, link, err)
			}
		}
		for ttl, want := range map[time.Duration]string{time.Second: "X-Amz-Expires=1&", 7 * 24 * time.Hour: "X-Amz-Expires=604800&"} {
			if link, err := c.PresignGetObject(context.Background(), "b", "k", ttl); err != nil || !strings.Contains(link, want) {
				t.Errorf("ttl %v: %q, %v; want a link with %s", ttl, link, err, want)
			}
		}
	})
	t.Run("no bucket or key", func(t *testing.T) {
		c := client(t, config("http://127.0.0.1:1"), awsjson.S3)
		if err := c.PutObject(context.Background(), "", "k", nil, ""); err == nil {
			t.Error("PutObject without a bucket")
		}
		if _, err := c.GetObject(context.Background(), "b", "", 0); err == nil {
			t.Error("GetObject without a key")
		}
	})
}

// TestXMLErrorRequestID: an XML error answer without a RequestId element has the id its header
// gives: SNS's X-Amzn-RequestId, S3's X-Amz-Request-Id.
func TestXMLErrorRequestID(t *testing.T) {
	for _, header := range []string{"X-Amzn-RequestId", "X-Amz-Request-Id"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(header, "req-h")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `<ErrorResponse><Error><Code>InvalidParameter</Code></Error></ErrorResponse>`)
		}))
		cfg := config(srv.URL)
		cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
		err := client(t, cfg, awsjson.SNS).Post(context.Background(), "Publish", nil)
		srv.Close()
		var e *awsjson.Error
		if !errors.As(err, &e) || e.Code != "InvalidParameter" || e.RequestID != "req-h" {
			t.Errorf("%s: %#v, want InvalidParameter with request id req-h", header, err)
		}
	}
}
