package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"hookline/pkg/pipeline"
)

// BlobRefPrefix starts the reference of a body kept in the engine's blob table.
const BlobRefPrefix = "blob:"

// MaxBlobBytes is the largest body the blob table keeps: GitHub's payload cap (25 MB).
const MaxBlobBytes = 25 << 20

// Blobs is the local claim check: bodies too large for a bus message, kept in the same SQLite
// file as the events, for as long as the events are (the sweep deletes them with their TTL).
type Blobs struct {
	e *Engine
}

var (
	_ pipeline.BlobStore  = (*Blobs)(nil)
	_ pipeline.BlobReader = (*Blobs)(nil)
)

// Blobs returns the blob table.
func (e *Engine) Blobs() *Blobs { return &Blobs{e: e} }

// Put stores body under key and returns once it is committed. Putting the same key again
// (a retried delivery) keeps the first copy: keys name the event and the body's hash.
func (b *Blobs) Put(ctx context.Context, key string, body []byte, _ string) (string, error) {
	if len(body) > MaxBlobBytes {
		return "", fmt.Errorf("put blob %s: %d bytes, over the %d-byte limit", key, len(body), MaxBlobBytes)
	}
	var expires int64
	if b.e.opts.TTL > 0 {
		expires = time.Now().Add(b.e.opts.TTL).Unix()
	}
	err := b.e.write(ctx, func(w *wtx) error {
		_, err := w.Exec(`INSERT INTO blobs (key, body, created_at, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
			key, body, time.Now().UnixNano(), expires)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("put blob %s: %w", key, err)
	}
	return BlobRefPrefix + key, nil
}

// Get returns the body a Put returned ref for; pipeline.ErrNotFound when it is gone.
func (b *Blobs) Get(ctx context.Context, ref string) ([]byte, error) {
	key, ok := strings.CutPrefix(ref, BlobRefPrefix)
	if !ok {
		return nil, fmt.Errorf("get blob %q: not a local blob reference", ref)
	}
	var body []byte
	err := b.e.rdb.QueryRowContext(ctx, `SELECT body FROM blobs WHERE key = ?`, key).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get blob %s: %w", key, pipeline.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", key, err)
	}
	return body, nil
}

// Blobs is the blob table of the store's engine, so readers of the history (hookline events
// get) can bring bodies stored by reference back.
func (s *Store) Blobs() pipeline.BlobReader { return &Blobs{e: s.e} }
