package engine_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/digesttest"
)

func TestDigestContract(t *testing.T) {
	digesttest.Run(t, func(t *testing.T) pipeline.DigestStore { return enginetest.Open(t, "").Events() })
}

// TestDoneDigestForgets: DoneDigest drops the digest's list and forgets the source's finished
// digests due more than two days before it; younger and unfinished ones, and other sources',
// stay (a late TakeDigest still sees them done).
func TestDoneDigestForgets(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	s := e.Events()
	due := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	finish := func(source string, due time.Time, ids ...string) {
		t.Helper()
		for _, id := range ids {
			if err := s.AddToDigest(ctx, source, due, id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.TakeDigest(ctx, source, due); err != nil {
			t.Fatal(err)
		}
		if err := s.DoneDigest(ctx, source, due); err != nil {
			t.Fatal(err)
		}
	}
	finish("a", due.Add(-49*time.Hour), "x")
	finish("a", due.Add(-48*time.Hour), "x")
	finish("a", due.Add(-47*time.Hour), "x")
	finish("b", due.Add(-49*time.Hour), "x")
	if err := s.AddToDigest(ctx, "a", due.Add(-72*time.Hour), "open"); err != nil {
		t.Fatal(err)
	}
	finish("a", due, "1", "2")

	var got []string
	rows, err := e.ReadDB().Query(`SELECT source, due, done FROM digests ORDER BY source, due`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var source string
		var at int64
		var done int
		if err := rows.Scan(&source, &at, &done); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %+.0fh done=%d", source, time.Unix(at, 0).Sub(due).Hours(), done))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"a -72h done=0", "a -48h done=1", "a -47h done=1", "a +0h done=1", "b -49h done=1"}
	if !slices.Equal(got, want) {
		t.Errorf("digests after DoneDigest(a, due):\n got %q\nwant %q", got, want)
	}
	var listed []string
	lrows, err := e.ReadDB().Query(`SELECT source || ' ' || id FROM digest_events ORDER BY source, due, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var l string
		if err := lrows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		listed = append(listed, l)
	}
	if want := []string{"a open"}; !slices.Equal(listed, want) {
		t.Errorf("digest lists left %q, want only the open digest's %q", listed, want)
	}
	if ids, err := s.TakeDigest(ctx, "a", due.Add(-47*time.Hour)); err != nil || len(ids) != 0 {
		t.Errorf("late TakeDigest of a finished digest = %q, %v; want none", ids, err)
	}
}
