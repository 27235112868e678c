// Package sender builds webhook requests signed exactly the way each provider signs them
// (GitHub, Stripe, Standard Webhooks/Svix, generic HMAC-SHA256, intdash, bearer token) and
// posts them to a hookline endpoint. It is `hookline send` for people testing a deployment by
// hand, and the one signer tests use to produce requests pkg/verify must accept.
package sender

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio signs with HMAC-SHA1.
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	neturl "net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"hookline/pkg/verify"
)

// Schemes the signer speaks; the names match the sources config.
const (
	GitHub           = "github"
	Stripe           = "stripe"
	StandardWebhooks = "standard-webhooks"
	HMACSHA256       = "hmac-sha256"
	Intdash          = "intdash"
	Token            = "token"
	Slack            = "slack"
	Shopify          = "shopify"
	Meta             = "meta"
	Twilio           = "twilio"
	Zoom             = "zoom"
	CloudEvents      = "cloudevents"
)

// Schemes lists the scheme names in the order help texts show them.
func Schemes() []string {
	return []string{GitHub, Stripe, StandardWebhooks, HMACSHA256, Intdash, Token, Slack, Shopify, Meta, Twilio, Zoom, CloudEvents}
}

// Request is one webhook to sign. Zero values mean the provider's default.
type Request struct {
	Scheme string
	Secret string
	Body   []byte
	// ContentType defaults to application/json for a JSON body, else text/plain; charset=utf-8.
	ContentType string
	// Type is the event type for senders that put it in a header: GitHub's X-GitHub-Event,
	// or TypeHeader for any scheme. Other schemes carry the type in the body.
	Type       string
	TypeHeader string
	// DeliveryID names the delivery: X-GitHub-Delivery (GitHub), webhook-id (Standard
	// Webhooks), HMAC.DeliveryHeader (hmac-sha256), else an Idempotency-Key header. GitHub,
	// Standard Webhooks and an hmac-sha256 template with {id} always send one, so it is
	// generated when empty. Only a signed id (webhook-id, {id}) or, for token sources and
	// sources with "idempotency_key": true, the Idempotency-Key decides the event id.
	DeliveryID string
	// Timestamp is the signed time for the schemes that sign one; zero means now.
	Timestamp time.Time

	// hmac-sha256 only (intdash fixes Header and Encoding).
	HMAC HMACOptions

	// URL is the full URL the request goes to, query included: Twilio signs it. NewRequest
	// fills it in when empty.
	URL string

	// Header holds extra headers, sent as given (after the signature headers, so a test can
	// also overwrite one to send a deliberately wrong signature).
	Header http.Header
}

// HMACOptions mirrors the hmac-sha256 fields of the sources config.
type HMACOptions struct {
	Header          string // the signature header, e.g. X-Signature
	Encoding        string // hex (default) or base64
	Prefix          string // literal before the signature, e.g. "sha256="
	TimestampHeader string // when set, the unix timestamp is sent here and signed
	DeliveryHeader  string // when set, the delivery id is sent here (and signed where the template has {id})
	Template        string // signed content with {id}, {timestamp}, {body}; default {body}, or {timestamp}.{body} with a TimestampHeader
}

