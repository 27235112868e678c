package fakeaws

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"hookline/internal/testenv"
	"hookline/pkg/awsjson"
)

const bucketName = "bodies"

// s3Client is the functions' S3 client (pkg/awsjson) of key, at endpoint; every connection
// goes to s, whatever host name the endpoint or a virtual-hosted bucket gives.
func s3Client(t *testing.T, s *Server, endpoint, key string) *awsjson.Client {
	t.Helper()
	cfg := config(key)
	cfg.BaseEndpoint = aws.String(endpoint)
	addr := strings.TrimPrefix(s.URL, "http://")
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	c, err := awsjson.New(context.Background(), cfg, awsjson.S3)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestS3PutAndGet: an object put path-style (an IP address endpoint) or virtual-hosted (a
// name) is stored under its bucket and key, escaped characters included, reads back the same,
// and each call is authorized as its IAM action on the object's ARN.
func TestS3PutAndGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := start(t, Options{})
	s.AddBucket(bucketName)
	port := s.URL[strings.LastIndex(s.URL, ":")+1:]
	for _, tc := range []struct{ style, endpoint, key string }{
		{"path", s.URL, "events/github/a b+c=d/1"},
		{"virtual-hosted", "http://localhost:" + port, "events/github/e~f%g/2"},
	} {
		c := s3Client(t, s, tc.endpoint, "AKIDINGEST")
		body := []byte(`{"big":"` + tc.style + `"}`)
		if err := c.PutObject(ctx, bucketName, tc.key, body, "application/json"); err != nil {
			t.Fatalf("%s: put: %v", tc.style, err)
		}
		o, ok := s.Object(bucketName, tc.key)
		if !ok || string(o.Body) != string(body) || o.ContentType != "application/json" {
			t.Errorf("%s: the bucket holds %+v (%v) under %q, want the body as application/json", tc.style, o, ok, tc.key)
		}
		got, err := c.GetObject(ctx, bucketName, tc.key, 0)
		if err != nil || string(got) != string(body) {
			t.Errorf("%s: get: %q %v, want %q", tc.style, got, err, body)
		}
		calls := s.Calls()
		arn := "arn:aws:s3:::" + bucketName + "/" + tc.key
		put, get := calls[len(calls)-2], calls[len(calls)-1]
		if put.Action != "s3:PutObject" || get.Action != "s3:GetObject" || put.Resources[0] != arn || get.Resources[0] != arn ||
			put.AccessKey != "AKIDINGEST" || put.Denied != nil || get.Denied != nil {
			t.Errorf("%s: calls %+v, %+v; want s3:PutObject then s3:GetObject on %s, allowed", tc.style, put, get, arn)
		}
	}
	if n := s.Count("s3:PutObject"); n != 2 {
		t.Errorf("s3:PutObject counted %d times, want 2", n)
	}
}

// TestS3RefusalsAnswerLikeS3: a refused call is S3's AccessDenied (403) and changes nothing; a
// missing key is NoSuchKey (404) only to a caller that may list the bucket; a bucket the
// account has not is NoSuchBucket; a body that does not match its checksum is refused.
func TestS3RefusalsAnswerLikeS3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := start(t, Options{Authorize: func(key, action string, _ []string, _ Keys) error {
		switch {
		case key == "AKIDHISTORY" && action == "s3:GetObject", key == "AKIDINGEST" && action == "s3:PutObject",
			key == "AKIDOPERATOR":
			return nil
		}
		return errors.New("no statement allows " + action)
	}})
	s.AddBucket(bucketName)
	code := func(err error) (string, int) {
		var e *awsjson.Error
		if !errors.As(err, &e) {
			return "", 0
		}
		return e.Code, e.Status
	}
	history, ingest, operator := s3Client(t, s, s.URL, "AKIDHISTORY"), s3Client(t, s, s.URL, "AKIDINGEST"), s3Client(t, s, s.URL, "AKIDOPERATOR")

	err := history.PutObject(ctx, bucketName, "events/x", []byte("forged"), "")
	if c, st := code(err); c != "AccessDenied" || st != http.StatusForbidden || !strings.Contains(err.Error(), "s3:PutObject") {
		t.Errorf("a put without s3:PutObject: %v, want AccessDenied (403) naming s3:PutObject", err)
	}
	if _, ok := s.Object(bucketName, "events/x"); ok {
		t.Error("a refused put stored the object")
	}
	if last := s.Calls()[len(s.Calls())-1]; last.Denied == nil || last.Action != "s3:PutObject" {
		t.Errorf("the last call %+v, want the refused s3:PutObject recorded", last)
	}
	if _, err := ingest.GetObject(ctx, bucketName, "events/x", 0); err == nil {
		t.Error("a get without s3:GetObject succeeded")
	}

	_, err = history.GetObject(ctx, bucketName, "events/missing", 0)
	if c, st := code(err); c != "AccessDenied" || st != http.StatusForbidden {
		t.Errorf("a missing key, asked by a role without s3:ListBucket: %v, want AccessDenied (403)", err)
	}
	_, err = operator.GetObject(ctx, bucketName, "events/missing", 0)
	if c, st := code(err); c != "NoSuchKey" || st != http.StatusNotFound {
		t.Errorf("a missing key, asked by a role with s3:ListBucket: %v, want NoSuchKey (404)", err)
	}
	err = ingest.PutObject(ctx, "no-such-bucket", "events/x", []byte("b"), "")
	if c, st := code(err); c != "NoSuchBucket" || st != http.StatusNotFound {
		t.Errorf("a put into a bucket that does not exist: %v, want NoSuchBucket (404)", err)
	}

	// Bodies that are not what the request says they are (sent by hand: awsjson cannot).
	signed := "AWS4-HMAC-SHA256 Credential=AKIDINGEST/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"
	for _, tc := range []struct{ header, value, code string }{
		{"X-Amz-Content-Sha256", strings.Repeat("0", 64), "XAmzContentSHA256Mismatch"},
		{"X-Amz-Checksum-Sha256", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "BadDigest"},
	} {
		req, _ := http.NewRequest(http.MethodPut, s.URL+"/"+bucketName+"/events/y", strings.NewReader("body"))
		req.Header.Set("Authorization", signed)
		req.Header.Set(tc.header, tc.value)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "<Code>"+tc.code+"</Code>") {
			t.Errorf("a put whose %s does not match: %d %s, want 400 %s", tc.header, resp.StatusCode, b, tc.code)
		}
	}
	if _, ok := s.Object(bucketName, "events/y"); ok {
		t.Error("a put with a wrong hash stored the object")
	}
}

