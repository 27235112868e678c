package event_test

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/google/go-cmp/cmp"

	"hookline/pkg/event"
)

func withEvidence(t *testing.T, v event.Verification) *event.Event {
	t.Helper()
	e := newEvent(t, "application/json", []byte(`{"id":"evt_1"}`))
	e.Verification = v
	return e
}

func TestVerificationRoundTrip(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte(`{"id":"evt_1"}`))
	for name, v := range map[string]event.Verification{
		"signed timestamp": {Scheme: "stripe", Key: 1, SkewMS: -412, HasSkew: true, BodySHA256: sum, SignedID: true},
		"zero skew":        {Scheme: "standard-webhooks", Key: 0, SkewMS: 0, HasSkew: true, BodySHA256: sum, SignedID: true},
		"no timestamp":     {Scheme: "token", Key: 3, BodySHA256: sum},
		"none (old event)": {},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := withEvidence(t, v)
			got, err := event.Decode(e.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(e, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			if has := strings.Contains(string(e.Marshal()), `"verifyskewms"`); has != v.HasSkew {
				t.Errorf("verifyskewms present = %v, want %v: %s", has, v.HasSkew, e.Marshal())
			}
		})
	}
}

// TestVerificationExtensionsForCloudEventsSDK: a peer we did not write accepts the extension
// names and reads scalar values back.
func TestVerificationExtensionsForCloudEventsSDK(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte("x"))
	e := withEvidence(t, event.Verification{Scheme: "stripe", Key: 1, SkewMS: -412, HasSkew: true, BodySHA256: sum, SignedID: true})
	var peer ce.Event
	if err := json.Unmarshal(e.Marshal(), &peer); err != nil {
		t.Fatalf("sdk-go unmarshal: %v\n%s", err, e.Marshal())
	}
	if err := peer.Validate(); err != nil {
		t.Fatalf("sdk-go Validate: %v", err)
	}
	ext := peer.Extensions()
	want := map[string]string{
		event.ExtVerifyScheme: "stripe", event.ExtVerifyKey: "1", event.ExtVerifySkewMS: "-412",
		event.ExtVerifyBodySHA256: e.Verification.BodySHA256Hex(), event.ExtVerifySignedID: "true",
	}
	for k, w := range want {
		if len(k) > 20 {
			t.Errorf("extension %s is longer than the 20 characters CloudEvents recommends", k)
		}
		got, ok := ext[k]
		if !ok {
			t.Errorf("extension %s missing; have %v", k, ext)
			continue
		}
		if s, err := types.Format(got); err != nil || s != w { // the SDK's canonical string of the value
			t.Errorf("extension %s = %v (%v), want %s", k, got, err, w)
		}
	}
}

func TestVerificationDecodeErrors(t *testing.T) {
	t.Parallel()
	good := string(withEvidence(t, event.Verification{Scheme: "github", Key: 0, BodySHA256: sha256.Sum256(nil), SignedID: true}).Marshal())
	for name, in := range map[string]string{
		"no scheme":      strings.Replace(good, `"verifyscheme":"github",`, ``, 1),
		"no key":         strings.Replace(good, `"verifykey":0,`, ``, 1),
		"negative key":   strings.Replace(good, `"verifykey":0`, `"verifykey":-1`, 1),
		"short sha":      strings.Replace(good, `"verifybodysha256":"e3`, `"verifybodysha256":"`, 1),
		"long sha":       strings.Replace(good, `"verifybodysha256":"e3`, `"verifybodysha256":"e3e3`, 1),
		"non-hex sha":    strings.Replace(good, `"verifybodysha256":"e3`, `"verifybodysha256":"zz`, 1),
		"string key":     strings.Replace(good, `"verifykey":0`, `"verifykey":"0"`, 1),
		"skew as string": strings.Replace(good, `"verifykey":0`, `"verifykey":0,"verifyskewms":"1"`, 1),
	} {
		if in == good {
			t.Fatalf("%s: replacement did not apply to %s", name, good)
		}
		if _, err := event.Decode([]byte(in)); !errors.Is(err, event.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestSetDataUTF8(t *testing.T) {
	t.Parallel()
	bad := []byte("{\"name\":\"caf\xe9\"}") // Latin-1 é: valid to encoding/json, not UTF-8
	e := &event.Event{}
	if err := e.SetData("application/json", bad); !errors.Is(err, event.ErrInvalidJSON) || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("declared JSON, invalid UTF-8: err = %v, want ErrInvalidJSON naming UTF-8", err)
	}
	// Undeclared, the same bytes are not JSON: they travel as raw bytes.
	if err := e.SetData("", bad); err != nil || e.DataBase64 == nil {
		t.Errorf("undeclared: err = %v, base64 = %v; want raw bytes", err, e.DataBase64 != nil)
	}
}
