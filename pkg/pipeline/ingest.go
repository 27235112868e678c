package pipeline

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
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
	// Replay marks a stored event published again (hookline replay): the attribute
	// replay=true tells hookline's own subscriber it is not new, and lets other subscribers
	// tell a backfill from live traffic.
	Replay bool
}

// The message attributes every event carries (and AttrReplay on replays).
const (
	AttrType   = "type"
	AttrSource = "source"
	AttrReplay = "replay"
)

// Attributes are the message attributes subscribers filter on.
func (m Message) Attributes() map[string]string {
	a := map[string]string{AttrType: m.Type, AttrSource: m.Source}
	if m.Replay {
		a[AttrReplay] = "true"
	}
	return a
}

// Size is the message's size as SNS counts it: body plus attribute names, types and values.
func (m Message) Size() int {
	const attrOverhead = len("type") + len("source") + 2*len("String")
	n := len(m.Body) + attrOverhead + len(m.Type) + len(m.Source)
	if m.Replay {
		n += len(AttrReplay) + len("String") + len("true")
	}
	return n
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
	// Method is the HTTP method; "" means POST. A GET is a handshake or a 405.
	Method string
	// Query is the query string's parameters (handshakes read them); RawPath and RawQuery are
	// the path and query as received (Twilio signs the URL).
	Query    map[string]string
	RawPath  string
	RawQuery string
	// Headers is every header (lower-case names), which the quarantine keeps; nil keeps none.
	Headers map[string]string
}

// Accepted is the result of a successful ingest. On a refusal only Source is set, and only
// once the path named a configured source: metrics and logs may then use it as a dimension,
// while a name nobody configured (anyone can put one in a URL) never becomes one.
type Accepted struct {
	ID           string // also set when the publish failed, so the request's log line names it
	Source       string
	Type         string
	Verification event.Verification
	// IDs lists every event of a CloudEvents post, in the batch's order (ID is the first);
	// Batch says the post was a batch, answered with the list.
	IDs   []string
	Batch bool
	// Reply, when set, is a handshake's answer: nothing was published, and the caller answers
	// with it instead of 202.
	Reply *source.Reply
}

// Ingest is the front door: refuse cheaply, verify, wrap, publish. The cheap refusals (size,
// source, allowlist, rate) come before any signature is computed; nothing slow happens before
// the publish, and the caller acknowledges only after it returns without error.
type Ingest struct {
	Sources   Sources
	Publisher Publisher
	Limiter   Limiter          // nil means no per-source limit
	Now       func() time.Time // nil means time.Now
	// Quarantine keeps what ingest refuses, for people to inspect and readmit; nil keeps
	// nothing.
	Quarantine *Keeper
	// Blobs, when set, takes bodies whose envelope would not fit a bus message (the claim
	// check); nil refuses them with 413.
	Blobs BlobStore
	// MaxBody is the body limit with Blobs (see BodyLimit): LambdaPayloadBytes on AWS,
	// LocalMaxBodyBytes locally.
	MaxBody int
}

// Accept verifies r against its source, builds the event and publishes it. Every error is an
// *Error whose detail is safe to show the sender. A refusal the caller caused is kept in the
// quarantine (within its per-source rate) before Accept returns.
func (s *Ingest) Accept(ctx context.Context, r IngestRequest) (Accepted, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	received := now().UTC()
	acc, err := s.admit(ctx, r, received, false)
	if err != nil && s.Quarantine != nil && (r.Method == "" || r.Method == http.MethodPost) {
		s.Quarantine.Keep(ctx, r, acc, received, err)
	}
	return acc, err
}

// Readmit runs a request that was refused at receivedAt through ingest again, with the
// sources config as it is now: the verification is checked as of receivedAt (a signed
// timestamp was fresh then or never), and what passes is published exactly as Accept would
// (same identity rules, so the event gets the id it would have got then). The source's rate
// limit does not apply, and a refusal is not kept again.
func (s *Ingest) Readmit(ctx context.Context, r IngestRequest, receivedAt time.Time) (Accepted, error) {
	r.Method = http.MethodPost
	return s.admit(ctx, r, receivedAt.UTC(), true)
}

