// Package source is the sources config: which senders hookline accepts, how each one proves
// who it is (a verify.Verifier), and each sender's conventions for naming its deliveries,
// event types and payload versions. The config is JSON (a file locally, a Secrets Manager
// secret on AWS); every mistake in it is an error at start-up that names the source and field.
package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"hookline/pkg/verify"
)

// Schemes accepted in the "scheme" field.
const (
	SchemeStandardWebhooks = "standard-webhooks"
	SchemeGitHub           = "github"
	SchemeStripe           = "stripe"
	SchemeHMAC             = "hmac-sha256"
	SchemeIntdash          = "intdash" // hmac-sha256 preset: base64 in X-Intdash-Signature-256
	SchemeToken            = "token"
	SchemeSlack            = "slack"       // hmac-sha256 preset: v0:{timestamp}:{body}, X-Slack-Signature
	SchemeShopify          = "shopify"     // hmac-sha256 preset: base64 of the body, X-Shopify-Hmac-Sha256
	SchemeMeta             = "meta"        // hmac-sha256 preset: sha256=<hex>, X-Hub-Signature-256
	SchemeZoom             = "zoom"        // hmac-sha256 preset: v0:{timestamp}:{body}, x-zm-signature
	SchemeTwilio           = "twilio"      // HMAC-SHA1 of the URL and sorted form parameters, X-Twilio-Signature
	SchemeCloudEvents      = "cloudevents" // incoming CloudEvents (structured, binary, batched); a token or an HMAC
)

// Handshakes a source answers, chosen with "challenge". Each answers the provider's one-time
// verification request and publishes nothing.
const (
	ChallengeSlack      = "slack"       // POST url_verification (signed): answer the challenge
	ChallengeMeta       = "meta"        // GET hub.mode=subscribe with the source's verify_token: answer hub.challenge
	ChallengeZoom       = "zoom"        // POST endpoint.url_validation (signed): plainToken + encryptedToken
	ChallengeOkta       = "okta"        // GET with X-Okta-Verification-Challenge (authenticated): {"verification": …}
	ChallengeTwitterCRC = "twitter-crc" // GET ?crc_token=: {"response_token": "sha256=<base64 HMAC>"}
)

// Dedup says how a request gets its event id when nothing signed (and no trusted
// Idempotency-Key) names the delivery.
type Dedup string

const (
	// DedupBody derives the id from the body: a sender's retry resends identical bytes.
	DedupBody Dedup = "body"
	// DedupNone gives every request a fresh id: people posting by hand mean each post.
	DedupNone Dedup = "none"
)

// ErrConfig is wrapped by every error about the sources config.
var ErrConfig = errors.New("sources config")

// Limits on secrets and signed timestamps. A short secret can be brute-forced from one captured
// signature; a long tolerance keeps a captured request replayable for longer.
const (
	MinSecretBytes = 16
	MaxTolerance   = time.Hour
)

