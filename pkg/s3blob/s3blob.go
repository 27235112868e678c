// Package s3blob is the claim check on AWS: the ingest function puts a body too large for an
// SNS message into the stack's S3 bucket before it answers 202, and the history function
// reads it back (or links to it) for GET /events/{id}. It is the S3 adapter of pipeline's
// BlobStore, BlobReader and BlobLinker ports; the local engine's blob table is the other.
//
// Its calls go through pkg/awsjson, not the SDK's S3 client (awsjson's TestSameRequestsAsTheSDK
// holds them to that client's requests): linking the SDK's S3 package cost the ingest and
// history functions about 80 page faults and 900 allocations at every cold start (README,
// "Cold start, and a trade we made").
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"hookline/pkg/awsjson"
	"hookline/pkg/pipeline"
)

// DefaultLinkTTL is how long a data_url stays valid.
const DefaultLinkTTL = 15 * time.Minute

// maxObject bounds what Get reads: the largest body any ingest accepts.
const maxObject = pipeline.LocalMaxBodyBytes

// Store keeps bodies in one bucket.
type Store struct {
	// Client (of awsjson.S3) makes the calls: PutObject (Put), GetObject (Get) and a presigned
	// GetObject (Link). The tests give it a real client against gofakes3, so no narrower
	// interface stands in for it.
	Client  *awsjson.Client
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
	if err := s.Client.PutObject(ctx, s.Bucket, key, body, contentType); err != nil {
		return "", fmt.Errorf("s3 put %s/%s: %w", s.Bucket, key, err)
	}
	return "s3://" + s.Bucket + "/" + key, nil
}

// Get reads the body ref names; a missing object is pipeline.ErrNotFound. S3 says NoSuchKey
// only to a caller with s3:ListBucket on the bucket (the stack grants it to history); to any
// other a missing key is AccessDenied, which stays an error here: it may be a real refusal.
func (s *Store) Get(ctx context.Context, ref string) ([]byte, error) {
	key, err := s.key(ref)
	if err != nil {
		return nil, err
	}
	b, err := s.Client.GetObject(ctx, s.Bucket, key, maxObject)
	var answer *awsjson.Error
	switch {
	case errors.As(err, &answer) && answer.Code == "NoSuchKey":
		return nil, fmt.Errorf("s3 get %s: %w", ref, pipeline.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("s3 get %s: %w", ref, err)
	}
	return b, nil
}

// Link returns a presigned GET of ref, valid for LinkTTL.
func (s *Store) Link(ctx context.Context, ref string) (string, error) {
	key, err := s.key(ref)
	if err != nil {
		return "", err
	}
	ttl := s.LinkTTL
	if ttl <= 0 {
		ttl = DefaultLinkTTL
	}
	link, err := s.Client.PresignGetObject(ctx, s.Bucket, key, ttl)
	if err != nil {
		return "", fmt.Errorf("s3 link %s: %w", ref, err)
	}
	return link, nil
}

// key is the object key of a reference into this store's bucket.
func (s *Store) key(ref string) (string, error) {
	key, ok := strings.CutPrefix(ref, "s3://"+s.Bucket+"/")
	if !ok || key == "" {
		return "", fmt.Errorf("s3 blob %q: not a reference into bucket %s", ref, s.Bucket)
	}
	return key, nil
}
