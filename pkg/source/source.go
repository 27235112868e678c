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
	"os"
	"sort"
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
)

// Dedup says how a request without a sender delivery id gets its event id.
type Dedup string

const (
	// DedupBody derives the id from the body: a sender's retry resends identical bytes.
	DedupBody Dedup = "body"
	// DedupNone gives every request a fresh id: people posting by hand mean each post.
	DedupNone Dedup = "none"
)

// ErrConfig is wrapped by every error about the sources config.
var ErrConfig = errors.New("sources config")

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
	Dedup          Dedup  `json:"dedup,omitempty"`
	TypeHeader     string `json:"type_header,omitempty"`
	DeliveryHeader string `json:"delivery_header,omitempty"`
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

	deliveryHeaders []string // lower-case, first non-empty wins
	typeHeader      string   // lower-case; "" means the scheme's body convention
	bodyType        bool     // read type/id/version from a JSON body
	deliveryFromID  bool     // the body's "id" names the delivery (Stripe)
}

// Meta is what a request says about itself beyond its body.
type Meta struct {
	DeliveryID string // the sender's id of this delivery; "" when it gives none
	Type       string // the event type; event.UnknownType when the convention yields none
	Version    string // the payload version the sender declared, if any
}

// Set is a validated sources config.
type Set struct {
	byName map[string]*Source
}

// validName reports whether name is 1-64 of a-z, 0-9, '-' and '_', starting with a letter or
// digit. A loop rather than a regexp: compiling one costs every Lambda about a millisecond of
// cold start.
func validName(name string) bool {
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
	for _, name := range sortedKeys(f.Sources) {
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
	return sortedKeys(s.byName)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func build(name string, c Config) (*Source, error) {
	if !validName(name) {
		return nil, errors.New("name: use 1-64 of a-z, 0-9, '-' and '_', starting with a letter or digit (it is a URL path segment)")
	}
	if len(c.Secrets) == 0 {
		return nil, errors.New("secrets: at least one secret is required")
	}
	for i, s := range c.Secrets {
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("secrets[%d]: empty secret", i)
		}
	}
	tol := time.Duration(0)
	if c.Tolerance != "" {
		d, err := time.ParseDuration(c.Tolerance)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("tolerance: %q is not a positive Go duration such as \"5m\"", c.Tolerance)
		}
		tol = d
	}
	src := &Source{Name: name, Scheme: c.Scheme, Dedup: DedupBody}
	if !isHMAC(c.Scheme) {
		for field, v := range map[string]string{"header": c.Header, "encoding": c.Encoding, "prefix": c.Prefix, "timestamp_header": c.TimestampHeader, "template": c.Template} {
			if v != "" {
				return nil, fmt.Errorf("%s: only for the %s scheme", field, SchemeHMAC)
			}
		}
	}
	var err error
	switch c.Scheme {
	case SchemeGitHub:
		src.Verifier, err = verify.NewGitHub(c.Secrets)
		src.deliveryHeaders = []string{"x-github-delivery"}
		src.typeHeader = "x-github-event"
	case SchemeStripe:
		src.Verifier, err = verify.NewStripe(c.Secrets, tol)
		src.bodyType, src.deliveryFromID = true, true
	case SchemeStandardWebhooks:
		src.Verifier, err = verify.NewStandardWebhooks(c.Secrets, tol)
		src.deliveryHeaders = []string{"webhook-id", "svix-id"}
		src.bodyType = true
	case SchemeHMAC, SchemeIntdash:
		hc := verify.HMACConfig{
			Header: c.Header, Encoding: c.Encoding, Prefix: c.Prefix,
			TimestampHeader: c.TimestampHeader, Template: c.Template, Tolerance: tol, Secrets: c.Secrets,
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
	case "":
		return nil, fmt.Errorf("scheme: missing; one of %s", strings.Join(Schemes(), ", "))
	default:
		return nil, fmt.Errorf("scheme: unknown scheme %q; one of %s", c.Scheme, strings.Join(Schemes(), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Scheme, err)
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
	// Any sender may name its delivery with the de-facto standard header.
	src.deliveryHeaders = append(src.deliveryHeaders, "idempotency-key")
	return src, nil
}

func isHMAC(scheme string) bool { return scheme == SchemeHMAC || scheme == SchemeIntdash }

// Schemes lists the accepted scheme names.
func Schemes() []string {
	return []string{SchemeGitHub, SchemeHMAC, SchemeIntdash, SchemeStandardWebhooks, SchemeStripe, SchemeToken}
}
