package event_test

import (
	"bytes"
	"crypto/sha256"
	"reflect"
	"strings"
	"testing"
	"time"

	"hookline/pkg/event"
)

// envelopes are real envelopes, as ingest writes them, in every shape the fast path reads;
// FuzzDecode starts from them.
func envelopes(t testing.TB) map[string][]byte {
	at := time.Date(2026, 12, 1, 20, 34, 24, 684060126, time.UTC)
	base := func() *event.Event {
		return &event.Event{ID: event.BodyID("github", []byte("x")), Source: "github", Type: "push", Time: at, ReceivedAt: at.Add(time.Millisecond)}
	}
	out := map[string][]byte{}
	add := func(name string, e *event.Event, ct string, body []byte) {
		if err := e.SetData(ct, body); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = e.Marshal()
	}
	gh := base()
	gh.DeliveryID = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	gh.Verification = event.Verification{Scheme: "github", Key: 1, BodySHA256: sha256.Sum256([]byte("x")), SignedID: false}
	add("github", gh, "application/json", []byte(`{"ref":"refs/heads/main","commits":[{"id":"x","n":-0.5e+10}],"ok":true,"no":null,"pad":"`+strings.Repeat("x", 900)+`"}`))
	sk := base()
	sk.Source, sk.Type, sk.DataVersion = "stripe", "invoice.paid", "2024-06-20"
	sk.Verification = event.Verification{Scheme: "stripe", Key: 0, SkewMS: -1250, HasSkew: true, SignedID: true}
	add("stripe with skew", sk, "application/json; charset=utf-8", []byte(`{"id":"evt_1","type":"invoice.paid"}`))
	add("text", base(), "text/plain", []byte("hello\n"))
	add("binary", base(), "application/octet-stream", []byte{0, 1, 0xff})
	add("empty body", base(), "", nil)
	ce := base()
	ce.Extensions = []event.Extension{{Name: "tenant", Value: []byte(`"acme"`)}, {Name: "sendersource", Value: []byte(`"https://sender.example/orders"`)}, {Name: "seq", Value: []byte(`42`)}}
	add("cloudevent extensions", ce, "application/cloudevents+json", []byte(`[1,2]`))
	ref := base()
	ref.DataRef = "blob:" + ref.ID
	ref.Verification = event.Verification{Scheme: "hmac-sha256", Key: 3, BodySHA256: sha256.Sum256([]byte("big"))}
	add("claim check", ref, "", nil)
	// '9' ends the digit range plainInt takes a number's first byte from ('0' starts it: stripe's key).
	nine := base()
	nine.Verification = event.Verification{Scheme: "hmac-sha256", Key: 9, SkewMS: 900, HasSkew: true}
	add("nines", nine, "text/plain", []byte("9"))
	return out
}

// TestDecodeTakesTheFastPath: the envelopes ingest writes are read without encoding/json and
// decode as encoding/json decodes them — so FuzzDecode's comparison compares the fast path.
func TestDecodeTakesTheFastPath(t *testing.T) {
	t.Parallel()
	for name, b := range envelopes(t) {
		if !event.DecodesFast(b) {
			t.Errorf("%s: not on the fast path: %s", name, b)
		}
		sameAsReference(t, b)
	}
	// And what it leaves to encoding/json, which gives the same answers.
	gh := envelopes(t)["github"]
	for name, b := range map[string][]byte{
		"escaped string":  bytes.Replace(gh, []byte(`"source":"github"`), []byte(`"source":"git\u0068ub"`), 1),
		"upper-case name": bytes.Replace(gh, []byte(`"source":`), []byte(`"Source":`), 1),
		// 'A' and 'Z', the ends of the upper-case range: encoding/json folds "receivedAt" onto
		// receivedat; "Zone" folds onto nothing and stays an extension (refused: not a-z).
		"A in a name":    bytes.Replace(gh, []byte(`"receivedat":`), []byte(`"receivedAt":`), 1),
		"Z in a name":    bytes.Replace(gh, []byte(`"source":"github"`), []byte(`"source":"github","Zone":"1"`), 1),
		"escaped name":   bytes.Replace(gh, []byte(`"source":`), []byte(`"sourc\u0065":`), 1),
		"duplicate":      bytes.Replace(gh, []byte(`"source":"github"`), []byte(`"source":"a","source":"github"`), 1),
		"null string":    bytes.Replace(gh, []byte(`"deliveryid":"72d3162e-cc78-11e3-81ab-4c9367dc0958"`), []byte(`"deliveryid":null`), 1),
		"float key":      bytes.Replace(gh, []byte(`"verifykey":1`), []byte(`"verifykey":1.0`), 1),
		"key as string":  bytes.Replace(gh, []byte(`"verifykey":1`), []byte(`"verifykey":"1"`), 1),
		"invalid UTF-8":  bytes.Replace(gh, []byte(`"type":"push"`), []byte("\"type\":\"p\xffsh\""), 1),
		"trailing brace": append(append([]byte(nil), gh...), '}'),
		"not an object":  []byte(`["specversion"]`),
	} {
		if event.DecodesFast(b) {
			t.Errorf("%s: on the fast path: %s", name, b)
		}
		sameAsReference(t, b)
	}
}

// sameAsReference fails t unless Decode and encoding/json's decoding agree on b: the same
// event, or the same error.
func sameAsReference(t *testing.T, b []byte) {
	t.Helper()
	in := bytes.Clone(b)
	got, err := event.Decode(in)
	// Decode keeps none of its input (DecodeString reads a string's bytes in place): what it
	// returned must not change when the input does.
	for i := range in {
		in[i] = 'x'
	}
	want, wantErr := event.DecodeReference(b)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("Decode(%q): error %v, encoding/json: %v", b, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode(%q) =\n%#v\nencoding/json:\n%#v", b, got, want)
	}
}

// BenchmarkDecode: a GitHub envelope with a 1 KiB body, read by Decode and by encoding/json
// (the reference), in the same run.
func BenchmarkDecode(b *testing.B) {
	env := envelopes(b)["github"]
	for _, bc := range []struct {
		name   string
		decode func([]byte) (*event.Event, error)
	}{{"Decode", event.Decode}, {"encoding_json", event.DecodeReference}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(env)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.decode(env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