// admit is Accept without the quarantine; readmit skips the rate limit.
func (s *Ingest) admit(ctx context.Context, r IngestRequest, received time.Time, readmit bool) (Accepted, error) {
	if limit := s.BodyLimit(); len(r.Body) > limit {
		return Accepted{}, BodyTooLargeFor(len(r.Body), limit)
	}
	src, ok, err := s.Sources.Lookup(ctx, r.Source)
	if err != nil {
		return Accepted{}, &Error{Kind: KindUnavailable, Detail: "the sources config cannot be read right now; retry later", Err: err}
	}
	if !ok {
		return Accepted{}, Errorf(KindNotFound, "no source named %q is configured", r.Source)
	}
	known := Accepted{Source: src.Name}
	if !src.Allows(r.SourceIP) {
		return known, forbidden(src.Name, r.SourceIP)
	}
	if s.Limiter != nil && !readmit {
		if wait, ok := s.Limiter.Allow(src, received); !ok {
			return known, &Error{Kind: KindThrottled, RetryAfter: wait,
				Detail: fmt.Sprintf("source %q is over its rate limit; retry after the Retry-After seconds", src.Name)}
		}
	}
	switch r.Method {
	case "", http.MethodPost:
	case http.MethodGet:
		if src.AnswersGET() {
			return s.handshakeGET(src, r, received)
		}
		return known, methodNotAllowed(r, src)
	default:
		return known, methodNotAllowed(r, src)
	}
	if enc := r.Header.Get("content-encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return known, Errorf(KindUnsupportedMedia, "Content-Encoding %q is not accepted: signatures are checked over the bytes as sent, so send the body uncompressed", enc)
	}
	if manyMediaTypes(r.Header.Get("content-type")) {
		return known, Errorf(KindInvalid, "Content-Type holds more than one media type (sent more than once?); send it once: it decides how the body is kept")
	}
	res, err := src.Verifier.Verify(verifyHeader(src, r), r.Body, received)
	if err != nil {
		// verify's messages never contain secrets or expected values, so they are safe to show.
		return known, &Error{Kind: KindUnauthorized, Detail: err.Error(), Err: err}
	}
	if src.Challenge != "" {
		if reply, ok := src.HandshakePOST(r.Body, res); ok {
			return Accepted{Source: src.Name, Type: "handshake." + src.Challenge, Verification: event.Verification{Scheme: src.Scheme, Key: res.Key}, Reply: &reply}, nil
		}
	}
	if src.Scheme == source.SchemeCloudEvents {
		acc, err := s.acceptCloudEvents(ctx, src, r, res, received)
		acc.Source = src.Name
		return acc, err
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
			return known, fmt.Errorf("ingest: %w", err)
		}
	}
	if err := e.SetData(r.Header.Get("content-type"), r.Body); err != nil {
		kind := KindInvalid
		if errors.Is(err, event.ErrUnsupportedMedia) {
			kind = KindUnsupportedMedia
		}
		// Refused, but the request's log line and the quarantine's name the event it would
		// have been, as for a failed publish below.
		known.ID, known.Type = e.ID, e.Type
		return known, &Error{Kind: kind, Detail: err.Error(), Err: err}
	}

	if err := s.publish(ctx, &e, r.Body); err != nil {
		// Nothing was accepted, but the request's log line names the event it would have been
		// (a retry gets the same id where the id is signed).
		known.ID, known.Type = e.ID, e.Type
		return known, err
	}
	return Accepted{ID: e.ID, Source: src.Name, Type: e.Type, Verification: e.Verification}, nil
}

// publish hands e to the bus; it returns once the message is durable. An envelope over the bus
// limit sends body to the blob store first, when there is one (the claim check).
func (s *Ingest) publish(ctx context.Context, e *event.Event, body []byte) error {
	if s.Blobs != nil && body != nil && len(body) > MaxMessageBytes {
		// Certainly too large: no need to encode the envelope to find out.
		if err := s.claimCheck(ctx, e, body); err != nil {
			return err
		}
	}
	m := Message{ID: e.ID, Source: e.Source, Type: e.Type, Body: e.Marshal()}
	if size := m.Size(); size > MaxMessageBytes && s.Blobs != nil && body != nil && e.DataRef == "" {
		if err := s.claimCheck(ctx, e, body); err != nil {
			return err
		}
		m.Body = e.Marshal()
	}
	if size := m.Size(); size > MaxMessageBytes {
		return Errorf(KindTooLarge, "the event would be %d bytes, over the %d-byte bus message limit (base64 bodies grow by a third); send a smaller body", size, MaxMessageBytes)
	}
	if err := s.Publisher.Publish(ctx, m); err != nil {
		return &Error{Kind: KindUnavailable, Detail: "the event bus is unavailable; nothing was accepted, retry later", Err: fmt.Errorf("publish event %s: %w", e.ID, err)}
	}
	return nil
}

