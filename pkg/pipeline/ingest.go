package pipeline

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/source"
	"hookline/pkg/verify"
)

// MaxMessageBytes is SNS's message size limit, attributes included. The local engine honours
// the same limit so nothing accepted locally would be refused on AWS.
const MaxMessageBytes = 256 * 1024

// MaxBodyBytes is the largest body ingest reads further: a larger one can never fit in a bus
// message, so it is refused before any signature is computed (Lambda itself accepts 6 MB).
const MaxBodyBytes = MaxMessageBytes

// Message is one event as it travels on the bus: the envelope JSON plus the attributes that
// subscribers filter on.
type Message struct {
	ID     string
	Source string
	Type   string
	Body   []byte // the CloudEvents JSON
}

// Size is the message's size as SNS counts it: body plus attribute names, types and values.
func (m Message) Size() int {
	const attrOverhead = len("type") + len("source") + 2*len("String")
	return len(m.Body) + attrOverhead + len(m.Type) + len(m.Source)
}

// Publisher hands a message to the bus. It returns only once the message is durable.
type Publisher interface {
	Publish(ctx context.Context, m Message) error
}

// Sources resolves a source name from the request path. A missing source is (nil, false, nil);
// an error means the config could not be read at all.
type Sources interface {
	Lookup(ctx context.Context, name string) (*source.Source, bool, error)
}

// Limiter decides whether a source may send one more request now, and if not, how long until
// it may. Only a process that sees every request to a source can be one (hookline local); on
// AWS the limit is API Gateway's, and Ingest.Limiter is nil.
type Limiter interface {
	Allow(src *source.Source, now time.Time) (retryAfter time.Duration, ok bool)
}

// IngestRequest is one webhook delivery as the ingest service sees it.
type IngestRequest struct {
	Source   string        // from the path
	Header   verify.Header // lower-case names
	Body     []byte        // the raw bytes received (already base64-decoded)
	SourceIP netip.Addr    // the caller's address; the zero Addr when unknown
}

// Accepted is the result of a successful ingest.
type Accepted struct {
	ID           string
	Type         string
	Verification event.Verification
}

// Ingest is the front door: refuse cheaply, verify, wrap, publish. The cheap refusals (size,
// source, allowlist, rate) come before any signature is computed; nothing slow happens before
// the publish, and the caller acknowledges only after it returns without error.
type Ingest struct {
	Sources   Sources
	Publisher Publisher
	Limiter   Limiter          // nil means no per-source limit
	Now       func() time.Time // nil means time.Now
}

// Accept verifies r against its source, builds the event and publishes it. Every error is an
// *Error whose detail is safe to show the sender.
func (s *Ingest) Accept(ctx context.Context, r IngestRequest) (Accepted, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	received := now().UTC()

	if len(r.Body) > MaxBodyBytes {
		return Accepted{}, BodyTooLarge(len(r.Body))
	}
	src, ok, err := s.Sources.Lookup(ctx, r.Source)
	if err != nil {
		return Accepted{}, &Error{Kind: KindUnavailable, Detail: "the sources config cannot be read right now; retry later", Err: err}
	}
	if !ok {
		return Accepted{}, Errorf(KindNotFound, "no source named %q is configured", r.Source)
	}
	if !src.Allows(r.SourceIP) {
		return Accepted{}, forbidden(src.Name, r.SourceIP)
	}
	if s.Limiter != nil {
		if wait, ok := s.Limiter.Allow(src, received); !ok {
			return Accepted{}, &Error{Kind: KindThrottled, RetryAfter: wait,
				Detail: fmt.Sprintf("source %q is over its rate limit; retry after the Retry-After seconds", src.Name)}
		}
	}
	if enc := r.Header.Get("content-encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return Accepted{}, Errorf(KindUnsupportedMedia, "Content-Encoding %q is not accepted: signatures are checked over the bytes as sent, so send the body uncompressed", enc)
	}
	res, err := src.Verifier.Verify(r.Header, r.Body, received)
	if err != nil {
		// verify's messages never contain secrets or expected values, so they are safe to show.
		return Accepted{}, &Error{Kind: KindUnauthorized, Detail: err.Error(), Err: err}
	}

	meta := src.Describe(r.Header, r.Body, res)
	e := event.Event{
		Source: src.Name, Type: meta.Type, Time: received, ReceivedAt: received,
		DeliveryID: meta.DeliveryID, DataVersion: meta.Version,
		Verification: event.Verification{
			Scheme: src.Scheme, Key: res.Key, BodySHA256: sha256.Sum256(r.Body), SignedID: meta.SignedID,
		},
	}
	if !res.Timestamp.IsZero() {
		e.Time = res.Timestamp.UTC()
		e.Verification.SkewMS, e.Verification.HasSkew = res.Timestamp.Sub(received).Milliseconds(), true
	}
	// Identity only from what the signature covers, or what the source trusts (source.Describe).
	switch meta.Identity {
	case source.IdentitySignedID, source.IdentityKey:
		e.ID = event.DeliveryID(src.Name, meta.Key)
	case source.IdentityBody:
		e.ID = event.BodyHashID(src.Name, e.Verification.BodySHA256)
	default:
		if e.ID, err = event.NewID(); err != nil {
			return Accepted{}, fmt.Errorf("ingest: %w", err)
		}
	}
	if err := e.SetData(r.Header.Get("content-type"), r.Body); err != nil {
		kind := KindInvalid
		if errors.Is(err, event.ErrUnsupportedMedia) {
			kind = KindUnsupportedMedia
		}
		return Accepted{}, &Error{Kind: kind, Detail: err.Error(), Err: err}
	}

	m := Message{ID: e.ID, Source: e.Source, Type: e.Type, Body: e.Marshal()}
	if size := m.Size(); size > MaxMessageBytes {
		return Accepted{}, Errorf(KindTooLarge, "the event would be %d bytes, over the %d-byte bus message limit (base64 bodies grow by a third); send a smaller body", size, MaxMessageBytes)
	}
	if err := s.Publisher.Publish(ctx, m); err != nil {
		return Accepted{}, &Error{Kind: KindUnavailable, Detail: "the event bus is unavailable; nothing was accepted, retry later", Err: fmt.Errorf("publish event %s: %w", e.ID, err)}
	}
	return Accepted{ID: e.ID, Type: e.Type, Verification: e.Verification}, nil
}

// BodyTooLarge is the refusal of an n-byte body over MaxBodyBytes. Callers that see the size
// before decoding a body (API Gateway's base64) refuse with it too, without decoding.
func BodyTooLarge(n int) *Error {
	return Errorf(KindTooLarge, "the body is %d bytes, over the %d-byte limit (an event must fit one bus message); send a smaller body", n, MaxBodyBytes)
}

// forbidden is the allowlist refusal: it names the source and the address seen, never the list.
func forbidden(source string, addr netip.Addr) *Error {
	if !addr.IsValid() {
		return Errorf(KindForbidden, "source %q accepts only listed addresses, and the caller's address is unknown", source)
	}
	return Errorf(KindForbidden, "source %q does not accept requests from %s", source, addr.Unmap())
}
