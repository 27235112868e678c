package verify

import (
	"crypto/hmac"
	"fmt"
	"strings"
	"time"
)

// HMACConfig configures a generic HMAC-SHA256 signature header (the "hmac-sha256" scheme).
type HMACConfig struct {
	Header          string        // header carrying the signature, e.g. "X-Intdash-Signature-256" (matched case-insensitively)
	Encoding        string        // "hex" (default) or "base64" (standard or URL-safe alphabet, padded or not)
	Prefix          string        // optional literal prefix before the signature, e.g. "sha256="
	TimestampHeader string        // optional; when set the timestamp (unix seconds) is required and checked against Tolerance
	IDHeader        string        // optional; the header whose value the template signs as {id}; required with {id}, and only then
	Template        string        // optional signed-content template using {id}, {timestamp} and {body}; default "{body}" or, with a TimestampHeader, "{timestamp}.{body}"
	Tolerance       time.Duration // default DefaultTolerance when TimestampHeader set
	Secrets         []string
}

// Intdash is the preset for intdash webhooks: base64 HMAC-SHA256 of the body in
// X-Intdash-Signature-256.
func Intdash(secrets []string) HMACConfig {
	return HMACConfig{Header: "X-Intdash-Signature-256", Encoding: "base64", Secrets: secrets}
}

// HMAC verifies a configurable HMAC-SHA256 signature header; see HMACConfig.
type HMAC struct {
	macs      []*keyedMAC
	header    string // lower-case
	tsHeader  string // lower-case, "" when unsigned by time
	idHeader  string // lower-case, "" when the template signs no id
	prefix    string
	base64    bool
	tolerance time.Duration
	parts     []tmplPart

	errMissing, errPrefix, errEncoding, errNoMatch *verifyError
	errNoTS, errBadTS                              *verifyError
	errNoID                                        *verifyError
}

type tmplKind uint8

const (
	tmplLiteral tmplKind = iota
	tmplTimestamp
	tmplBody
	tmplID
)

type tmplPart struct {
	kind tmplKind
	lit  []byte
}

// parseTemplate splits a template into literals, {id}, {timestamp} and {body}. {body} must
// occur exactly once; any other {…} is an error so a typo cannot silently change what is signed.
func parseTemplate(t string) (parts []tmplPart, hasTS, hasID bool, err error) {
	bodies := 0
	for t != "" {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			parts = append(parts, tmplPart{kind: tmplLiteral, lit: []byte(t)})
			break
		}
		if i > 0 {
			parts = append(parts, tmplPart{kind: tmplLiteral, lit: []byte(t[:i])})
		}
		t = t[i:]
		switch {
		case strings.HasPrefix(t, "{body}"):
			parts = append(parts, tmplPart{kind: tmplBody})
			bodies++
			t = t[len("{body}"):]
		case strings.HasPrefix(t, "{timestamp}"):
			parts = append(parts, tmplPart{kind: tmplTimestamp})
			hasTS = true
			t = t[len("{timestamp}"):]
		case strings.HasPrefix(t, "{id}"):
			parts = append(parts, tmplPart{kind: tmplID})
			hasID = true
			t = t[len("{id}"):]
		default:
			return nil, false, false, fmt.Errorf("verify: hmac-sha256: template has an unknown placeholder (only {id}, {timestamp} and {body})")
		}
	}
	if bodies != 1 {
		return nil, false, false, fmt.Errorf("verify: hmac-sha256: template must contain {body} exactly once")
	}
	return parts, hasTS, hasID, nil
}

// TemplateSignsID reports whether an hmac-sha256 template signs a delivery id ({id}), so the
// sources config can tell which header then becomes the event's identity.
func TemplateSignsID(t string) bool { return strings.Contains(t, "{id}") }