// Config is one source's entry in the sources JSON.
type Config struct {
	Scheme  string   `json:"scheme"`
	Secrets []string `json:"secrets"`
	// Tolerance bounds the age of signed timestamps (Go duration, default "5m").
	Tolerance string `json:"tolerance,omitempty"`
	// hmac-sha256 only.
	Header          string `json:"header,omitempty"`
	Encoding        string `json:"encoding,omitempty"`
	Prefix          string `json:"prefix,omitempty"`
	TimestampHeader string `json:"timestamp_header,omitempty"`
	Template        string `json:"template,omitempty"`
	// Optional conventions, any scheme.
	Dedup      Dedup  `json:"dedup,omitempty"`
	TypeHeader string `json:"type_header,omitempty"`
	// DeliveryHeader names the sender's delivery id header. It is kept as the event's
	// delivery_id for people to read; it is identity only when an hmac-sha256 template signs it
	// as {id}.
	DeliveryHeader string `json:"delivery_header,omitempty"`
	// IdempotencyKey lets the Idempotency-Key header decide the event id (token sources always
	// do: the token holder is trusted). Off, the header is only read as a delivery_id.
	IdempotencyKey bool `json:"idempotency_key,omitempty"`
	// Challenge names the handshake the source answers (slack, meta, zoom, okta, twitter-crc);
	// VerifyToken is the token Meta's subscription GET must carry.
	Challenge   string `json:"challenge,omitempty"`
	VerifyToken string `json:"verify_token,omitempty"`
	// URL is, for twilio, the webhook URL as configured at Twilio (scheme, host and path; the
	// request's query string is appended), when the one hookline sees differs (a proxy, a
	// custom domain). Empty: https://<Host><path> as received.
	URL string `json:"url,omitempty"`
	// Auth is how a cloudevents source authenticates: "token" (default, Authorization: Bearer)
	// or "hmac-sha256" with the hmac fields above.
	Auth string `json:"auth,omitempty"`
	// Front door, checked before any signature work.
	Allow []string `json:"allow,omitempty"` // caller CIDRs (IPv4 and IPv6); empty = anyone
	Rate  *Rate    `json:"rate,omitempty"`  // requests per second with a burst; hookline local only
	// ExpectEvery is how often the source is expected to send at least one event (Go duration,
	// whole minutes from 1m to 24h). The stack alarms when a period passes without one.
	ExpectEvery string `json:"expect_every,omitempty"`
}

// Rate is a token bucket: PerSecond refills, Burst is the bucket size.
type Rate struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst,omitempty"` // default: PerSecond rounded up
}

// File is the whole sources JSON document.
type File struct {
	Sources map[string]Config `json:"sources"`
}

// Source is one configured sender, ready to verify and describe requests.
type Source struct {
	Name     string
	Scheme   string
	Verifier verify.Verifier
	Dedup    Dedup
	// Allow is the caller allowlist; empty lets anyone try a signature.
	Allow []netip.Prefix
	// Rate is the per-source limit, nil for none. It is enforced where one process sees every
	// request to the source (hookline local); on AWS API Gateway's throttles apply instead.
	Rate *Rate
	// TrustKey says the Idempotency-Key header decides the event id (token sources, or
	// "idempotency_key": true).
	TrustKey bool
	// Keys is how many secrets the source has; a verification's key is an index below it.
	Keys int
	// ExpectEvery is how often at least one event is expected; zero when the source may be
	// silent for any time.
	ExpectEvery time.Duration

	// Challenge is the handshake the source answers ("" for none); see the Challenge* names.
	Challenge string
	// URL is the twilio source's configured webhook URL, "" to use the request's.
	URL string

	secrets     []string // for the handshakes that answer with an HMAC (zoom, twitter-crc)
	verifyToken string   // Meta's hub.verify_token
	conv        convention

	deliveryHeaders []string // lower-case, first non-empty wins; read, never identity
	typeHeader      string   // lower-case; "" means the scheme's body convention
	actionType      bool     // append the body's top-level "action" to the header type (GitHub)
	bodyType        bool     // read type/id/version from a JSON body
	bodySignedID    bool     // the body's "id" names the delivery and the signature covers it (Stripe)
	bodySigned      bool     // the signature covers the body (every scheme but token)
}

// Identity says what an event id is derived from.
type Identity int

const (
	// IdentityFresh: nothing names the delivery and the source does not dedup by body; the
	// event gets a fresh, time-ordered id.
	IdentityFresh Identity = iota
	// IdentitySignedID: an id the signature covers (webhook-id, svix-id, Stripe's body id,
	// an hmac-sha256 {id}).
	IdentitySignedID
	// IdentityKey: an Idempotency-Key the source trusts.
	IdentityKey
	// IdentityBody: the hash of the body.
	IdentityBody
)

