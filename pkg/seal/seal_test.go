package seal_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"hookline/pkg/seal"
)

func TestSealOpenAndKeyFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "quarantine.key")
	k, err := seal.LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	plain := []byte(`{"x-hub-signature-256":"sha256=abc"}`)
	sealed, err := k.Seal(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("sha256=abc")) {
		t.Fatal("the sealed value contains the plaintext")
	}
	again, err := seal.LoadOrCreate(path) // the same key from the file
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(ctx, sealed); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := again.Open(ctx, sealed); err == nil {
		t.Error("a tampered value opened")
	}
	other, _ := seal.LoadOrCreate(filepath.Join(t.TempDir(), "other.key"))
	sealed[len(sealed)-1] ^= 1
	if _, err := other.Open(ctx, sealed); err == nil {
		t.Error("another key opened the value")
	}
}
