// Package s3blob is the claim check on AWS: the ingest function puts a body too large for an
// SNS message into the stack's S3 bucket before it answers 202, and the history function
// reads it back (or links to it) for GET /events/{id}. It is the S3 adapter of pipeline's
// BlobStore, BlobReader and BlobLinker ports; the local engine's blob table is the other.
package s3blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"hookline/pkg/pipeline"
)

// DefaultLinkTTL is how long a data_url stays valid.
const DefaultLinkTTL = 15 * time.Minute

// maxObject bounds what Get reads: the largest body any ingest accepts.
const maxObject = pipeline.LocalMaxBodyBytes

// Store keeps bodies in one bucket.
type Store struct {
	// Client makes the calls: PutObject (Put) and GetObject (Get); Presign signs GetObject
	// URLs (Link). The tests give them real clients against gofakes3, so no narrower
	// interfaces stand in for them.
	Client  *s3.Client
	Presign *s3.PresignClient // nil: no links (Link fails)
	Bucket  string
	LinkTTL time.Duration // 0 means DefaultLinkTTL
}

var (
	_ pipeline.BlobStore  = (*Store)(nil)
	_ pipeline.BlobReader = (*Store)(nil)
	_ pipeline.BlobLinker = (*Store)(nil)
)

// Put writes body under key and returns its s3:// reference once S3 has it (a successful
// PutObject is durable). S3 checks the body against the SHA-256 sent with it.
func (s *Store) Put(ctx context.Context, key string, body []byte, contentType string) (string, error) {
	sum := sha256.Sum256(body)
	in := &s3.PutObjectInput{
		Bucket:            aws.String(s.Bucket),
		Key:               aws.String(key),
		Body:              bytes.NewReader(body),
		ContentLength:     aws.Int64(int64(len(body))),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if _, err := s.Client.PutObject(ctx, in); err != nil {
		return "", fmt.Errorf("s3 put %s/%s: %w", s.Bucket, key, err)
	}
	return "s3://" + s.Bucket + "/" + key, nil
}

// Get reads the body ref names; a missing object is pipeline.ErrNotFound.
func (s *Store) Get(ctx context.Context, ref string) ([]byte, error) {
	key, err := s.key(ref)
	if err != nil {
		return nil, err
	}
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	var missing *types.NoSuchKey
	switch {
	case errors.As(err, &missing):
		return nil, fmt.Errorf("s3 get %s: %w", ref, pipeline.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("s3 get %s: %w", ref, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxObject+1))
	if err != nil {
		return nil, fmt.Errorf("s3 get %s: %w", ref, err)
	}
	if len(b) > maxObject {
		return nil, fmt.Errorf("s3 get %s: over %d bytes", ref, maxObject)
	}
	return b, nil
}

// Link returns a presigned GET of ref, valid for LinkTTL.
func (s *Store) Link(ctx context.Context, ref string) (string, error) {
	if s.Presign == nil {
		return "", errors.New("s3 link: no presign client")
	}
	key, err := s.key(ref)
	if err != nil {
		return "", err
	}
	ttl := s.LinkTTL
	if ttl <= 0 {
		ttl = DefaultLinkTTL
	}
	req, err := s.Presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("s3 link %s: %w", ref, err)
	}
	return req.URL, nil
}

// key is the object key of a reference into this store's bucket.
func (s *Store) key(ref string) (string, error) {
	key, ok := strings.CutPrefix(ref, "s3://"+s.Bucket+"/")
	if !ok || key == "" {
		return "", fmt.Errorf("s3 blob %q: not a reference into bucket %s", ref, s.Bucket)
	}
	return key, nil
}