// Meta is what a request says about itself beyond its body.
type Meta struct {
	DeliveryID string // the sender's id of this delivery, for people to read; "" when it gives none
	Type       string // the event type; event.UnknownType when the convention yields none
	Version    string // the payload version the sender declared, if any

	Identity Identity // what the event id comes from
	Key      string   // the id material for IdentitySignedID and IdentityKey
	// SignedID says whether identity came from signed material: a signed id, or the body
	// under a signature scheme.
	SignedID bool
}

// Allows reports whether a caller at addr may send to s. A source without an allowlist allows
// everyone; with one, an unknown address (the zero Addr) is refused.
func (s *Source) Allows(addr netip.Addr) bool {
	if len(s.Allow) == 0 {
		return true
	}
	addr = addr.Unmap() // ::ffff:192.0.2.1 is 192.0.2.1
	for _, p := range s.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Set is a validated sources config.
type Set struct {
	byName map[string]*Source
}

// NameRule is the rule ValidName checks, as the errors that refuse a name state it.
const NameRule = "1-64 of a-z, 0-9, '-' and '_', starting with a letter or digit"

// ValidName reports whether name follows NameRule. A loop rather than a regexp: compiling one
// costs every Lambda about a millisecond of cold start.
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// Load reads and validates the sources file at path.
func Load(path string) (*Set, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Parse validates a sources JSON document. Unknown fields are errors, so a typo such as
// "secret" for "secrets" is caught at start-up rather than silently ignored.
func Parse(b []byte) (*Set, error) {
	var f File
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the JSON document", ErrConfig)
	}
	return New(f)
}

// New validates f and builds its sources.
func New(f File) (*Set, error) {
	if len(f.Sources) == 0 {
		return nil, fmt.Errorf(`%w: no sources: add at least one under "sources"`, ErrConfig)
	}
	set := &Set{byName: make(map[string]*Source, len(f.Sources))}
	for _, name := range slices.Sorted(maps.Keys(f.Sources)) {
		src, err := build(name, f.Sources[name])
		if err != nil {
			return nil, fmt.Errorf("%w: source %q: %w", ErrConfig, name, err)
		}
		set.byName[name] = src
	}
	return set, nil
}

// Lookup returns the source called name. A Set never fails; the error is there so a Set and a
// Refresher serve the same port.
func (s *Set) Lookup(_ context.Context, name string) (*Source, bool, error) {
	src, ok := s.byName[name]
	return src, ok, nil
}

// Names returns the source names in order.
func (s *Set) Names() []string {
	return slices.Sorted(maps.Keys(s.byName))
}

func build(name string, c Config) (*Source, error) {
	if !ValidName(name) {
		return nil, errors.New("name: use " + NameRule + " (it is a URL path segment)")
	}
	if len(c.Secrets) == 0 {
		return nil, errors.New("secrets: at least one secret is required")
	}
	for i, s := range c.Secrets {
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("secrets[%d]: empty secret", i)
		}
		if n := keyLen(c.Scheme, s); n >= 0 && n < MinSecretBytes {
			return nil, fmt.Errorf("secrets[%d]: the key is %d bytes; use at least %d (random) bytes", i, n, MinSecretBytes)
		}
	}
	tol := time.Duration(0)
	if c.Tolerance != "" {
		d, err := time.ParseDuration(c.Tolerance)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("tolerance: %q is not a positive Go duration such as \"5m\"", c.Tolerance)
		}
		if d > MaxTolerance {
			return nil, fmt.Errorf("tolerance: %q is over the %v maximum (a captured request stays replayable that long)", c.Tolerance, MaxTolerance)
		}
		tol = d
	}
	src := &Source{Name: name, Scheme: c.Scheme, Dedup: DedupBody, Keys: len(c.Secrets), bodySigned: c.Scheme != SchemeToken}
	var err error
	if src.Allow, err = parseAllow(c.Allow); err != nil {
		return nil, err
	}
	if src.Rate, err = checkRate(c.Rate); err != nil {
		return nil, err
	}
	if src.ExpectEvery, err = parseExpectEvery(c.ExpectEvery); err != nil {
		return nil, err
	}
	if !isHMAC(c.Scheme) && !(c.Scheme == SchemeCloudEvents && c.Auth == SchemeHMAC) {
		for field, v := range map[string]string{"header": c.Header, "encoding": c.Encoding, "prefix": c.Prefix, "timestamp_header": c.TimestampHeader, "template": c.Template} {
			if v != "" {
				return nil, fmt.Errorf("%s: only for the %s scheme", field, SchemeHMAC)
			}
		}
	}
	switch c.Scheme {
	case SchemeGitHub:
		src.Verifier, err = verify.NewGitHub(c.Secrets)
		src.deliveryHeaders = []string{"x-github-delivery"}
		src.typeHeader = "x-github-event"
		src.actionType = true
	case SchemeStripe:
		src.Verifier, err = verify.NewStripe(c.Secrets, tol)
		src.bodyType, src.bodySignedID = true, true
	case SchemeStandardWebhooks:
		// The id is the signed webhook-id or svix-id the verifier reports, never a header read
		// here: a webhook-id beside verified svix-* headers is not signed.
		src.Verifier, err = verify.NewStandardWebhooks(c.Secrets, tol)
		src.bodyType = true
	case SchemeHMAC, SchemeIntdash:
		hc := verify.HMACConfig{
			Header: c.Header, Encoding: c.Encoding, Prefix: c.Prefix,
			TimestampHeader: c.TimestampHeader, Template: c.Template, Tolerance: tol, Secrets: c.Secrets,
		}
		if verify.TemplateSignsID(c.Template) {
			if c.DeliveryHeader == "" {
				return nil, errors.New("delivery_header: required when the template signs {id} (the header that carries the id)")
			}
			hc.IDHeader = c.DeliveryHeader
		}
		if c.Scheme == SchemeIntdash {
			if c.Header != "" || c.Encoding != "" || c.Prefix != "" {
				return nil, errors.New("header/encoding/prefix: fixed by the intdash preset; use scheme hmac-sha256 to set them")
			}
			p := verify.Intdash(c.Secrets)
			hc.Header, hc.Encoding = p.Header, p.Encoding
		} else if c.Header == "" {
			return nil, errors.New("header: required for hmac-sha256 (the header that carries the signature)")
		}
		src.Verifier, err = verify.NewHMAC(hc)
		src.bodyType = true
	case SchemeToken:
		src.Verifier, err = verify.NewToken(c.Secrets)
		src.bodyType = true
		src.Dedup = DedupNone
		src.TrustKey = true
	case SchemeSlack:
		// Slack signs the body and the timestamp. Events API bodies carry event_id, which the
		// signature covers: a retry (X-Slack-Retry-Num, unsigned) gets the same event.
		src.Verifier, err = verify.NewHMAC(verify.Slack(c.Secrets, tol))
		src.conv = convSlack
	case SchemeZoom:
		// Zoom signs the body and the timestamp; the body has no id, so identity is the body.
		src.Verifier, err = verify.NewHMAC(verify.Zoom(c.Secrets, tol))
		src.bodyType = true
	case SchemeShopify:
		// Shopify signs only the body: X-Shopify-Webhook-Id and X-Shopify-Topic are unsigned, so
		// the webhook id is only read as delivery_id and identity is the body (Shopify resends
		// the same body when it retries). The topic names the type.
		src.Verifier, err = verify.NewHMAC(verify.Shopify(c.Secrets))
		src.deliveryHeaders = []string{"x-shopify-webhook-id"}
		src.typeHeader = "x-shopify-topic"
	case SchemeMeta:
		// Meta signs only the body and sends no delivery id: identity is the body.
		src.Verifier, err = verify.NewHMAC(verify.Meta(c.Secrets))
		src.conv = convMeta
	case SchemeTwilio:
		// Twilio signs the URL and the form parameters, no timestamp and no id; its
		// I-Twilio-Idempotency-Token is unsigned, kept as delivery_id. Identity is the body.
		src.Verifier, err = verify.NewTwilio(c.Secrets)
		src.deliveryHeaders = []string{"i-twilio-idempotency-token"}
		src.conv = convTwilio
		if c.URL != "" {
			u, perr := url.Parse(c.URL)
			if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				return nil, fmt.Errorf("url: %q is not an http(s) URL without a query (the request's query is appended)", c.URL)
			}
			src.URL = strings.TrimRight(c.URL, "/")
		}
	case SchemeCloudEvents:
		src.conv = convCloudEvents
		switch c.Auth {
		case "", SchemeToken:
			// The token holder is trusted for ids, as with token: ce-source + ce-id decide.
			src.Verifier, err = verify.NewToken(c.Secrets)
			src.TrustKey = true
			src.bodySigned = false
		case SchemeHMAC:
			if c.Header == "" {
				return nil, errors.New("header: required for auth hmac-sha256 (the header that carries the signature)")
			}
			hc := verify.HMACConfig{Header: c.Header, Encoding: c.Encoding, Prefix: c.Prefix,
				TimestampHeader: c.TimestampHeader, Template: c.Template, Tolerance: tol, Secrets: c.Secrets}
			if verify.TemplateSignsID(c.Template) {
				hc.IDHeader = "ce-id" // binary mode: the template signs the id header
			}
			src.Verifier, err = verify.NewHMAC(hc)
		default:
			return nil, fmt.Errorf("auth: %q is neither %q nor %q", c.Auth, SchemeToken, SchemeHMAC)
		}
	case "":
		return nil, fmt.Errorf("scheme: missing; one of %s", strings.Join(Schemes(), ", "))
	default:
		return nil, fmt.Errorf("scheme: unknown scheme %q; one of %s", c.Scheme, strings.Join(Schemes(), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Scheme, err)
	}
	if c.Auth != "" && c.Scheme != SchemeCloudEvents {
		return nil, fmt.Errorf("auth: only for the %s scheme", SchemeCloudEvents)
	}
	if c.URL != "" && c.Scheme != SchemeTwilio {
		return nil, fmt.Errorf("url: only for the %s scheme", SchemeTwilio)
	}
	if err := src.setChallenge(c); err != nil {
		return nil, err
	}
	switch c.Dedup {
	case "":
	case DedupBody, DedupNone:
		src.Dedup = c.Dedup
	default:
		return nil, fmt.Errorf("dedup: %q is neither %q nor %q", c.Dedup, DedupBody, DedupNone)
	}
	if c.TypeHeader != "" {
		src.typeHeader = strings.ToLower(c.TypeHeader)
	}
	if c.DeliveryHeader != "" {
		src.deliveryHeaders = append([]string{strings.ToLower(c.DeliveryHeader)}, src.deliveryHeaders...)
	}
	// Any sender may name its delivery with the de-facto standard header; it decides the id
	// only where the source trusts it (TrustKey).
	src.deliveryHeaders = append(src.deliveryHeaders, "idempotency-key")
	src.TrustKey = src.TrustKey || c.IdempotencyKey
	return src, nil
}