// Sign returns the headers the provider would send with r.Body, Content-Type included.
func Sign(r Request) (http.Header, error) {
	if r.Secret == "" {
		return nil, errors.New("secret is empty")
	}
	ts := r.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	unix := strconv.FormatInt(ts.Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", contentType(r))
	delivery := r.DeliveryID
	switch r.Scheme {
	case GitHub:
		if delivery == "" {
			delivery = uuid.NewString()
		}
		h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac([]byte(r.Secret), r.Body)))
		h.Set("X-GitHub-Delivery", delivery)
		typ := r.Type
		if typ == "" {
			typ = "ping" // GitHub's first delivery to a new hook; it always names an event
		}
		h.Set("X-GitHub-Event", typ)
		h.Set("User-Agent", "GitHub-Hookshot/hookline-send")
	case Stripe:
		// The key is the whole whsec_… string as raw bytes, unlike Standard Webhooks.
		sig := mac([]byte(r.Secret), []byte(unix+"."), r.Body)
		h.Set("Stripe-Signature", "t="+unix+",v1="+hex.EncodeToString(sig))
		h.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	case StandardWebhooks:
		key, err := StandardWebhooksKey(r.Secret)
		if err != nil {
			return nil, err
		}
		if delivery == "" {
			delivery = "msg_" + strings.ReplaceAll(uuid.NewString(), "-", "")
		}
		sig := mac(key, []byte(delivery+"."+unix+"."), r.Body)
		h.Set("Webhook-Id", delivery)
		h.Set("Webhook-Timestamp", unix)
		h.Set("Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(sig))
	case Intdash:
		if r.HMAC != (HMACOptions{}) {
			return nil, errors.New("intdash: the preset fixes the header and encoding; use scheme hmac-sha256 to choose them")
		}
		h.Set("X-Intdash-Signature-256", base64.StdEncoding.EncodeToString(mac([]byte(r.Secret), r.Body)))
	case HMACSHA256:
		if err := signHMAC(h, r, unix); err != nil {
			return nil, err
		}
		if r.HMAC.DeliveryHeader != "" {
			delivery = "" // sent in its own header, maybe signed
		}
	case Token:
		h.Set("Authorization", "Bearer "+r.Secret)
	case Slack:
		h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac([]byte(r.Secret), []byte("v0:"+unix+":"), r.Body)))
		h.Set("X-Slack-Request-Timestamp", unix)
		h.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	case Zoom:
		h.Set("X-Zm-Signature", "v0="+hex.EncodeToString(mac([]byte(r.Secret), []byte("v0:"+unix+":"), r.Body)))
		h.Set("X-Zm-Request-Timestamp", unix)
	case Shopify:
		if delivery == "" {
			delivery = uuid.NewString()
		}
		topic := r.Type
		if topic == "" {
			topic = "orders/create"
		}
		h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac([]byte(r.Secret), r.Body)))
		h.Set("X-Shopify-Topic", topic)
		h.Set("X-Shopify-Webhook-Id", delivery)
		h.Set("X-Shopify-Shop-Domain", "hookline-send.myshopify.com")
		h.Set("X-Shopify-Api-Version", "2024-10")
	case Meta:
		h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac([]byte(r.Secret), r.Body)))
	case Twilio:
		sig, err := twilioSignature(r.Secret, r.URL, h.Get("Content-Type"), r.Body)
		if err != nil {
			return nil, err
		}
		h.Set("X-Twilio-Signature", sig)
		if delivery != "" {
			h.Set("I-Twilio-Idempotency-Token", delivery)
			delivery = ""
		}
	case CloudEvents:
		if err := signCloudEvents(h, r, unix); err != nil {
			return nil, err
		}
	case "":
		return nil, fmt.Errorf("no scheme: one of %s", strings.Join(Schemes(), ", "))
	default:
		return nil, fmt.Errorf("unknown scheme %q: one of %s", r.Scheme, strings.Join(Schemes(), ", "))
	}
	if delivery != "" && r.Scheme != GitHub && r.Scheme != StandardWebhooks && r.Scheme != Shopify {
		// The de-facto standard header: every hookline source shows it as the delivery id,
		// and token sources (or "idempotency_key": true) take it as the event's identity.
		h.Set("Idempotency-Key", delivery)
	}
	if r.Type != "" && r.TypeHeader != "" {
		h.Set(r.TypeHeader, r.Type)
	} else if r.Type != "" && r.Scheme != GitHub && r.Scheme != Shopify && r.Scheme != CloudEvents {
		return nil, fmt.Errorf("type: the %s scheme takes the event type from the body; name a type header for sources with type_header", r.Scheme)
	}
	for k, vs := range r.Header {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	return h, nil
}

