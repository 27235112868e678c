// Package kmsseal is the quarantine's pipeline.Sealer and pipeline.Opener on AWS: the
// secret-bearing header values of a refused request are sealed with AES-256-GCM (pkg/seal)
// under a data key from a KMS key, and the data key, encrypted by KMS, travels with the sealed
// value (envelope encryption).
//
// Why KMS rather than a key in a secret: the ingest function needs only kms:GenerateDataKey,
// which cannot decrypt anything; only operators granted kms:Decrypt on the key (the readmit
// command) can open what ingest sealed. A compromised ingest function cannot read the
// signatures it kept earlier.
//
// Where it sits: functions/ingest seals (Sealer), `hookline rejected readmit --table` opens
// (Opener). Both speak KMS's JSON protocol through pkg/awsjson rather than the SDK's KMS client,
// whose package initialisation the ingest function would pay at every cold start for a call it
// makes at most once an hour.
package kmsseal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"hookline/pkg/pipeline"
	"hookline/pkg/seal"
)

// version is the first byte of every sealed value (pkg/seal's own values start with 1).
const version = 2

// Context is the encryption context of every data key: KMS binds it into the ciphertext, so a
// data key made for the quarantine opens only for a caller that names the quarantine, and
// CloudTrail shows what each Decrypt was for.
var Context = map[string]string{"hookline": "quarantine"}

// DefaultKeyAge is how long a Sealer uses one data key before it asks KMS for another: one
// GenerateDataKey call per ingest instance and hour at most, and only when it keeps something.
const DefaultKeyAge = time.Hour

// Caller sends one operation of KMS's JSON protocol (awsjson.Client of awsjson.KMS).
type Caller interface {
	Call(ctx context.Context, op string, in, out any) error
}

// keyPair is the part of GenerateDataKey's and Decrypt's answers a Sealer and an Opener read
// (encoding/json reads the base64 blobs into the byte slices).
type keyPair struct {
	CiphertextBlob []byte
	Plaintext      []byte
}

// Sealer seals with data keys of the KMS key KeyID, each used for at most KeyAge.
type Sealer struct {
	Client Caller
	KeyID  string           // key id, ARN or alias of the KMS key
	KeyAge time.Duration    // 0 means DefaultKeyAge
	Now    func() time.Time // nil means time.Now

	mu      sync.Mutex
	aead    *seal.Key
	wrapped []byte // the data key, encrypted by KMS
	made    time.Time
}

var _ pipeline.Sealer = (*Sealer)(nil)

// Seal encrypts plaintext: version, the wrapped data key's length (2 bytes, big-endian), the
// wrapped data key, then pkg/seal's value.
func (s *Sealer) Seal(ctx context.Context, plaintext []byte) ([]byte, error) {
	key, wrapped, err := s.dataKey(ctx)
	if err != nil {
		return nil, err
	}
	sealed, err := key.Seal(ctx, plaintext)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 3+len(wrapped)+len(sealed))
	out = append(out, version)
	out = binary.BigEndian.AppendUint16(out, uint16(len(wrapped)))
	out = append(out, wrapped...)
	return append(out, sealed...), nil
}

func (s *Sealer) dataKey(ctx context.Context) (*seal.Key, []byte, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	age := s.KeyAge
	if age <= 0 {
		age = DefaultKeyAge
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aead != nil && now().Sub(s.made) < age {
		return s.aead, s.wrapped, nil
	}
	var out keyPair
	err := s.Client.Call(ctx, "GenerateDataKey", struct {
		KeyId             string
		KeySpec           string
		EncryptionContext map[string]string
	}{s.KeyID, "AES_256", Context}, &out)
	if err != nil {
		return nil, nil, fmt.Errorf("kmsseal: generate a data key of %s: %w", s.KeyID, err)
	}
	if len(out.CiphertextBlob) == 0 || len(out.CiphertextBlob) > 0xffff {
		return nil, nil, fmt.Errorf("kmsseal: KMS returned a wrapped data key of %d bytes", len(out.CiphertextBlob))
	}
	key, err := seal.New(out.Plaintext)
	clear(out.Plaintext)
	if err != nil {
		return nil, nil, fmt.Errorf("kmsseal: %w", err)
	}
	s.aead, s.wrapped, s.made = key, out.CiphertextBlob, now()
	return key, s.wrapped, nil
}

// Opener opens what a Sealer sealed, asking KMS once per data key.
type Opener struct {
	Client Caller

	mu   sync.Mutex
	keys map[string]*seal.Key // by wrapped data key
}

var _ pipeline.Opener = (*Opener)(nil)

// Open decrypts a Sealer's value.
func (o *Opener) Open(ctx context.Context, sealed []byte) ([]byte, error) {
	if len(sealed) < 3 || sealed[0] != version {
		return nil, errors.New("kmsseal: not a value sealed with a KMS data key (sealed by hookline local?)")
	}
	n := int(binary.BigEndian.Uint16(sealed[1:3]))
	if len(sealed) < 3+n {
		return nil, errors.New("kmsseal: the sealed value is cut short")
	}
	wrapped, rest := sealed[3:3+n], sealed[3+n:]
	o.mu.Lock()
	defer o.mu.Unlock()
	key, ok := o.keys[string(wrapped)]
	if !ok {
		var out keyPair
		err := o.Client.Call(ctx, "Decrypt", struct {
			CiphertextBlob    []byte
			EncryptionContext map[string]string
		}{wrapped, Context}, &out)
		if err != nil {
			return nil, fmt.Errorf("kmsseal: decrypt the data key (kms:Decrypt on the quarantine key is needed): %w", err)
		}
		key, err = seal.New(out.Plaintext)
		clear(out.Plaintext)
		if err != nil {
			return nil, fmt.Errorf("kmsseal: %w", err)
		}
		if o.keys == nil {
			o.keys = map[string]*seal.Key{}
		}
		o.keys[string(wrapped)] = key
	}
	return key.Open(ctx, rest)
}
