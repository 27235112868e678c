package source

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"

	"hookline/pkg/event"
	"hookline/pkg/verify"
)

// MaxMetaLen bounds a delivery id, type or version taken from a request; longer values are cut
// so one sender cannot bloat every index entry.
const MaxMetaLen = 256

// bodyFields are the conventions senders use inside JSON bodies.
type bodyFields struct {
	ID           string          `json:"id"`            // Stripe: the event id names the delivery and is signed
	Type         string          `json:"type"`          // Stripe, Standard Webhooks, most senders
	Event        string          `json:"event"`         // auth services: {"event": "user.registered"}
	ResourceType string          `json:"resource_type"` // intdash: resource_type.action
	Action       string          `json:"action"`
	Version      json.RawMessage `json:"version"` // a string or a number
}

// Describe reads the request's delivery id, event type and payload version by the source's
// conventions, and decides what the event's identity is made of. It runs after verification,
// so it only sees authentic requests; res is what the verifier reported.
//
// Identity comes only from what the signature covers: the id the verifier reports (webhook-id,
// svix-id, an hmac-sha256 {id}), Stripe's body id; else a trusted Idempotency-Key (token
// sources, "idempotency_key": true); else the body (dedup "body") or nothing (dedup "none").
// Unsigned delivery headers (X-GitHub-Delivery, delivery_header) are only read as DeliveryID.
func (s *Source) Describe(h verify.Header, body []byte, res verify.Result) Meta {
	var m Meta
	for _, name := range s.deliveryHeaders {
		if v := h.Get(name); v != "" {
			m.DeliveryID = v
			break
		}
	}
	if s.typeHeader != "" {
		m.Type = h.Get(s.typeHeader)
		// GitHub's types name the action as octokit does (issues.opened, pull_request.closed):
		// both levels can then be selected, the action with ?type=issues.opened, the event with
		// the prefix ?type=issues. A body without an action (push) keeps the event alone.
		if s.actionType && m.Type != "" && !githubWithoutAction(m.Type) {
			if a, ok := event.TopLevelString(body, "action"); ok && len(a) > 0 {
				m.Type = m.Type + "." + string(a)
			}
		}
	}
	m.Version = h.Get("x-webhook-version")

	var bodyID string
	if s.bodyType && (m.Type == "" || m.Version == "" || s.bodySignedID) {
		if f, ok := parseBody(body); ok {
			if m.Type == "" {
				m.Type = bodyType(f)
			}
			if m.Version == "" {
				m.Version = versionString(f.Version)
			}
			bodyID = strings.TrimSpace(f.ID)
		}
	}
	switch s.conv {
	case convSlack:
		var signedID string
		m.Type, signedID = slackFields(h, body)
		if signedID != "" {
			bodyID = signedID // event_id: inside the signed body
		}
	case convMeta:
		m.Type = metaType(body)
	case convTwilio:
		m.Type = twilioType(h, body)
	}
	key := strings.TrimSpace(h.Get("idempotency-key"))
	switch {
	case res.ID != "":
		m.Identity, m.Key, m.DeliveryID = IdentitySignedID, res.ID, res.ID
	case (s.bodySignedID || s.conv == convSlack) && bodyID != "":
		m.Identity, m.Key, m.DeliveryID = IdentitySignedID, bodyID, bodyID
	case s.TrustKey && key != "":
		m.Identity, m.Key = IdentityKey, key
	case s.Dedup == DedupBody:
		m.Identity = IdentityBody
	default:
		m.Identity = IdentityFresh
	}
	m.SignedID = m.Identity == IdentitySignedID || (m.Identity == IdentityBody && s.bodySigned)
	m.DeliveryID = clip(m.DeliveryID)
	m.Type = clip(m.Type)
	m.Version = clip(m.Version)
	if m.Type == "" { // after clip: a type of only spaces or control characters is none
		m.Type = event.UnknownType
	}
	return m
}

// githubWithoutAction names GitHub's event types whose payloads have no "action" (octokit's
// webhook types): their bodies are not scanned for one, which would read a whole push body,
// the most common delivery, to find nothing.
func githubWithoutAction(typ string) bool {
	switch typ {
	case "push", "create", "delete", "fork", "gollum", "ping", "public", "status":
		return true
	}
	return false
}

// convention is a provider's way of naming types and ids inside its bodies, where the generic
// body fields (type, event, resource_type.action, id) do not fit.
type convention uint8

