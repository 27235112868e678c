// Package seal encrypts the secret-bearing header values of refused requests before the
// quarantine stores them (pipeline.Sealer and pipeline.Opener): people listing rejected
// requests see "[redacted]", and only a holder of the key (the readmit command) can put the
// values back to verify them again. AES-256-GCM with a random nonce per seal; the key is 32
// random bytes kept in a file (hex), created 0600 on first use.
//
// Where it sits: hookline local creates the key in its data dir; the CLI reads the same file.
package seal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// version is the first byte of every sealed value, so the format can change.
const version = 1

// Key seals and opens with one AES-256-GCM key.
type Key struct {
	aead cipher.AEAD
}

// New returns a Key for a 32-byte key.
func New(key []byte) (*Key, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("seal: the key is %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Key{aead: aead}, nil
}

// Load reads the key file at path.
func Load(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: read key: %w", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("seal: key file %s is not hex", path)
	}
	return New(raw)
}

// LoadOrCreate reads the key file at path, creating it (0600, 32 random bytes) if it does not
// exist.
func LoadOrCreate(path string) (*Key, error) {
	k, err := Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Load(path) // another process created it meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("seal: create key: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(raw[:]) + "\n")
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("seal: write key: %w", err)
	}
	return New(raw[:])
}

// Seal encrypts plaintext: version, nonce, ciphertext and tag.
func (k *Key) Seal(_ context.Context, plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+k.aead.NonceSize(), 1+k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return k.aead.Seal(out, out[1:], plaintext, []byte{version}), nil
}

// Open decrypts what Seal sealed with the same key.
func (k *Key) Open(_ context.Context, sealed []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < 1+n+k.aead.Overhead() || sealed[0] != version {
		return nil, errors.New("seal: not a sealed value of this version")
	}
	plain, err := k.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte{version})
	if err != nil {
		return nil, errors.New("seal: the value does not open with this key (another data dir's key?)")
	}
	return plain, nil
}