func signHMAC(h http.Header, r Request, unix string) error {
	o := r.HMAC
	if o.Header == "" {
		return errors.New("hmac-sha256: no signature header: name the header the source's config sets")
	}
	tmpl := o.Template
	if tmpl == "" {
		tmpl = "{body}"
		if o.TimestampHeader != "" {
			tmpl = "{timestamp}.{body}"
		}
	}
	if strings.Count(tmpl, "{body}") != 1 {
		return fmt.Errorf("hmac-sha256: template %q must contain {body} exactly once", tmpl)
	}
	if strings.Contains(tmpl, "{timestamp}") != (o.TimestampHeader != "") {
		return errors.New("hmac-sha256: a template with {timestamp} needs a timestamp header, and a timestamp header needs {timestamp} in the template")
	}
	delivery := r.DeliveryID
	if strings.Contains(tmpl, "{id}") {
		if o.DeliveryHeader == "" {
			return errors.New("hmac-sha256: a template with {id} needs a delivery header (the source's delivery_header)")
		}
		if delivery == "" {
			delivery = uuid.NewString()
		}
	}
	if o.DeliveryHeader != "" && delivery != "" {
		h.Set(o.DeliveryHeader, delivery)
	}
	before, after := expandTemplate(tmpl, delivery, unix)
	sig := mac([]byte(r.Secret), []byte(before), r.Body, []byte(after))
	var enc string
	switch strings.ToLower(o.Encoding) {
	case "", "hex":
		enc = hex.EncodeToString(sig)
	case "base64":
		enc = base64.StdEncoding.EncodeToString(sig)
	default:
		return fmt.Errorf("hmac-sha256: encoding %q is neither hex nor base64", o.Encoding)
	}
	h.Set(o.Header, o.Prefix+enc)
	if o.TimestampHeader != "" {
		h.Set(o.TimestampHeader, unix)
	}
	return nil
}

// expandTemplate returns the signed content around {body}, with {id} and {timestamp} filled in
// one pass, so an id that happens to contain "{timestamp}" is still signed as sent.
func expandTemplate(tmpl, id, ts string) (before, after string) {
	var b strings.Builder
	for tmpl != "" {
		switch {
		case strings.HasPrefix(tmpl, "{body}"):
			before = b.String()
			b.Reset()
			tmpl = tmpl[len("{body}"):]
		case strings.HasPrefix(tmpl, "{id}"):
			b.WriteString(id)
			tmpl = tmpl[len("{id}"):]
		case strings.HasPrefix(tmpl, "{timestamp}"):
			b.WriteString(ts)
			tmpl = tmpl[len("{timestamp}"):]
		default:
			b.WriteByte(tmpl[0])
			tmpl = tmpl[1:]
		}
	}
	return before, b.String()
}

// StandardWebhooksKey decodes a "whsec_<base64>" secret (or the bare base64) to the HMAC key,
// exactly as the verifier does.
func StandardWebhooksKey(secret string) ([]byte, error) {
	key, err := verify.StandardWebhooksKey(secret)
	if err != nil {
		return nil, fmt.Errorf("standard-webhooks: secret: %w", err)
	}
	return key, nil
}

// AsSvix moves the Standard Webhooks headers Sign made (webhook-id, webhook-timestamp,
// webhook-signature) to the svix-* names under which Svix sends the same signature.
func AsSvix(h http.Header) {
	for _, n := range []string{"Id", "Timestamp", "Signature"} {
		if v := h.Get("Webhook-" + n); v != "" {
			h.Set("Svix-"+n, v)
			h.Del("Webhook-" + n)
		}
	}
}

// twilioSignature is base64(HMAC-SHA1(auth token, URL + form parameters sorted by name)), as
// the twilio library's getExpectedTwilioSignature computes it; a JSON body is signed through
// the bodySHA256 parameter Twilio adds to the URL (the caller puts it there).
func twilioSignature(token, rawURL, contentType string, body []byte) (string, error) {
	if rawURL == "" {
		return "", errors.New("twilio: the URL is unknown (it is signed)")
	}
	var params string
	mt, _, _ := strings.Cut(contentType, ";")
	if strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded") && !strings.Contains(rawURL, "bodySHA256=") {
		form, err := neturl.ParseQuery(string(body))
		if err != nil {
			return "", fmt.Errorf("twilio: form body: %w", err)
		}
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(form)) {
			vals := append([]string(nil), form[k]...)
			sort.Strings(vals)
			for i, v := range vals {
				if i > 0 && v == vals[i-1] {
					continue
				}
				b.WriteString(k + v)
			}
		}
		params = b.String()
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(rawURL + params))
	return base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

