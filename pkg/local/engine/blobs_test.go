package engine_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/pipeline"
)

// TestBlobs: a body put under a key comes back by its reference (the first copy when the key
// is put again); unknown and foreign references are refused; a body over MaxBlobBytes is not
// kept, one of exactly MaxBlobBytes is.
func TestBlobs(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	b := e.Blobs()
	ref, err := b.Put(ctx, "evt-1/abc", []byte("first"), "application/json")
	if err != nil || ref != engine.BlobRefPrefix+"evt-1/abc" {
		t.Fatalf("Put = %q, %v", ref, err)
	}
	if _, err := b.Put(ctx, "evt-1/abc", []byte("second"), "application/json"); err != nil {
		t.Fatal(err)
	}
	if body, err := e.Events().Blobs().Get(ctx, ref); err != nil || string(body) != "first" {
		t.Fatalf("Get(%s) = %q, %v; want the first copy", ref, body, err)
	}
	if _, err := b.Get(ctx, engine.BlobRefPrefix+"missing"); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
	if _, err := b.Get(ctx, "s3://bucket/evt-1/abc"); err == nil || errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("Get(not a local reference) = %v, want a refusal", err)
	}
	big := bytes.Repeat([]byte{'x'}, engine.MaxBlobBytes+1)
	if ref, err := b.Put(ctx, "big", big, ""); err == nil {
		t.Fatalf("Put of %d bytes = %q, want refused", len(big), ref)
	}
	if _, err := b.Get(ctx, engine.BlobRefPrefix+"big"); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("a refused body was kept: %v", err)
	}
	if _, err := b.Put(ctx, "limit", big[:engine.MaxBlobBytes], ""); err != nil {
		t.Fatalf("Put of exactly MaxBlobBytes: %v", err)
	}
}

// TestSweepDeletesExpiredBlobs: blobs expire with the engine's TTL, the sweep deletes them in
// rounds of 100 until none is left and counts every one; with a negative TTL they never expire.
func TestSweepDeletesExpiredBlobs(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	for _, ttl := range []time.Duration{time.Hour, -1} {
		t.Run(fmt.Sprint(ttl), func(t *testing.T) {
			e := enginetest.OpenWith(t, "", engine.Options{TTL: ttl})
			const n = 101 // one more than a sweep round deletes
			for i := range n {
				if _, err := e.Blobs().Put(ctx, fmt.Sprint("k", i), []byte("body"), ""); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := e.Sweep(ctx, time.Now()); err != nil || got != 0 {
				t.Fatalf("sweep now = %d, %v; want 0", got, err)
			}
			want := n
			if ttl < 0 {
				want = 0
			}
			got, err := e.Sweep(ctx, time.Now().Add(2*time.Hour))
			if err != nil || got != int64(want) {
				t.Fatalf("sweep past the TTL = %d, %v; want %d", got, err, want)
			}
			var left int
			if err := e.ReadDB().QueryRow(`SELECT count(*) FROM blobs`).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != n-want {
				t.Fatalf("%d blobs left, want %d", left, n-want)
			}
		})
	}
}