// NewHMAC returns a verifier for cfg.
func NewHMAC(cfg HMACConfig) (*HMAC, error) {
	if err := checkSecrets("hmac-sha256", cfg.Secrets); err != nil {
		return nil, err
	}
	v := &HMAC{
		header:   strings.ToLower(strings.TrimSpace(cfg.Header)),
		tsHeader: strings.ToLower(strings.TrimSpace(cfg.TimestampHeader)),
		idHeader: strings.ToLower(strings.TrimSpace(cfg.IDHeader)),
		prefix:   cfg.Prefix,
	}
	if v.header == "" {
		return nil, fmt.Errorf("verify: hmac-sha256: no signature header")
	}
	if v.tsHeader == v.header {
		return nil, fmt.Errorf("verify: hmac-sha256: timestamp header is the signature header")
	}
	if v.idHeader != "" && (v.idHeader == v.header || v.idHeader == v.tsHeader) {
		return nil, fmt.Errorf("verify: hmac-sha256: id header is the signature or timestamp header")
	}
	switch strings.ToLower(cfg.Encoding) {
	case "", "hex":
	case "base64":
		v.base64 = true
	default:
		return nil, fmt.Errorf("verify: hmac-sha256: unknown encoding %q (want hex or base64)", cfg.Encoding)
	}
	if cfg.Tolerance < 0 {
		return nil, fmt.Errorf("verify: hmac-sha256: negative tolerance %v", cfg.Tolerance)
	}
	tmpl := cfg.Template
	if tmpl == "" {
		tmpl = "{body}"
		if v.tsHeader != "" {
			tmpl = "{timestamp}.{body}"
		}
	}
	parts, hasTS, hasID, err := parseTemplate(tmpl)
	if err != nil {
		return nil, err
	}
	switch {
	case hasTS && v.tsHeader == "":
		return nil, fmt.Errorf("verify: hmac-sha256: template uses {timestamp} but no timestamp header is set")
	case !hasTS && v.tsHeader != "":
		return nil, fmt.Errorf("verify: hmac-sha256: timestamp header is set but the template does not sign {timestamp}")
	case hasID && v.idHeader == "":
		return nil, fmt.Errorf("verify: hmac-sha256: template uses {id} but no id header is set")
	case !hasID && v.idHeader != "":
		return nil, fmt.Errorf("verify: hmac-sha256: id header is set but the template does not sign {id}")
	}
	v.parts = parts
	if v.tsHeader != "" {
		v.tolerance, _ = toleranceOrDefault("hmac-sha256", cfg.Tolerance)
	}
	v.macs = keyedMACs(rawKeys(cfg.Secrets))

	enc := hex32
	if v.base64 {
		enc = b64x32
	}
	v.errMissing = absent(ErrMissingSignature, v.header)
	v.errPrefix = newErr(ErrMalformedSignature, v.header+": missing the configured prefix")
	v.errEncoding, v.errNoMatch = sigErrs(v.header, enc)
	v.errNoTS = absent(ErrMissingTimestamp, v.tsHeader)
	v.errBadTS = notUnix(v.tsHeader)
	v.errNoID = newErr(ErrMalformedSignature, v.idHeader+" header absent (the signature covers it)")
	return v, nil
}

// Verify implements Verifier; Result.Timestamp is the signed timestamp when one is configured,
// Result.ID the signed {id} when the template has one.
func (v *HMAC) Verify(h Header, body []byte, now time.Time) (Result, error) {
	sig := trimOWS(h.Get(v.header))
	if sig == "" {
		return Result{}, v.errMissing
	}
	if v.prefix != "" {
		var ok bool
		if sig, ok = strings.CutPrefix(sig, v.prefix); !ok {
			return Result{}, v.errPrefix
		}
	}
	var got [32]byte
	var ok bool
	if v.base64 {
		got, ok = decodeB64x32(sig)
	} else {
		got, ok = decodeHex32(sig)
	}
	if !ok {
		return Result{}, v.errEncoding
	}
	var res Result
	var tsRaw string
	if v.tsHeader != "" {
		tsRaw = trimOWS(h.Get(v.tsHeader))
		if tsRaw == "" {
			return Result{}, v.errNoTS
		}
		ts, ok := parseUnix(tsRaw)
		if !ok {
			return Result{}, v.errBadTS
		}
		if err := checkFresh(v.tsHeader+": ", ts, now, v.tolerance); err != nil {
			return Result{}, err
		}
		res.Timestamp = time.Unix(ts, 0).UTC()
	}
	if v.idHeader != "" {
		if res.ID = trimOWS(h.Get(v.idHeader)); res.ID == "" {
			return Result{}, v.errNoID
		}
	}
	for i, m := range v.macs {
		s := m.get()
		for _, p := range v.parts {
			switch p.kind {
			case tmplLiteral:
				s.h.Write(p.lit)
			case tmplTimestamp:
				// The timestamp is signed as sent (digits only, checked above).
				s.buf = append(s.buf[:0], tsRaw...)
				s.h.Write(s.buf)
			case tmplID:
				s.buf = append(s.buf[:0], res.ID...)
				s.h.Write(s.buf)
			case tmplBody:
				s.h.Write(body)
			}
		}
		want := m.finish(s)
		if hmac.Equal(want[:], got[:]) {
			res.Key = i
			return res, nil
		}
	}
	return Result{}, v.errNoMatch
}