func mac(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func contentType(r Request) string {
	switch {
	case r.ContentType != "":
		return r.ContentType
	case json.Valid(r.Body):
		return "application/json"
	default:
		return "text/plain; charset=utf-8"
	}
}

// NewRequest returns the signed POST of r to <baseURL>/webhooks/<source>.
func NewRequest(ctx context.Context, baseURL, source string, r Request) (*http.Request, error) {
	if source == "" {
		return nil, errors.New("source is empty")
	}
	url := strings.TrimRight(baseURL, "/") + "/webhooks/" + source
	if r.URL == "" {
		r.URL = url
	} else if !strings.HasPrefix(r.URL, url) {
		// The signed URL may name the public host (Twilio's console URL); the query it carries
		// is sent too.
		if _, q, ok := strings.Cut(r.URL, "?"); ok {
			url += "?" + q
		}
	} else {
		url = r.URL
	}
	h, err := Sign(r)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(r.Body))
	if err != nil {
		return nil, fmt.Errorf("request to %s: %w", url, err)
	}
	req.Header = h
	return req, nil
}

// Response is what the receiver answered.
type Response struct {
	Status     string // "202 Accepted"
	StatusCode int
	Header     http.Header
	Body       []byte
	EventID    string // from the JSON body's "id", else the Location header; "" when neither
}

// OK reports a 2xx answer.
func (r Response) OK() bool { return r.StatusCode >= 200 && r.StatusCode < 300 }

// maxResponse bounds how much of an answer is kept; hookline's answers are tiny.
const maxResponse = 1 << 20

// Send signs r, posts it and reads the answer. A non-2xx answer is not an error here: the
// caller shows it (a 401's problem detail is the useful part).
func Send(ctx context.Context, client *http.Client, baseURL, source string, r Request) (Response, error) {
	req, err := NewRequest(ctx, baseURL, source, r)
	if err != nil {
		return Response{}, err
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("post %s: %w", req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return Response{}, fmt.Errorf("read answer of %s: %w", req.URL, err)
	}
	out := Response{Status: resp.Status, StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
	var accepted struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &accepted) == nil && accepted.ID != "" && out.OK() {
		out.EventID = accepted.ID
	} else if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, "/events/") {
		out.EventID = strings.TrimPrefix(loc, "/events/")
	}
	return out, nil
}

// Print writes the answer the way `hookline send` shows it: the status line, the body, and
// the event id on a line of its own so scripts can pick it up.
func (r Response) Print(w io.Writer) error {
	body := bytes.TrimRight(r.Body, "\n")
	var err error
	if len(body) > 0 {
		_, err = fmt.Fprintf(w, "%s\n%s\n", r.Status, body)
	} else {
		_, err = fmt.Fprintf(w, "%s\n", r.Status)
	}
	if err == nil && r.EventID != "" {
		_, err = fmt.Fprintf(w, "event id: %s\n", r.EventID)
	}
	return err
}

// ReadBody reads the body argument of `hookline send`: "-" is stdin, "@path" a file, anything
// else the literal text.
func ReadBody(arg string, stdin io.Reader) ([]byte, error) {
	switch {
	case arg == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read body from stdin: %w", err)
		}
		return b, nil
	case arg == "@":
		return nil, errors.New("read body: @ needs a file name (@body.json)")
	case strings.HasPrefix(arg, "@"):
		b, err := os.ReadFile(arg[1:])
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		return b, nil
	default:
		return []byte(arg), nil
	}
}

// signCloudEvents authenticates a CloudEvents post: a bearer token by default, or, with
// HMAC options, the hmac-sha256 signature the source's "auth": "hmac-sha256" checks. The body
// is sent as given (structured or batched JSON); binary mode is ce-* headers in r.Header.
func signCloudEvents(h http.Header, r Request, unix string) error {
	if r.HMAC.Header == "" {
		h.Set("Authorization", "Bearer "+r.Secret)
		return nil
	}
	return signHMAC(h, r, unix)
}
