package kmsseal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"hookline/internal/fakeaws"
	"hookline/pkg/awsjson"
	"hookline/pkg/kmsseal"
	"hookline/pkg/seal"
)

const (
	keyARN = "arn:aws:kms:us-east-1:000000000000:key/quarantine"
	ingest = "AKIDINGEST"
	ops    = "AKIDOPERATOR"
)

// start serves KMS on 127.0.0.1 with ingest allowed only GenerateDataKey and the operator
// only Decrypt, as the stack and the docs grant them.
func start(t *testing.T) *fakeaws.Server {
	t.Helper()
	s, err := fakeaws.Start(fakeaws.Options{Authorize: func(key, action string, _ []string, _ fakeaws.Keys) error {
		if (key == ingest && action == "kms:GenerateDataKey") || (key == ops && action == "kms:Decrypt") {
			return nil
		}
		return errors.New("not granted")
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func config(s *fakeaws.Server, key string) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, "secret", ""), BaseEndpoint: aws.String(s.URL)}
}

// client is what the functions and the CLI give a Sealer and an Opener.
func client(t *testing.T, s *fakeaws.Server, key string) *awsjson.Client {
	c, err := awsjson.New(context.Background(), config(s, key), awsjson.KMS)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sdkClient is the SDK's KMS client, for calls the package does not make.
func sdkClient(s *fakeaws.Server, key string) *kms.Client {
	return kms.NewFromConfig(config(s, key))
}

// TestSealOpen: ingest seals with one data key per KeyAge (one KMS call, not one per value),
// cannot open what it sealed through KMS, and the operator opens each value with one Decrypt
// per data key; nothing of the plaintext shows in the sealed bytes.
func TestSealOpen(t *testing.T) {
	ctx := context.Background()
	s := start(t)
	clock := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	sealer := &kmsseal.Sealer{Client: client(t, s, ingest), KeyID: keyARN, Now: func() time.Time { return clock }}
	secret := []byte(`{"x-hub-signature-256":"sha256=0123abcd"}`)
	var sealed [][]byte
	for i := range 5 {
		if i == 3 {
			clock = clock.Add(kmsseal.DefaultKeyAge) // the fourth value gets a new data key
		}
		b, err := sealer.Seal(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("0123abcd")) {
			t.Fatal("the sealed value holds the signature in clear")
		}
		sealed = append(sealed, b)
	}
	if n := s.Count("kms:GenerateDataKey"); n != 2 {
		t.Errorf("%d GenerateDataKey calls for 5 values over two key ages, want 2", n)
	}
	if _, err := (&kmsseal.Opener{Client: client(t, s, ingest)}).Open(ctx, sealed[0]); err == nil || !strings.Contains(err.Error(), "kms:Decrypt") {
		t.Errorf("ingest opened a sealed value (or failed without naming kms:Decrypt): %v", err)
	}
	opener := &kmsseal.Opener{Client: client(t, s, ops)}
	for i, b := range sealed {
		got, err := opener.Open(ctx, b)
		if err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("open value %d = %q, %v", i, got, err)
		}
	}
	if n := s.Count("kms:Decrypt"); n != 2 {
		t.Errorf("%d Decrypt calls for 5 values under two data keys, want 2", n)
	}
	tampered := bytes.Clone(sealed[0])
	tampered[len(tampered)-1] ^= 1
	if _, err := opener.Open(ctx, tampered); err == nil {
		t.Error("a tampered value opened")
	}
	local, _ := seal.New(bytes.Repeat([]byte{7}, 32))
	fromLocal, _ := local.Seal(ctx, secret)
	if _, err := opener.Open(ctx, fromLocal); err == nil || !strings.Contains(err.Error(), "hookline local") {
		t.Errorf("a value of a local data dir: %v, want an error that says so", err)
	}
}

// TestEncryptionContext: a data key opens only with the quarantine's encryption context.
func TestEncryptionContext(t *testing.T) {
	ctx := context.Background()
	s := start(t)
	out, err := sdkClient(s, ingest).GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(keyARN), KeySpec: "AES_256",
		EncryptionContext: map[string]string{"hookline": "something-else"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdkClient(s, ops).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: kmsseal.Context}); err == nil {
		t.Error("a data key made for another context opened with the quarantine's")
	}
}

// cannedKMS answers every call with one data key whose wrapped form is wrapped bytes long.
type cannedKMS struct{ wrapped int }

func (c cannedKMS) Call(_ context.Context, _ string, _, out any) error {
	answer, err := json.Marshal(map[string][]byte{
		"CiphertextBlob": bytes.Repeat([]byte{7}, c.wrapped),
		"Plaintext":      bytes.Repeat([]byte{1}, 32),
	})
	if err != nil {
		return err
	}
	return json.Unmarshal(answer, out)
}

// refusingKMS fails the test if it is asked anything.
type refusingKMS struct{ t *testing.T }

func (r refusingKMS) Call(_ context.Context, op string, _, _ any) error {
	r.t.Errorf("KMS asked %s", op)
	return errors.New("not asked")
}

// TestWrappedKeyLength: a sealed value carries its wrapped data key's length in two bytes, so a
// Sealer takes a wrapped key of 1 to 65,535 bytes and refuses an empty or a longer one.
func TestWrappedKeyLength(t *testing.T) {
	for _, tc := range []struct {
		wrapped int
		ok      bool
	}{{0, false}, {1, true}, {0xffff, true}, {0x10000, false}} {
		s := &kmsseal.Sealer{Client: cannedKMS{tc.wrapped}, KeyID: keyARN}
		sealed, err := s.Seal(context.Background(), []byte("secret"))
		if (err == nil) != tc.ok {
			t.Errorf("a wrapped key of %d bytes: err = %v, want ok = %v", tc.wrapped, err, tc.ok)
			continue
		}
		if tc.ok && (len(sealed) <= 3+tc.wrapped || int(sealed[1])<<8|int(sealed[2]) != tc.wrapped) {
			t.Errorf("a wrapped key of %d bytes: sealed value of %d bytes with length field %d", tc.wrapped, len(sealed), int(sealed[1])<<8|int(sealed[2]))
		}
	}
}

// TestOpenRefusesACutValue: a value shorter than the wrapped key its length field announces is
// an error (not a panic), and KMS is not asked.
func TestOpenRefusesACutValue(t *testing.T) {
	s := &kmsseal.Sealer{Client: cannedKMS{40}, KeyID: keyARN}
	sealed, err := s.Seal(context.Background(), []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	o := &kmsseal.Opener{Client: refusingKMS{t}}
	for _, n := range []int{4, 3 + 40 - 1} {
		if _, err := o.Open(context.Background(), sealed[:n]); err == nil || !strings.Contains(err.Error(), "cut short") {
			t.Errorf("Open of the first %d of %d bytes: %v, want the cut-short error", n, len(sealed), err)
		}
	}
}
