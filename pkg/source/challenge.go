package source

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"

	"hookline/pkg/verify"
)

// Reply is a handshake's answer: what the provider's verification request must get back.
type Reply struct {
	Status      int
	ContentType string
	Body        []byte
}

// Handshake errors; the ingest service maps them to statuses (a missing parameter is the
// caller's malformed request, a wrong verify token an authentication failure).
var (
	ErrHandshakeMalformed = errors.New("malformed handshake")
	ErrHandshakeToken     = errors.New("handshake token does not match")
)

// AnswersGET reports whether the source's handshake arrives as a GET (Meta, Okta, X/Twitter
// CRC); every other GET to a webhook URL is a 405.
func (s *Source) AnswersGET() bool {
	switch s.Challenge {
	case ChallengeMeta, ChallengeOkta, ChallengeTwitterCRC:
		return true
	}
	return false
}

// GETNeedsAuth reports whether the GET handshake must pass the source's verifier first: Okta
// sends its authentication header with the verification request; Meta proves itself with the
// verify token and X with the CRC answer only it can check.
func (s *Source) GETNeedsAuth() bool { return s.Challenge == ChallengeOkta }

// HandshakeGET answers a GET handshake. query returns a query parameter ("" when absent).
func (s *Source) HandshakeGET(h verify.Header, query func(string) string) (Reply, error) {
	switch s.Challenge {
	case ChallengeMeta:
		// Meta: GET ?hub.mode=subscribe&hub.verify_token=<ours>&hub.challenge=<n> → the challenge.
		if query("hub.mode") != "subscribe" || query("hub.challenge") == "" {
			return Reply{}, errors.Join(ErrHandshakeMalformed, errors.New("want hub.mode=subscribe, hub.verify_token and hub.challenge"))
		}
		if subtle.ConstantTimeCompare([]byte(query("hub.verify_token")), []byte(s.verifyToken)) != 1 {
			return Reply{}, errors.Join(ErrHandshakeToken, errors.New("hub.verify_token is not the source's verify_token"))
		}
		return Reply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte(query("hub.challenge"))}, nil
	case ChallengeOkta:
		// Okta event hooks: one-time GET with X-Okta-Verification-Challenge → {"verification": …}.
		v := h.Get("x-okta-verification-challenge")
		if v == "" {
			return Reply{}, errors.Join(ErrHandshakeMalformed, errors.New("x-okta-verification-challenge header absent"))
		}
		return jsonReply(map[string]string{"verification": v}), nil
	case ChallengeTwitterCRC:
		// X (Twitter) Account Activity CRC: GET ?crc_token=… → sha256=base64(HMAC-SHA256(consumer
		// secret, crc_token)). The first secret is the consumer secret X holds.
		tok := query("crc_token")
		if tok == "" {
			return Reply{}, errors.Join(ErrHandshakeMalformed, errors.New("crc_token query parameter absent"))
		}
		m := hmac.New(sha256.New, []byte(s.secrets[0]))
		m.Write([]byte(tok))
		return jsonReply(map[string]string{"response_token": "sha256=" + base64.StdEncoding.EncodeToString(m.Sum(nil))}), nil
	}
	return Reply{}, errors.Join(ErrHandshakeMalformed, errors.New("the source answers no GET handshake"))
}

// HandshakePOST answers a signed POST handshake (Slack's url_verification, Zoom's
// endpoint.url_validation) after the request verified; ok is false for every other request,
// which is an ordinary delivery. res says which secret verified it: Zoom's answer is keyed
// with that one.
func (s *Source) HandshakePOST(body []byte, res verify.Result) (Reply, bool) {
	switch s.Challenge {
	case ChallengeSlack:
		var f struct {
			Type      string `json:"type"`
			Challenge string `json:"challenge"`
		}
		if json.Unmarshal(body, &f) != nil || f.Type != "url_verification" || f.Challenge == "" {
			return Reply{}, false
		}
		return jsonReply(map[string]string{"challenge": f.Challenge}), true
	case ChallengeZoom:
		var f struct {
			Event   string `json:"event"`
			Payload struct {
				PlainToken string `json:"plainToken"`
			} `json:"payload"`
		}
		if json.Unmarshal(body, &f) != nil || f.Event != "endpoint.url_validation" || f.Payload.PlainToken == "" {
			return Reply{}, false
		}
		key := s.secrets[0]
		if res.Key >= 0 && res.Key < len(s.secrets) {
			key = s.secrets[res.Key]
		}
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(f.Payload.PlainToken))
		return jsonReply(map[string]string{"plainToken": f.Payload.PlainToken, "encryptedToken": hex.EncodeToString(m.Sum(nil))}), true
	}
	return Reply{}, false
}

func jsonReply(v map[string]string) Reply {
	b, _ := json.Marshal(v) // strings always encode
	return Reply{Status: http.StatusOK, ContentType: "application/json", Body: b}
}
