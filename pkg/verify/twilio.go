package verify

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's signature is HMAC-SHA1; HMAC-SHA1 is not broken by SHA-1 collisions.
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// Twilio verifies X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + the POST parameters
// sorted by name, each as name+value)), the algorithm of the twilio library's
// getExpectedTwilioSignature and validateRequest. The URL is the full URL Twilio requested,
// query string included; for a JSON body Twilio signs the URL alone, which carries
// bodySHA256=<hex SHA-256 of the body>, and that hash must match the body
// (validateRequestWithBody). Twilio signs no timestamp and no delivery id: a captured request
// stays valid, so identity is the body (a replay maps onto the original event).
type Twilio struct {
	keys [][]byte
}

// NewTwilio returns a Twilio verifier accepting any of the auth tokens in secrets.
func NewTwilio(secrets []string) (*Twilio, error) {
	if err := checkSecrets("twilio", secrets); err != nil {
		return nil, err
	}
	return &Twilio{keys: rawKeys(secrets)}, nil
}

// URLHeader is a Header that also knows the URL the request was sent to, as the sender saw
// it (scheme, host, path and query). Twilio signs it.
type URLHeader interface {
	Header
	URL() string
}

var (
	twilioSignature  = signatureHeader("x-twilio-signature")
	errTwilioURL     = newErr(ErrMalformedSignature, "x-twilio-signature: the request URL is unknown")
	errTwilioEnc     = newErr(ErrMalformedSignature, "x-twilio-signature: not base64 of 20 bytes")
	errTwilioForm    = newErr(ErrMalformedSignature, "x-twilio-signature: the form body does not parse")
	errTwilioBody    = newErr(ErrNoMatch, "bodySHA256 in the URL does not match the body")
	errTwilioNoMatch = newErr(ErrNoMatch, "x-twilio-signature matches no auth token")
)

// Verify implements Verifier; h must be a URLHeader. The Result has no timestamp and no id.
func (t *Twilio) Verify(h Header, body []byte, _ time.Time) (Result, error) {
	sig, err := twilioSignature.in(h)
	if err != nil {
		return Result{}, err
	}
	uh, ok := h.(URLHeader)
	if !ok || uh.URL() == "" {
		return Result{}, errTwilioURL
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(got) != sha1.Size {
		return Result{}, errTwilioEnc
	}
	rawURL := uh.URL()
	u, err := url.Parse(rawURL)
	if err != nil {
		return Result{}, errTwilioURL
	}
	var params string
	if bodyHash := u.Query().Get("bodySHA256"); bodyHash != "" {
		sum := sha256.Sum256(body)
		want := hex.EncodeToString(sum[:])
		if !hmac.Equal([]byte(strings.ToLower(bodyHash)), []byte(want)) {
			return Result{}, errTwilioBody
		}
	} else if isForm(h.Get("content-type")) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return Result{}, errTwilioForm
		}
		params = sortedParams(form)
	}
	// Twilio signs the URL as it requested it, with or without the default port; the library
	// tries both, and so does this.
	for _, candidate := range urlVariants(u, rawURL) {
		for i, key := range t.keys {
			m := hmac.New(sha1.New, key)
			m.Write([]byte(candidate))
			m.Write([]byte(params))
			if hmac.Equal(m.Sum(nil), got) {
				return Result{Key: i}, nil
			}
		}
	}
	return Result{}, errTwilioNoMatch
}

func isForm(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

// sortedParams is name+value of every parameter, names sorted, a name's distinct values sorted
// (the twilio library's toFormUrlEncodedParam over Object.keys(params).sort()).
func sortedParams(form url.Values) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(form)) {
		vals := form[k]
		if len(vals) > 1 {
			seen := map[string]bool{}
			var uniq []string
			for _, v := range vals {
				if !seen[v] {
					seen[v] = true
					uniq = append(uniq, v)
				}
			}
			sort.Strings(uniq)
			vals = uniq
		}
		for _, v := range vals {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	return b.String()
}

// urlVariants is the URL as received, then without and with the scheme's default port.
func urlVariants(u *url.URL, raw string) []string {
	out := []string{raw}
	port := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	if port == "" {
		return out
	}
	v := *u
	if u.Port() == port {
		v.Host = u.Hostname()
	} else if u.Port() == "" {
		v.Host = u.Host + ":" + port
	} else {
		return out
	}
	return append(out, v.String())
}
