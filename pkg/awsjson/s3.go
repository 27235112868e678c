package awsjson

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// S3's three object calls the claim check makes (pkg/s3blob), as the SDK's S3 client makes
// them: PutObject (the ingest function), GetObject and a presigned GetObject (history). They
// are REST calls on the object's URL, signed with UNSIGNED-PAYLOAD over HTTPS (the body's
// SHA-256 travels as its checksum) and with the body's hash over plain HTTP, as the SDK does.
// Bucket addressing is the SDK's default: virtual-hosted ("bucket.s3.region.amazonaws.com/key")
// when the bucket name is a DNS label and the endpoint's host is not an IP address, else path
// style ("s3.region.amazonaws.com/bucket/key"). Not done: access points and ARNs, S3 Express,
// Transfer Acceleration, dual-stack/FIPS endpoints, forced path style.

// continueBytes is the size from which a PUT asks S3 to accept it before its body is sent
// (Expect: 100-continue), as the SDK's S3 client does by default.
const continueBytes = 2 << 20

// emptySHA256 is the hex SHA-256 of no bytes: what a GET signs as its payload.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// PutObject stores body under key in bucket, with its SHA-256 for S3 to check and contentType
// ("" is application/octet-stream). Retries and errors as Call's; an S3 error answer is an *Error with S3's code.
func (c *Client) PutObject(ctx context.Context, bucket, key string, body []byte, contentType string) error {
	u, err := c.objectURL(bucket, key, "PutObject")
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	checksum := base64.StdEncoding.EncodeToString(sum[:])
	if contentType == "" {
		contentType = "application/octet-stream" // what the SDK sends: S3's default
	}
	payload := "UNSIGNED-PAYLOAD"
	if u.Scheme != "https" {
		payload = fmt.Sprintf("%x", sum)
	}
	return c.retry(ctx, func() error {
		_, err := c.once(ctx, request{op: "PutObject", method: http.MethodPut, url: u.String(), body: body, payload: payload,
			headers: func(h http.Header) {
				h.Set("Accept-Encoding", "identity")
				h.Set("Content-Type", contentType)
				h.Set("X-Amz-Checksum-Sha256", checksum)
				h.Set("X-Amz-Sdk-Checksum-Algorithm", "SHA256")
				if len(body) >= continueBytes {
					h.Set("Expect", "100-continue")
				}
			}, readError: xmlError})
		return err
	})
}

// GetObject reads the object key in bucket, at most limit bytes (an object over it is an
// error; 0: no limit). A missing object is an *Error with code NoSuchKey.
func (c *Client) GetObject(ctx context.Context, bucket, key string, limit int64) ([]byte, error) {
	u, err := c.objectURL(bucket, key, "GetObject")
	if err != nil {
		return nil, err
	}
	var body []byte
	err = c.retry(ctx, func() error {
		var err error
		body, err = c.once(ctx, request{op: "GetObject", method: http.MethodGet, url: u.String(), payload: emptySHA256,
			headers: func(h http.Header) { h.Set("Accept-Encoding", "identity") }, readError: xmlError, limit: limit})
		return err
	})
	return body, err
}

// maxPresignTTL is the longest a SigV4 presigned URL may last: S3 refuses an X-Amz-Expires
// over 604,800 seconds.
const maxPresignTTL = 7 * 24 * time.Hour

// PresignGetObject returns a URL that GETs the object key in bucket without credentials for
// ttl (whole seconds, 1 s to 7 days), signed now with the client's credentials.
func (c *Client) PresignGetObject(ctx context.Context, bucket, key string, ttl time.Duration) (string, error) {
	if ttl < time.Second || ttl > maxPresignTTL {
		// X-Amz-Expires=0 (what a ttl under a second would be) or over 604800 makes a URL
		// that S3 refuses when it is used, not here.
		return "", fmt.Errorf("S3 presign GetObject: a link lasts 1s to %v, not %v", maxPresignTTL, ttl)
	}
	u, err := c.objectURL(bucket, key, "GetObject")
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("X-Amz-Expires", strconv.FormatInt(int64(ttl/time.Second), 10))
	u.RawQuery = q.Encode()
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("S3 presign GetObject: credentials: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("S3 presign GetObject: %w", err)
	}
	signed, _, err := c.signer.PresignHTTP(ctx, creds, req, "UNSIGNED-PAYLOAD", c.svc.SigningName, c.region, c.now())
	if err != nil {
		return "", fmt.Errorf("S3 presign GetObject: %w", err)
	}
	return signed, nil
}

// objectURL is the URL of key in bucket at the client's endpoint, with the SDK's x-id query
// parameter naming the operation.
func (c *Client) objectURL(bucket, key, op string) (*url.URL, error) {
	if bucket == "" || key == "" {
		return nil, fmt.Errorf("S3 %s: bucket %q, key %q: both are needed", op, bucket, key)
	}
	u, err := url.Parse(c.endpoint)
	if err != nil {
		return nil, fmt.Errorf("S3 %s: endpoint %q: %w", op, c.endpoint, err)
	}
	path := "/" + key
	if virtualHostable(bucket) && net.ParseIP(u.Hostname()) == nil {
		u.Host = bucket + "." + u.Host
	} else {
		path = "/" + bucket + path
	}
	// RawPath keeps the escaping S3 signs ("+" as %2B), which Path alone would not give.
	u.RawPath = strings.TrimSuffix(u.EscapedPath(), "/") + escapePath(path)
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		return nil, fmt.Errorf("S3 %s: endpoint %q: %w", op, c.endpoint, err)
	}
	u.RawQuery = "x-id=" + op
	return u, nil
}

// virtualHostable says whether the SDK puts bucket in the host name: 3 to 63 lower-case letters,
// digits and hyphens (S3 refuses a name that starts or ends with a hyphen; the SDK does not
// check). A name with dots is addressed by path, since it would not match S3's TLS certificate.
func virtualHostable(bucket string) bool {
	if len(bucket) < 3 || len(bucket) > 63 {
		return false
	}
	for _, r := range bucket {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// escapePath escapes every byte of p but the unreserved ones and "/" (RFC 3986): the path as
// S3 canonicalises it, so the signer may sign it as it is.
func escapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch ch := p[i]; {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9',
			ch == '-', ch == '_', ch == '.', ch == '~', ch == '/':
			b.WriteByte(ch)
		default:
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}