// TestS3Presigned: a presigned GET carries its signer's credential in the query: it is
// authorized as the signer's s3:GetObject and refused once it has expired, or when its
// X-Amz-Expires is one S3 refuses.
func TestS3Presigned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := start(t, Options{Authorize: func(key, action string, _ []string, _ Keys) error {
		if key == "AKIDHISTORY" && action == "s3:GetObject" {
			return nil
		}
		return errors.New("no")
	}})
	s.AddBucket(bucketName)
	if err := s3Client(t, s, s.URL, "AKIDOPERATOR").PutObject(ctx, bucketName, "events/z", []byte("z"), ""); err == nil {
		t.Fatal("the operator may not put")
	}
	s.mu.Lock()
	s.buckets[bucketName]["events/z"] = Object{Body: []byte("zz"), ContentType: "text/plain"}
	s.mu.Unlock()
	link, err := s3Client(t, s, s.URL, "AKIDHISTORY").PresignGetObject(ctx, bucketName, "events/z", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if st, b := testenv.Get(t, link); st != http.StatusOK || b != "zz" {
		t.Errorf("the presigned link: %d %q, want 200 zz", st, b)
	}
	if last := s.Calls()[len(s.Calls())-1]; last.AccessKey != "AKIDHISTORY" || last.Action != "s3:GetObject" || last.Region != "us-east-1" {
		t.Errorf("the presigned GET was recorded as %+v, want AKIDHISTORY's s3:GetObject", last)
	}
	u, _ := url.Parse(link)
	q := u.Query()
	date := q.Get("X-Amz-Date")
	q.Set("X-Amz-Date", time.Now().Add(-2*time.Minute).UTC().Format("20060102T150405Z"))
	u.RawQuery = q.Encode()
	if st, b := testenv.Get(t, u.String()); st != http.StatusForbidden || !strings.Contains(b, "<Code>AccessDenied</Code>") || !strings.Contains(b, "expired") {
		t.Errorf("an expired link: %d %s, want 403 AccessDenied, expired", st, b)
	}
	q.Set("X-Amz-Date", date)
	// An X-Amz-Expires S3 refuses whatever the time: not a number, negative, over a week.
	for expires, want := range map[string]string{
		"":                      "should be a number",
		"60s":                   "should be a number",
		"1.5":                   "should be a number",
		"-60":                   "must be non-negative",
		"-99999999999999999999": "must be non-negative",
		"604801":                "must be less than a week",
		"99999999999999999999":  "must be less than a week",
	} {
		q.Set("X-Amz-Expires", expires)
		u.RawQuery = q.Encode()
		if st, b := testenv.Get(t, u.String()); st != http.StatusForbidden || !strings.Contains(b, "<Code>AuthorizationQueryParametersError</Code>") || !strings.Contains(b, want) {
			t.Errorf("X-Amz-Expires=%q: %d %s, want 403 AuthorizationQueryParametersError, %q", expires, st, b, want)
		}
	}
	q.Set("X-Amz-Expires", "604800") // a week, the longest S3 takes
	u.RawQuery = q.Encode()
	if st, b := testenv.Get(t, u.String()); st != http.StatusOK || b != "zz" {
		t.Errorf("a link for a week: %d %q, want 200 zz", st, b)
	}
	q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), "/s3/", "/sns/", 1))
	u.RawQuery = q.Encode()
	if st, b := testenv.Get(t, u.String()); st != http.StatusForbidden || !strings.Contains(b, "signed for service") {
		t.Errorf("a link signed for sns: %d %s, want 403", st, b)
	}
	other, _ := s3Client(t, s, s.URL, "AKIDOPERATOR").PresignGetObject(ctx, bucketName, "events/z", time.Minute)
	if st, _ := testenv.Get(t, other); st != http.StatusForbidden {
		t.Errorf("a link signed by a role without s3:GetObject: %d, want 403", st)
	}
}

// TestS3Unserved: a call the functions do not make is refused and listed, and a request signed
// for another service is refused.
func TestS3Unserved(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	s.AddBucket(bucketName)
	req, _ := http.NewRequest(http.MethodDelete, s.URL+"/"+bucketName+"/events/x", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDX/20260101/us-east-1/s3/aws4_request")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented || len(s.Unanswered()) != 1 {
		t.Errorf("a DeleteObject: %d, unanswered %v; want 501 and one unanswered call", resp.StatusCode, s.Unanswered())
	}
	req, _ = http.NewRequest(http.MethodGet, s.URL+"/"+bucketName+"/events/x", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDX/20260101/us-east-1/sns/aws4_request")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a GET signed for sns: %d, want 403", resp.StatusCode)
	}
}
