package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/source"
	"hookline/pkg/verify"
)

// MaxMessageBytes is SNS's message size limit, attributes included. The local engine honours
// the same limit so nothing accepted locally would be refused on AWS.
const MaxMessageBytes = 256 * 1024

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

// IngestRequest is one webhook delivery as the ingest service sees it.
type IngestRequest struct {
	Source string        // from the path
	Header verify.Header // lower-case names
	Body   []byte        // the raw bytes received (already base64-decoded)
}

// Accepted is the result of a successful ingest.
type Accepted struct {
	ID   string
	Type string
}

// Ingest is the front door: verify, wrap, publish. Nothing slow happens before the publish,
// and the caller acknowledges only after it returns without error.
type Ingest struct {
	Sources   Sources
	Publisher Publisher
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

	src, ok, err := s.Sources.Lookup(ctx, r.Source)
	if err != nil {
		return Accepted{}, &Error{Kind: KindUnavailable, Detail: "the sources config cannot be read right now; retry later", Err: err}
	}
	if !ok {
		return Accepted{}, Errorf(KindNotFound, "no source named %q is configured", r.Source)
	}
	if enc := r.Header.Get("content-encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return Accepted{}, Errorf(KindUnsupportedMedia, "Content-Encoding %q is not accepted: signatures are checked over the bytes as sent, so send the body uncompressed", enc)
	}
	res, err := src.Verifier.Verify(r.Header, r.Body, received)
	if err != nil {
		// verify's messages never contain secrets or expected values, so they are safe to show.
		return Accepted{}, &Error{Kind: KindUnauthorized, Detail: err.Error(), Err: err}
	}

	meta := src.Describe(r.Header, r.Body)
	e := event.Event{
		Source: src.Name, Type: meta.Type, Time: received, ReceivedAt: received,
		DeliveryID: meta.DeliveryID, DataVersion: meta.Version,
	}
	if !res.Timestamp.IsZero() {
		e.Time = res.Timestamp.UTC()
	}
	switch {
	case meta.DeliveryID != "":
		e.ID = event.DeliveryID(src.Name, meta.DeliveryID)
	case src.Dedup == source.DedupBody:
		e.ID = event.BodyID(src.Name, r.Body)
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
	return Accepted{ID: e.ID, Type: e.Type}, nil
}