// keyLen is the length in bytes of the key a secret stands for, -1 when the scheme's
// constructor will reject the secret with its own message.
func keyLen(scheme, secret string) int {
	switch scheme {
	case SchemeStandardWebhooks:
		key, err := verify.StandardWebhooksKey(secret)
		if err != nil {
			return -1
		}
		return len(key)
	case SchemeToken:
		// Surrounding white space never reaches the verifier (headers are trimmed).
		return len(strings.TrimSpace(secret))
	}
	return len(secret)
}

// parseAllow parses CIDRs; a bare address allows that one address.
func parseAllow(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range list {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("allow[%d]: %q is not a CIDR such as 192.30.252.0/22 or 2a0a:a440::/29", i, s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			if p.Bits() < 0 {
				return nil, fmt.Errorf("allow[%d]: %q: an IPv4-mapped prefix needs at least /96", i, s)
			}
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// maxRate bounds rate settings far above anything one process serves, so a typo such as 1e9
// is an error instead of no limit.
const maxRate = 1_000_000

func checkRate(r *Rate) (*Rate, error) {
	if r == nil {
		return nil, nil
	}
	if !(r.PerSecond > 0) || r.PerSecond > maxRate {
		return nil, fmt.Errorf("rate.per_second: %v is not a number of requests per second from just above 0 to %d", r.PerSecond, maxRate)
	}
	out := *r
	switch {
	case out.Burst < 0 || out.Burst > maxRate:
		return nil, fmt.Errorf("rate.burst: %d is not from 1 to %d", out.Burst, maxRate)
	case out.Burst == 0:
		out.Burst = int(math.Ceil(out.PerSecond))
	}
	return &out, nil
}

func isHMAC(scheme string) bool { return scheme == SchemeHMAC || scheme == SchemeIntdash }

// Schemes lists the accepted scheme names.
func Schemes() []string {
	return []string{SchemeCloudEvents, SchemeGitHub, SchemeHMAC, SchemeIntdash, SchemeMeta, SchemeShopify, SchemeSlack, SchemeStandardWebhooks, SchemeStripe, SchemeToken, SchemeTwilio, SchemeZoom}
}

// Challenges lists the accepted handshake names.
func Challenges() []string {
	return []string{ChallengeMeta, ChallengeOkta, ChallengeSlack, ChallengeTwitterCRC, ChallengeZoom}
}

func (s *Source) setChallenge(c Config) error {
	if c.VerifyToken != "" && c.Challenge != ChallengeMeta {
		return fmt.Errorf("verify_token: only with \"challenge\": %q", ChallengeMeta)
	}
	switch c.Challenge {
	case "":
		return nil
	case ChallengeMeta:
		if strings.TrimSpace(c.VerifyToken) == "" {
			return errors.New("verify_token: required with \"challenge\": \"meta\" (the token you enter in Meta's app dashboard)")
		}
		s.verifyToken = c.VerifyToken
	case ChallengeSlack, ChallengeZoom, ChallengeOkta, ChallengeTwitterCRC:
	default:
		return fmt.Errorf("challenge: unknown handshake %q; one of %s", c.Challenge, strings.Join(Challenges(), ", "))
	}
	s.Challenge = c.Challenge
	s.secrets = append([]string(nil), c.Secrets...)
	return nil
}

// Silence limits: a CloudWatch alarm period is whole minutes, and one evaluation may span at
// most a day.
const (
	MinExpectEvery = time.Minute
	MaxExpectEvery = 24 * time.Hour
)

func parseExpectEvery(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < MinExpectEvery || d > MaxExpectEvery || d%time.Minute != 0 {
		return 0, fmt.Errorf("expect_every: %q is not whole minutes from %v to %v, such as \"1h\"", v, MinExpectEvery, MaxExpectEvery)
	}
	return d, nil
}

// ExpectEvery reads only the names and expect_every settings of a sources JSON document, for
// tools that must not need the secrets (the CDK app makes a silence alarm per such source).
// Other fields are not validated here; ingest validates the whole document.
func ExpectEvery(b []byte) (map[string]time.Duration, error) {
	var f struct {
		Sources map[string]struct {
			ExpectEvery string `json:"expect_every"`
		} `json:"sources"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	out := map[string]time.Duration{}
	for _, name := range slices.Sorted(maps.Keys(f.Sources)) {
		if !ValidName(name) {
			return nil, fmt.Errorf("%w: source %q: name is not a valid source name", ErrConfig, name)
		}
		d, err := parseExpectEvery(f.Sources[name].ExpectEvery)
		if err != nil {
			return nil, fmt.Errorf("%w: source %q: %w", ErrConfig, name, err)
		}
		if d > 0 {
			out[name] = d
		}
	}
	return out, nil
}