// BodyTooLarge is the refusal of an n-byte body over MaxBodyBytes. Callers that see the size
// before decoding a body (API Gateway's base64) refuse with it too, without decoding.
func BodyTooLarge(n int) *Error {
	return BodyTooLargeFor(n, MaxBodyBytes)
}

// handshakeGET answers a provider's verification GET; it publishes nothing.
func (s *Ingest) handshakeGET(src *source.Source, r IngestRequest, now time.Time) (Accepted, error) {
	acc := Accepted{Source: src.Name, Type: "handshake." + src.Challenge}
	if src.GETNeedsAuth() {
		res, err := src.Verifier.Verify(verifyHeader(src, r), nil, now)
		if err != nil {
			return Accepted{Source: src.Name}, &Error{Kind: KindUnauthorized, Detail: err.Error(), Err: err}
		}
		acc.Verification = event.Verification{Scheme: src.Scheme, Key: res.Key}
	}
	reply, err := src.HandshakeGET(r.Header, func(k string) string { return r.Query[k] })
	switch {
	case errors.Is(err, source.ErrHandshakeToken):
		return Accepted{Source: src.Name}, Errorf(KindUnauthorized, "source %q: %s handshake: %s", src.Name, src.Challenge, handshakeDetail(err))
	case err != nil:
		return Accepted{Source: src.Name}, Errorf(KindInvalid, "source %q: %s handshake: %s", src.Name, src.Challenge, handshakeDetail(err))
	}
	acc.Reply = &reply
	return acc, nil
}

// handshakeDetail is the part of a handshake error that says what was wrong.
func handshakeDetail(err error) string {
	if j, ok := err.(interface{ Unwrap() []error }); ok && len(j.Unwrap()) == 2 {
		return j.Unwrap()[1].Error()
	}
	return err.Error()
}

// methodNotAllowed is the 405 for a method the source does not answer.
func methodNotAllowed(r IngestRequest, src *source.Source) *Error {
	allow := http.MethodPost
	if src.AnswersGET() {
		allow = "GET, POST"
	}
	return &Error{Kind: KindMethodNotAllowed, Allow: allow,
		Detail: fmt.Sprintf("%s is not allowed on /webhooks/%s; use %s", r.Method, src.Name, allow)}
}

// urlHeader adds the request URL to the headers, for the schemes that sign it (Twilio).
type urlHeader struct {
	verify.Header
	url string
}

func (h urlHeader) URL() string { return h.url }

// verifyHeader is what the source's verifier reads: the headers, plus the URL as the sender
// requested it for Twilio (only that scheme pays for building it).
func verifyHeader(src *source.Source, r IngestRequest) verify.Header {
	if src.Scheme != source.SchemeTwilio {
		return r.Header
	}
	base := src.URL
	if base == "" {
		proto := r.Header.Get("x-forwarded-proto")
		if proto == "" {
			proto = "https"
		}
		base = proto + "://" + r.Header.Get("host") + r.RawPath
	}
	if r.RawQuery != "" {
		base += "?" + r.RawQuery
	}
	return urlHeader{Header: r.Header, url: base}
}

// forbidden is the allowlist refusal: it names the source and the address seen, never the list.
func forbidden(source string, addr netip.Addr) *Error {
	if !addr.IsValid() {
		return Errorf(KindForbidden, "source %q accepts only listed addresses, and the caller's address is unknown", source)
	}
	return Errorf(KindForbidden, "source %q does not accept requests from %s", source, addr.Unmap())
}

func parseAddr(s string) (netip.Addr, error) { return netip.ParseAddr(s) }

// manyMediaTypes reports whether a Content-Type value is a list: a comma outside a quoted
// parameter value. Content-Type is a singleton field, but API Gateway (and so the local
// gateway) joins a repeated header with commas; RFC 9110 (8.3) notes that recipients guess
// differently at such a value, so it is refused rather than read as one of its members.
func manyMediaTypes(ct string) bool {
	if strings.IndexByte(ct, ',') < 0 {
		return false
	}
	quoted := false
	for i := 0; i < len(ct); i++ {
		switch c := ct[i]; {
		case quoted && c == '\\':
			i++ // a quoted-pair: the next byte is literal
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return true
		}
	}
	return false
}
