package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"hookline/pkg/event"
	"hookline/pkg/wiring"
)

// Quarantine limits.
const (
	// MaxKeptBody is how much of a refused request's body is kept; a longer one is cut (and
	// cannot be readmitted: its signature covers bytes that were not kept).
	MaxKeptBody = 256 * 1024
	// MaxKeptHeaderBytes bounds the headers kept of a refused request (names and values, the
	// sealed ones included). API Gateway takes at most 10 KiB of them, so only `hookline local`
	// (whose server takes 1 MiB) can be sent more; the smallest headers are kept first, so a
	// flood of large ones still leaves the signature and the content type.
	MaxKeptHeaderBytes = 16 * 1024
	// HeadersCutMarker is the header a kept request carries when some of its headers were
	// dropped (its value says how many); such a request cannot be readmitted.
	HeadersCutMarker = "hookline-headers-cut"
	// MaxKeptURLBytes bounds a refused request's RawPath and RawQuery together, the path kept
	// first. API Gateway takes about 10 KiB of request line and headers, `hookline local` 1 MiB.
	MaxKeptURLBytes = 8 * 1024
	// URLCutMarker is the header a kept request carries when its path, query or source name
	// was cut (its value says how much was kept); such a request cannot be readmitted.
	URLCutMarker = "hookline-url-cut"
	// MaxKeptSourceBytes bounds the kept source name, the path's segment: twice the longest
	// name a source can have (source.ValidName), so a longer one was never configured.
	MaxKeptSourceBytes = 128
	// MaxKeptDetailBytes bounds the kept problem detail, which may quote what the caller sent
	// (a source name, a Content-Type).
	MaxKeptDetailBytes = 1024
	// KeptFor is how long a refused request is kept.
	KeptFor = 7 * 24 * time.Hour
	// DefaultKeepPerMinute is how many refused requests per source are kept each minute when
	// nothing else is configured (wiring.DefaultKeepPerMinute, the stack's and the CLI's).
	DefaultKeepPerMinute = wiring.DefaultKeepPerMinute
)

// Redacted replaces the value of a header that may carry a secret in what people see.
const Redacted = "[redacted]"

// Rejection is one refused webhook request as the quarantine keeps it.
type Rejection struct {
	ID         string    // a time-ordered UUID of its own, not an event id
	Source     string    // the path's source name, configured or not
	Reason     string    // Reason*: why it was refused
	Detail     string    // the problem detail the caller got
	ReceivedAt time.Time // when ingest received it
	SourceIP   string    // the caller's address ("" when unknown)
	RawPath    string
	RawQuery   string
	// Header is every header (lower-case names) with the values of those that may carry a
	// secret or a signature replaced by Redacted; Sealed holds those values, encrypted (see
	// Sealer), so a readmit can verify them and nobody reading the quarantine can reuse them.
	Header   map[string]string
	Sealed   []byte
	Body     []byte // the first MaxKeptBody bytes
	BodySize int    // the body's size as received
	// After a readmit that published it: when, and the event id it got.
	ReadmittedAt time.Time
	EventID      string
}

// Truncated reports whether the body was cut.
func (r *Rejection) Truncated() bool { return r.BodySize > len(r.Body) }

// HeadersCut reports whether headers were dropped to keep the request within
// MaxKeptHeaderBytes.
func (r *Rejection) HeadersCut() bool { _, cut := r.Header[HeadersCutMarker]; return cut }

// URLCut reports whether the path or the query was cut to MaxKeptURLBytes, or the source
// name to MaxKeptSourceBytes.
func (r *Rejection) URLCut() bool { _, cut := r.Header[URLCutMarker]; return cut }

// isMarker reports whether a header is named like one of the quarantine's markers, which are
// not the sender's to set.
func isMarker(name string) bool {
	return strings.EqualFold(name, HeadersCutMarker) || strings.EqualFold(name, URLCutMarker)
}

// capURL returns path and query within MaxKeptURLBytes together, the path first, each cut
// before a UTF-8 sequence rather than inside one (a DynamoDB string must be UTF-8), and what
// the marker says about the cut; "" when nothing was cut.
func capURL(path, query string) (string, string, string) {
	if len(path)+len(query) <= MaxKeptURLBytes {
		return path, query, ""
	}
	p := cutUTF8(path, MaxKeptURLBytes)
	q := cutUTF8(query, MaxKeptURLBytes-len(p))
	return p, q, fmt.Sprintf("%d of %d path bytes and %d of %d query bytes kept: a refused request keeps at most %d bytes of its URL", len(p), len(path), len(q), len(query), MaxKeptURLBytes)
}