const (
	convDefault     convention = iota
	convSlack                  // event_callback → event.type, event_id; slash commands; interactivity payloads
	convMeta                   // object + "." + entry[0].changes[0].field (or "messaging")
	convTwilio                 // form: message.<MessageStatus>, call.<CallStatus>
	convCloudEvents            // ce-type / the event's type (pkg/cloudevents reads it)
)

// slackFields reads a Slack request's type and its signed id. Events API: the inner event's
// type (app_mention, message) and event_id; other JSON (url_verification, app_rate_limited):
// type. Form bodies: a slash command is "slash_command", an interactivity post the type of
// its payload (block_actions, view_submission).
func slackFields(h verify.Header, body []byte) (typ, id string) {
	var f struct {
		Type    string `json:"type"`
		EventID string `json:"event_id"`
		Event   struct {
			Type string `json:"type"`
		} `json:"event"`
	}
	if isFormBody(h) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return "", ""
		}
		if form.Get("command") != "" {
			return "slash_command", ""
		}
		if p := form.Get("payload"); p != "" && json.Unmarshal([]byte(p), &f) == nil {
			return f.Type, ""
		}
		return "", ""
	}
	if json.Unmarshal(body, &f) != nil {
		return "", ""
	}
	if f.Type == "event_callback" && f.Event.Type != "" {
		return f.Event.Type, strings.TrimSpace(f.EventID)
	}
	return f.Type, strings.TrimSpace(f.EventID)
}

// metaType is "<object>.<field>" of a Meta (Facebook, Instagram, WhatsApp) webhook: the object
// subscribed to and the field that changed, or "<object>.messaging" for Messenger's messaging
// entries.
func metaType(body []byte) string {
	var f struct {
		Object string `json:"object"`
		Entry  []struct {
			Changes []struct {
				Field string `json:"field"`
			} `json:"changes"`
			Messaging json.RawMessage `json:"messaging"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &f) != nil || f.Object == "" {
		return ""
	}
	if len(f.Entry) > 0 {
		e := f.Entry[0]
		if len(e.Changes) > 0 && e.Changes[0].Field != "" {
			return f.Object + "." + e.Changes[0].Field
		}
		if len(e.Messaging) > 0 {
			return f.Object + ".messaging"
		}
	}
	return f.Object
}

// twilioType names a Twilio form post by what it reports: message.<MessageStatus> (or
// SmsStatus), call.<CallStatus>; JSON bodies use the generic conventions.
func twilioType(h verify.Header, body []byte) string {
	if !isFormBody(h) {
		if f, ok := parseBody(body); ok {
			return bodyType(f)
		}
		return ""
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	switch {
	case form.Get("MessageStatus") != "":
		return "message." + strings.ToLower(form.Get("MessageStatus"))
	case form.Get("SmsStatus") != "":
		return "message." + strings.ToLower(form.Get("SmsStatus"))
	case form.Get("CallStatus") != "":
		return "call." + strings.ToLower(form.Get("CallStatus"))
	case form.Get("MessageSid") != "":
		return "message"
	case form.Get("CallSid") != "":
		return "call"
	}
	return ""
}

func isFormBody(h verify.Header) bool {
	mt, _, _ := strings.Cut(h.Get("content-type"), ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

func parseBody(body []byte) (bodyFields, bool) {
	var f bodyFields
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return f, false
	}
	// Fields of the wrong JSON type fail the whole decode; that only loses the conventions,
	// never the event, so the error is not interesting.
	if json.Unmarshal(body, &f) != nil {
		return bodyFields{}, false
	}
	return f, true
}

func bodyType(f bodyFields) string {
	switch {
	case f.ResourceType != "" && f.Action != "":
		return f.ResourceType + "." + f.Action
	case f.Type != "":
		return f.Type
	case f.Event != "":
		return f.Event
	}
	return ""
}

func versionString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// clip drops control characters, which have no place in a type or id, and cuts s to
// MaxMetaLen bytes without splitting a UTF-8 sequence.
func clip(s string) string {
	if strings.IndexFunc(s, isControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if isControl(r) {
				return -1
			}
			return r
		}, s)
	}
	s = strings.TrimSpace(s)
	if len(s) > MaxMetaLen {
		cut := MaxMetaLen
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut]
	}
	return s
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
