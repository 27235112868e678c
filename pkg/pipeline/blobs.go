package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"hookline/pkg/event"
)

// Body limits beyond the bus message (the claim check). A body whose envelope would not fit a
// bus message is put into a BlobStore before the 202 and travels as a reference (the
// envelope's dataref); the subscriber stores the reference, so no table item holds the body.
const (
	// LambdaPayloadBytes is the most a synchronous Lambda invocation carries, request and
	// response each: 6 MB, which Lambda enforces as 6,291,456 bytes ("Request must be smaller
	// than 6291456 bytes for the InvokeFunction operation"). API Gateway's HTTP API accepts
	// 10 MB payloads, but the ingest function's event (the body, base64 for non-text bodies,
	// plus headers and context) must fit this, so on AWS it is the body limit; the history
	// function's answer must fit it too.
	LambdaPayloadBytes = 6 * 1024 * 1024
	// LocalMaxBodyBytes is hookline local's body limit: GitHub's 25 MB payload cap.
	LocalMaxBodyBytes = 25 * 1024 * 1024
)

// BlobStore keeps bodies too large for a bus message. Put returns once the body is durable
// and the reference to put in the envelope; putting the same key again keeps one copy.
type BlobStore interface {
	Put(ctx context.Context, key string, body []byte, contentType string) (ref string, err error)
}

// BlobReader reads a body a BlobStore put; a missing one is ErrNotFound.
type BlobReader interface {
	Get(ctx context.Context, ref string) ([]byte, error)
}

// BlobLinker, when a BlobReader also is one, gives a short-lived URL to a body too large to
// answer inline (an S3 presigned GET on AWS).
type BlobLinker interface {
	Link(ctx context.Context, ref string) (string, error)
}

// blobKey names a body by its source, event and hash: a retried delivery puts the same key.
func blobKey(e *event.Event) string {
	return "events/" + e.Source + "/" + e.ID + "/" + hex.EncodeToString(e.Verification.BodySHA256[:])
}

// BodyLimit is the largest body Accept reads further: LambdaPayloadBytes or the configured
// MaxBody with a blob store, else what fits one bus message.
func (s *Ingest) BodyLimit() int {
	switch {
	case s.MaxBody > 0:
		return s.MaxBody
	case s.Blobs != nil:
		return LambdaPayloadBytes
	}
	return MaxBodyBytes
}

// BodyTooLargeFor is the refusal of an n-byte body over limit.
func BodyTooLargeFor(n, limit int) *Error {
	why := "an event must fit one bus message"
	if limit > MaxBodyBytes {
		why = "larger bodies cannot reach the ingest function"
	}
	return Errorf(KindTooLarge, "the body is %d bytes, over the %d-byte limit (%s); send a smaller body", n, limit, why)
}

// claimCheck moves e's data into the blob store and leaves the reference in the envelope.
func (s *Ingest) claimCheck(ctx context.Context, e *event.Event, body []byte) error {
	ref, err := s.Blobs.Put(ctx, blobKey(e), body, blobContentType(e))
	if err != nil {
		return &Error{Kind: KindUnavailable, Detail: "the body store is unavailable; nothing was accepted, retry later", Err: fmt.Errorf("claim check for event %s: %w", e.ID, err)}
	}
	e.Data, e.DataBase64, e.DataRef = nil, nil, ref
	return nil
}

// blobContentType is the Content-Type a body is stored under: one of three, by how e keeps
// its data (JSON kept as JSON, text as text, anything else as bytes), never the sender's own
// header. On AWS S3 serves the object with it to whoever follows the history's data_url, so a
// sender's "text/html" or "image/svg+xml" would have a browser run the body's script; the
// envelope's datacontenttype keeps what was sent. JSON is kept byte for byte (Body returns
// the data itself); text becomes a JSON string (Body returns it decoded).
func blobContentType(e *event.Event) string {
	switch {
	case e.DataBase64 != nil:
		return "application/octet-stream"
	case bytes.Equal(e.Body(), e.Data):
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}

// bodyExpired is the answer for event id whose body, stored by reference, is gone (err says
// how it was looked for). Only retention removes a body (S3's lifecycle, the local sweep), and
// it may do so before the event itself is deleted: DynamoDB's TTL deletes an expired item
// within days, not at once. So the event is, as far as its reader can tell, expired.
func bodyExpired(id string, err error) *Error {
	return &Error{Kind: KindNotFound, Detail: fmt.Sprintf("event %q has expired: its body, stored apart from it, is no longer kept", id), Err: err}
}

// ResolveData fills a record's data from the blob store when it was stored by reference,
// after checking it against the body's hash; records with inline data are returned as they
// are. A body the store no longer has is bodyExpired. The record's event is copied, never
// changed in place.
func ResolveData(ctx context.Context, blobs BlobReader, e *event.Event) (*event.Event, error) {
	if e.DataRef == "" || blobs == nil {
		return e, nil
	}
	body, err := blobs.Get(ctx, e.DataRef)
	if err != nil {
		err = fmt.Errorf("event %s: read %s: %w", e.ID, e.DataRef, err)
		if IsNotFound(err) {
			return nil, bodyExpired(e.ID, err)
		}
		return nil, err
	}
	if e.Verification.Present() && sha256Of(body) != e.Verification.BodySHA256 {
		return nil, fmt.Errorf("event %s: the body at %s does not match the event's body_sha256", e.ID, e.DataRef)
	}
	c := *e
	if err := c.SetData(e.DataContentType, body); err != nil {
		return nil, fmt.Errorf("event %s: body at %s: %w", e.ID, e.DataRef, err)
	}
	if c.DataContentType == "" {
		c.DataContentType = e.DataContentType
	}
	return &c, nil
}

func sha256Of(b []byte) [32]byte { return sha256.Sum256(b) }
