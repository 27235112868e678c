package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"hookline/pkg/pipeline"
)

var _ pipeline.DigestStore = (*Store)(nil)

// digestKeep is how long a finished digest's row stays, so a late TakeDigest still sees it done.
const digestKeep = 48 * time.Hour

// AddToDigest lists id in the digest of source due at due (pipeline.DigestStore).
func (s *Store) AddToDigest(ctx context.Context, source string, due time.Time, id string) error {
	err := s.e.write(ctx, func(w *wtx) error {
		var taken int
		err := w.QueryRow(`SELECT taken FROM digests WHERE source = ? AND due = ?`, source, due.Unix()).Scan(&taken)
		switch {
		case err == nil && taken == 1:
			return pipeline.ErrDigestTaken
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		case err != nil:
			if _, err := w.Exec(`INSERT INTO digests (source, due) VALUES (?, ?)`, source, due.Unix()); err != nil {
				return err
			}
		}
		_, err = w.Exec(`INSERT OR IGNORE INTO digest_events (source, due, id) VALUES (?, ?, ?)`, source, due.Unix(), id)
		return err
	})
	if err != nil && !errors.Is(err, pipeline.ErrDigestTaken) {
		return fmt.Errorf("add %s to the %s digest: %w", id, source, err)
	}
	return err
}

// TakeDigest closes the digest and returns its ids (pipeline.DigestStore).
func (s *Store) TakeDigest(ctx context.Context, source string, due time.Time) ([]string, error) {
	var ids []string
	err := s.e.write(ctx, func(w *wtx) error {
		ids = nil
		if _, err := w.Exec(`INSERT INTO digests (source, due, taken) VALUES (?, ?, 1)
			ON CONFLICT (source, due) DO UPDATE SET taken = 1`, source, due.Unix()); err != nil {
			return err
		}
		var done int
		if err := w.QueryRow(`SELECT done FROM digests WHERE source = ? AND due = ?`, source, due.Unix()).Scan(&done); err != nil || done == 1 {
			return err
		}
		var err error
		ids, err = queryStrings(w, `SELECT id FROM digest_events WHERE source = ? AND due = ? ORDER BY id`, source, due.Unix())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("take the %s digest: %w", source, err)
	}
	return ids, nil
}

// DoneDigest records that the digest's email went out, drops its list and forgets finished
// digests older than two days (pipeline.DigestStore).
func (s *Store) DoneDigest(ctx context.Context, source string, due time.Time) error {
	err := s.e.write(ctx, func(w *wtx) error {
		if _, err := w.Exec(`UPDATE digests SET taken = 1, done = 1 WHERE source = ? AND due = ?`, source, due.Unix()); err != nil {
			return err
		}
		if _, err := w.Exec(`DELETE FROM digest_events WHERE source = ? AND due = ?`, source, due.Unix()); err != nil {
			return err
		}
		_, err := w.Exec(`DELETE FROM digests WHERE source = ? AND done = 1 AND due < ?`, source, due.Add(-digestKeep).Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("finish the %s digest: %w", source, err)
	}
	return nil
}
