package verify

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's signature is HMAC-SHA1.
	"encoding/base64"
	"errors"
	"testing"
)

// twilioSig is X-Twilio-Signature over exactly the string signed: the URL, then the
// parameters as name+value (written out by hand in each case below).
func twilioSig(token, signed string) string {
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(signed))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// TestTwilioDefaultPort: Twilio may sign the URL with or without the scheme's default port,
// whichever way the request arrives; any other port is part of what is signed.
func TestTwilioDefaultPort(t *testing.T) {
	const token = "twilio-auth-token"
	v, err := NewTwilio([]string{token})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, requested, signed string
		want                    error
	}{
		{"https signed with :443", "https://hooks.example.com/t", "https://hooks.example.com:443/t", nil},
		{"https received with :443", "https://hooks.example.com:443/t", "https://hooks.example.com/t", nil},
		{"http signed with :80", "http://hooks.example.com/t?a=1", "http://hooks.example.com:80/t?a=1", nil},
		{"http received with :80", "http://hooks.example.com:80/t", "http://hooks.example.com/t", nil},
		{"another port is signed", "https://hooks.example.com:8443/t", "https://hooks.example.com/t", ErrNoMatch},
		{"not the default port of the scheme", "http://hooks.example.com/t", "http://hooks.example.com:443/t", ErrNoMatch},
		{"no default port for other schemes", "ftp://hooks.example.com/t", "ftp://hooks.example.com:21/t", ErrNoMatch},
	} {
		h := urlHdr{hdr{"x-twilio-signature": twilioSig(token, tc.signed)}, tc.requested}
		if _, err := v.Verify(h, nil, now); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestTwilioRepeatedParams: a form parameter given several times is signed once per distinct
// value, values sorted, names sorted (the twilio library's toFormUrlEncodedParam).
func TestTwilioRepeatedParams(t *testing.T) {
	const token, u = "twilio-auth-token", "https://hooks.example.com/t"
	v, err := NewTwilio([]string{token})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("To=%2B15550001&MediaUrl=z&MediaUrl=a&MediaUrl=z&From=%2B15550002")
	for _, tc := range []struct {
		signed string
		want   error
	}{
		{u + "From+15550002MediaUrlaMediaUrlzTo+15550001", nil},
		{u + "From+15550002MediaUrlzMediaUrlaMediaUrlzTo+15550001", ErrNoMatch}, // as sent
		{u + "From+15550002MediaUrlaMediaUrlzMediaUrlzTo+15550001", ErrNoMatch}, // sorted, not distinct
	} {
		h := urlHdr{hdr{"x-twilio-signature": twilioSig(token, tc.signed), "content-type": "application/x-www-form-urlencoded"}, u}
		if _, err := v.Verify(h, body, now); !errors.Is(err, tc.want) {
			t.Errorf("signed %q: err = %v, want %v", tc.signed, err, tc.want)
		}
	}
}