// cutUTF8 is s cut to at most n bytes, never inside a UTF-8 sequence.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// capHeaders returns headers within MaxKeptHeaderBytes (name and value bytes), the smallest
// kept first (ties by name), and what the marker says about the rest; "" when nothing was
// dropped. A header named like a marker (isMarker) is not the sender's to set and is dropped.
func capHeaders(headers map[string]string) (map[string]string, string) {
	total, marked := 0, false
	for k, v := range headers {
		total += len(k) + len(v)
		marked = marked || isMarker(k)
	}
	if total <= MaxKeptHeaderBytes && !marked {
		return headers, ""
	}
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	size := func(k string) int { return len(k) + len(headers[k]) }
	slices.SortFunc(names, func(a, b string) int {
		if d := size(a) - size(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	kept, used, dropped, droppedBytes := make(map[string]string, len(headers)), 0, 0, 0
	for _, k := range names {
		if n := size(k); used+n <= MaxKeptHeaderBytes && !isMarker(k) {
			kept[k], used = headers[k], used+n
			continue
		}
		dropped, droppedBytes = dropped+1, droppedBytes+size(k)
	}
	return kept, fmt.Sprintf("%d of %d headers (%d bytes) not kept: a refused request keeps at most %d bytes of headers", dropped, len(headers), droppedBytes, MaxKeptHeaderBytes)
}

// RejectedQuery selects kept rejections, newest first. Zero values mean "any".
type RejectedQuery struct {
	Source string
	Reason string
	Since  time.Time // received at or after
	Until  time.Time // received before
	Limit  int       // 0 means DefaultLimit, capped at MaxLimit
	Cursor string
}

// RejectedPage is one page of kept rejections; Cursor is empty on the last page.
type RejectedPage struct {
	Rejections []*Rejection
	Cursor     string
}

// RejectedStore keeps refused requests: the local engine's table, or the events table under
// its own key prefix on AWS. Get returns an error wrapping ErrNotFound for an unknown or
// expired id. List answers from an index, never a scan of the events.
type RejectedStore interface {
	RejectionWriter
	Get(ctx context.Context, id string) (*Rejection, error)
	List(ctx context.Context, q RejectedQuery) (RejectedPage, error)
	MarkReadmitted(ctx context.Context, id, eventID string, at time.Time) error
}

// RejectionWriter is the part of a RejectedStore a Keeper uses: on AWS the ingest function
// holds no more (pkg/ddbkeep).
type RejectionWriter interface {
	Keep(ctx context.Context, r *Rejection) error
}

// Sealer encrypts the secret-bearing header values of a refused request; Opener decrypts
// them for a readmit. Locally the key is a file in the data dir; the interfaces let another
// key store stand in.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte) ([]byte, error)
}

// Opener decrypts what a Sealer sealed.
type Opener interface {
	Open(ctx context.Context, sealed []byte) ([]byte, error)
}

// KeepQuota shares the per-source, per-minute allowance between processes: on AWS every ingest
// instance takes from one conditional counter per source and minute in the events table.
type KeepQuota interface {
	// Take counts one more kept request for key (a source; "" for names no source has) in
	// minute (unix minutes) and reports whether it is within limit.
	Take(ctx context.Context, key string, minute int64, limit int) (bool, error)
}

// Keeper keeps refused requests in the quarantine: at most PerMinute per source each minute
// (requests to names nobody configured share one allowance), secret-bearing header values
// sealed, the body cut at MaxKeptBody, the headers at MaxKeptHeaderBytes and the path and query
// at MaxKeptURLBytes. Failing to keep
// never changes the caller's answer.
type Keeper struct {
	Store     RejectionWriter
	Sealer    Sealer // nil drops the secret-bearing values instead of sealing them
	PerMinute int    // 0 means DefaultKeepPerMinute
	// Quota, when set, is the allowance all processes share (AWS: many ingest instances); the
	// in-process count still answers first, so a flood costs each process at most one
	// refused Take per source and minute.
	Quota KeepQuota
	Log   *slog.Logger // nil means slog.Default()
	// SensitiveHeaders names, lower-case, headers to seal beyond those SensitiveHeader
	// recognises (a source's own signature header).
	SensitiveHeaders []string

	mu     sync.Mutex
	minute int64          // unix minute of counts
	counts map[string]int // allowance key → kept this minute
}

// Keep keeps r, refused at received with err, unless err is no rejection or the source's
// allowance for this minute is spent. acc is what ingest answered with the refusal: its Source
// is set once the path named a configured source, its ID once the request had an event id
// (the request's own log line names it, and so does Keep's).
func (k *Keeper) Keep(ctx context.Context, r IngestRequest, acc Accepted, received time.Time, err error) {
	reason, ok := RejectReason(err)
	if !ok {
		return
	}
	key := ""
	if acc.Source != "" {
		key = r.Source
	}
	ok, perr := k.allow(ctx, key, received)
	if !ok && perr == nil {
		return
	}
	var rej *Rejection
	if perr == nil {
		rej, perr = k.rejection(ctx, r, reason, DetailOf(err), received)
	}
	if perr == nil {
		perr = k.Store.Keep(ctx, rej)
	}
	if perr != nil {
		log := k.Log
		if log == nil {
			log = slog.Default()
		}
		rejID := ""
		if rej != nil {
			rejID = rej.ID
		}
		log.LogAttrs(ctx, slog.LevelError, "could not keep a refused request", slog.String("event_id", acc.ID),
			slog.String("rejection_id", rejID), slog.String("source", r.Source), slog.String("reason", reason), slog.String("error", perr.Error()))
	}
}

// allow counts one more kept request for key in received's minute, here and in the Quota.
// An error from the Quota keeps nothing: the refusal itself is unaffected.
func (k *Keeper) allow(ctx context.Context, key string, received time.Time) (bool, error) {
	limit := k.PerMinute
	if limit <= 0 {
		limit = DefaultKeepPerMinute
	}
	minute := received.Unix() / 60
	k.mu.Lock()
	if minute != k.minute || k.counts == nil {
		k.minute, k.counts = minute, map[string]int{} // older minutes are never asked about again
	}
	if k.counts[key] >= limit {
		k.mu.Unlock()
		return false, nil
	}
	k.counts[key]++
	k.mu.Unlock()
	if k.Quota == nil {
		return true, nil
	}
	ok, err := k.Quota.Take(ctx, key, minute, limit)
	if err != nil {
		return false, fmt.Errorf("count kept requests: %w", err)
	}
	if !ok {
		// The others kept this minute's allowance: ask no more until the next minute.
		k.mu.Lock()
		if k.minute == minute {
			k.counts[key] = limit
		}
		k.mu.Unlock()
	}
	return ok, nil
}

func (k *Keeper) rejection(ctx context.Context, r IngestRequest, reason, detail string, received time.Time) (*Rejection, error) {
	id, err := event.NewID()
	if err != nil {
		return nil, err
	}
	rej := &Rejection{
		ID: id, Source: cutUTF8(r.Source, MaxKeptSourceBytes), Reason: reason, Detail: clip(detail, MaxKeptDetailBytes), ReceivedAt: received,
		BodySize: len(r.Body),
		Body:     append([]byte(nil), r.Body[:min(len(r.Body), MaxKeptBody)]...),
	}
	if r.SourceIP.IsValid() {
		rej.SourceIP = r.SourceIP.Unmap().String()
	}
	headers, cut := capHeaders(r.Headers)
	shown, secret := Redact(headers, k.SensitiveHeaders...)
	if cut != "" {
		shown[HeadersCutMarker] = cut
	}
	var urlCut string
	rej.RawPath, rej.RawQuery, urlCut = capURL(r.RawPath, r.RawQuery)
	if len(rej.Source) < len(r.Source) {
		urlCut = strings.TrimPrefix(urlCut+"; ", "; ") + fmt.Sprintf("%d of %d source name bytes kept: a refused request keeps at most %d", len(rej.Source), len(r.Source), MaxKeptSourceBytes)
	}
	if urlCut != "" {
		shown[URLCutMarker] = urlCut
	}
	rej.Header = shown
	// Without a Sealer the secret-bearing values are dropped: the request is kept for people
	// to read, and a readmit of it will fail its signature check.
	if len(secret) > 0 && k.Sealer != nil {
		plain, err := json.Marshal(secret)
		if err != nil {
			return nil, err
		}
		if rej.Sealed, err = k.Sealer.Seal(ctx, plain); err != nil {
			return nil, fmt.Errorf("seal headers: %w", err)
		}
	}
	return rej, nil
}

// sensitiveParts are the pieces of a header name that mark a value as a secret, a signature
// or a credential (authorization, x-hub-signature-256, stripe-signature, svix-signature,
// x-shopify-hmac-sha256, x-api-key, cookie, a custom X-Sig, ...).
var sensitiveParts = []string{"authorization", "signature", "sig", "hmac", "token", "secret", "password", "cookie", "key", "auth", "credential"}

// notSensitive are names that match a part above but carry no secret.
var notSensitive = []string{"idempotency-key", "x-github-hook-installation-target-id"}

// SensitiveHeader reports whether a header (lower-case name) may carry a secret or a
// signature. It errs on the side of sealing: a sealed value is only hidden from people, a
// readmit still verifies it.
func SensitiveHeader(name string) bool {
	if slices.Contains(notSensitive, name) {
		return false
	}
	for _, p := range sensitiveParts {
		if strings.Contains(name, p) {
			return true
		}
	}
	return false
}

// Redact splits headers into what people may see (secret-bearing values replaced by
// Redacted) and the secret-bearing values themselves. extra names more sensitive headers.
func Redact(headers map[string]string, extra ...string) (shown, secret map[string]string) {
	shown = make(map[string]string, len(headers))
	for name, v := range headers {
		n := strings.ToLower(name)
		if SensitiveHeader(n) || slices.Contains(extra, n) {
			if secret == nil {
				secret = map[string]string{}
			}
			secret[n] = v
			v = Redacted
		}
		shown[n] = v
	}
	return shown, secret
}

// Unredact returns r's headers with the sealed values put back, for a readmit.
func Unredact(ctx context.Context, r *Rejection, o Opener) (map[string]string, error) {
	h := make(map[string]string, len(r.Header))
	for k, v := range r.Header {
		h[k] = v
	}
	if len(r.Sealed) == 0 {
		return h, nil
	}
	plain, err := o.Open(ctx, r.Sealed)
	if err != nil {
		return nil, fmt.Errorf("open the sealed headers of %s: %w", r.ID, err)
	}
	var secret map[string]string
	if err := json.Unmarshal(plain, &secret); err != nil {
		return nil, fmt.Errorf("open the sealed headers of %s: %w", r.ID, err)
	}
	for k, v := range secret {
		h[k] = v
	}
	return h, nil
}

// RequestOf rebuilds the ingest request a rejection kept, with headers (from Unredact).
func RequestOf(r *Rejection, headers map[string]string) (IngestRequest, error) {
	if r.Truncated() {
		return IngestRequest{}, Errorf(KindTooLarge, "rejection %s: only %d of its %d body bytes were kept, and the signature covers them all", r.ID, len(r.Body), r.BodySize)
	}
	if r.HeadersCut() {
		return IngestRequest{}, Errorf(KindTooLarge, "rejection %s: %s", r.ID, r.Header[HeadersCutMarker])
	}
	if r.URLCut() {
		return IngestRequest{}, Errorf(KindTooLarge, "rejection %s: %s", r.ID, r.Header[URLCutMarker])
	}
	req := IngestRequest{
		Source: r.Source, Header: mapHeader(headers), Headers: headers, Body: r.Body,
		Method: "POST", RawPath: r.RawPath, RawQuery: r.RawQuery,
	}
	if r.SourceIP != "" {
		req.SourceIP, _ = parseAddr(r.SourceIP)
	}
	if r.RawQuery != "" {
		if q, err := url.ParseQuery(r.RawQuery); err == nil {
			req.Query = make(map[string]string, len(q))
			for k, v := range q {
				req.Query[k] = strings.Join(v, ",")
			}
		}
	}
	return req, nil
}

// mapHeader serves verify.Header over a map with lower-case names.
type mapHeader map[string]string

func (h mapHeader) Get(lowerName string) string { return h[lowerName] }
