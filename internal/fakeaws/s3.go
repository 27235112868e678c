package fakeaws

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The claim check's S3 calls (pkg/awsjson's s3.go, for pkg/s3blob): PutObject, GetObject, and a
// GetObject by a presigned URL. Each is authorized as s3:PutObject or s3:GetObject on the
// object's ARN (arn:aws:s3:::bucket/key), signed by the Authorization header or, presigned, by
// the X-Amz-Credential query parameter, which must not have expired. The bucket is the Host's
// first label when the Host is a name with a dot in it (virtual-hosted: bucket.localhost:port),
// else the path's first segment (path style, what a client sends to an IP address endpoint).
// As on S3, a PutObject's body must match its X-Amz-Content-Sha256 (unless UNSIGNED-PAYLOAD)
// and its X-Amz-Checksum-Sha256; a GetObject of a missing key is NoSuchKey (404) only for a
// caller the Authorizer allows s3:ListBucket on the bucket, else AccessDenied (403), so a role
// with s3:GetObject alone cannot tell a missing object from a forbidden one.

// Object is what the fake S3 holds under a key.
type Object struct {
	Body        []byte
	ContentType string
}

// AddBucket creates an empty bucket.
func (s *Server) AddBucket(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets[name] == nil {
		s.buckets[name] = map[string]Object{}
	}
}

// Object returns the object under key in bucket.
func (s *Server) Object(bucket, key string) (Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.buckets[bucket][key]
	return o, ok
}

// RemoveObject deletes the object under key in bucket, as a lifecycle expiration does.
func (s *Server) RemoveObject(bucket, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.buckets[bucket], key)
}

// s3Address is the bucket and key a request names.
func s3Address(r *http.Request) (bucket, key string) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	if label, _, dotted := strings.Cut(host, "."); dotted && net.ParseIP(host) == nil {
		return label, path
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

func (s *Server) serveS3(req *request, r *http.Request) {
	bucket, key := s3Address(r)
	switch {
	case r.Method == http.MethodPut && key != "":
		req.op = "PutObject"
	case r.Method == http.MethodGet && key != "":
		req.op = "GetObject"
	default:
		s.unknown(req, fmt.Sprintf("S3 %s bucket %q key %q", r.Method, bucket, key))
		return
	}
	q := r.URL.Query()
	if cred := q.Get("X-Amz-Credential"); cred != "" && req.accessKey == "" {
		// Presigned: the credential and its lifetime travel in the query.
		if m := presignedCredential(cred); m != nil {
			req.accessKey, req.region, req.service = m[0], m[1], m[2]
		}
		if code, why := presignRefusal(q.Get("X-Amz-Date"), q.Get("X-Amz-Expires"), time.Now()); why != "" {
			s3Error(req.w, http.StatusForbidden, code, why, key)
			return
		}
	}
	arn := "arn:aws:s3:::" + bucket + "/" + key
	if err := s.allow(req, "s3:"+req.op, []string{arn}, nil); err != nil {
		s3Error(req.w, http.StatusForbidden, "AccessDenied", err.Error(), key)
		return
	}
	s.mu.Lock()
	objects, exists := s.buckets[bucket]
	s.mu.Unlock()
	if !exists {
		s3Error(req.w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", key)
		return
	}
	if req.op == "PutObject" {
		s.putObject(req, objects, key)
		return
	}
	s.mu.Lock()
	o, found := objects[key]
	s.mu.Unlock()
	if !found {
		// S3 says NoSuchKey only to a caller who may list the bucket, and may so learn
		// which keys exist.
		if s.authorize != nil && s.authorize(req.accessKey, "s3:ListBucket", []string{"arn:aws:s3:::" + bucket}, nil) != nil {
			s3Error(req.w, http.StatusForbidden, "AccessDenied", "Access Denied", key)
			return
		}
		s3Error(req.w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", key)
		return
	}
	h := req.w.Header()
	h.Set("Content-Type", o.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(o.Body)))
	h.Set("ETag", etag(o.Body))
	h.Set("X-Amz-Request-Id", requestID())
	_, _ = req.w.Write(o.Body)
}

// putObject stores the body once it matches the hashes the request carries.
func (s *Server) putObject(req *request, objects map[string]Object, key string) {
	sum := sha256.Sum256(req.body)
	if want := req.header.Get("X-Amz-Content-Sha256"); want != "" && want != "UNSIGNED-PAYLOAD" && want != hex.EncodeToString(sum[:]) {
		s3Error(req.w, http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", key)
		return
	}
	checksum := base64.StdEncoding.EncodeToString(sum[:])
	if want := req.header.Get("X-Amz-Checksum-Sha256"); want != "" && want != checksum {
		s3Error(req.w, http.StatusBadRequest, "BadDigest", "The SHA256 you specified did not match the calculated checksum.", key)
		return
	}
	contentType := req.header.Get("Content-Type")
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	s.mu.Lock()
	objects[key] = Object{Body: req.body, ContentType: contentType}
	s.mu.Unlock()
	h := req.w.Header()
	h.Set("ETag", etag(req.body))
	h.Set("X-Amz-Checksum-Sha256", checksum)
	h.Set("X-Amz-Request-Id", requestID())
}

// presignedCredential splits X-Amz-Credential ("AKID/20260101/us-east-1/s3/aws4_request") into
// the access key, region and service; nil if it is not one.
func presignedCredential(cred string) []string {
	p := strings.Split(cred, "/")
	if len(p) != 5 || p[4] != "aws4_request" {
		return nil
	}
	return []string{p[0], p[2], p[3]}
}

// maxPresignSeconds is the longest X-Amz-Expires S3 takes: SigV4's seven days.
const maxPresignSeconds = 7 * 24 * 60 * 60

// presignRefusal is S3's refusal of a presigned URL, its code and message: an X-Amz-Expires
// that is not a number of seconds from 0 to a week (AuthorizationQueryParametersError, with
// S3's messages), dates that are not SigV4's, or use after X-Amz-Date + X-Amz-Expires
// (AccessDenied); "" when it is valid at now.
func presignRefusal(date, expires string, now time.Time) (code, msg string) {
	const badQuery = "AuthorizationQueryParametersError"
	secs, err := strconv.ParseInt(expires, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		// A number all the same, beyond int64: out of range the way its sign says.
		secs, err = maxPresignSeconds+1, nil
		if strings.HasPrefix(expires, "-") {
			secs = -1
		}
	}
	switch {
	case err != nil:
		return badQuery, "X-Amz-Expires should be a number"
	case secs < 0:
		return badQuery, "X-Amz-Expires must be non-negative"
	case secs > maxPresignSeconds:
		return badQuery, fmt.Sprintf("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than %d seconds", maxPresignSeconds)
	}
	signed, err := time.Parse("20060102T150405Z", date)
	if err != nil {
		return "AccessDenied", fmt.Sprintf("X-Amz-Date %q is not a SigV4 date", date)
	}
	if now.After(signed.Add(time.Duration(secs) * time.Second)) {
		return "AccessDenied", "Request has expired"
	}
	return "", ""
}

// etag is S3's ETag of an object put in one part: its MD5, quoted.
func etag(body []byte) string {
	sum := md5.Sum(body)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// s3Error is S3's XML error document.
func s3Error(w http.ResponseWriter, status int, code, msg, key string) {
	id := requestID()
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", id)
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>%s</Code><Message>%s</Message><Key>%s</Key><RequestId>%s</RequestId></Error>`,
		xmlEscape(code), xmlEscape(msg), xmlEscape(key), id)
}
