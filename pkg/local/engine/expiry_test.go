package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestSweepFindsEveryExpiredEvent: the sweep finds expired events through expiry_blocks
// (schema 11), so it must delete exactly the events whose expires_at passed, wherever they
// are: stored out of order, with TTLs that changed between runs (a later row expiring before
// an earlier one of its block), without a TTL, and in blocks whose bound is too low because
// the events it stood for went another way.
func TestSweepFindsEveryExpiredEvent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookline.db")
	now := time.Now()
	rnd := rand.New(rand.NewPCG(1, 2))
	expires := map[string]int64{} // id → expires_at as the oracle computes it (0: never)
	var mu sync.Mutex
	n := 0
	for _, ttl := range []time.Duration{48 * time.Hour, -1, 24 * time.Hour, 72 * time.Hour} {
		e := openRef(t, path, Options{TTL: ttl, StreamRetention: time.Nanosecond})
		var wg sync.WaitGroup
		for range 8 {
			ids := make([]string, 60)
			stored := make([]time.Time, len(ids))
			for i := range ids {
				n++
				ids[i] = fmt.Sprintf("ev-%04d", n)
				stored[i] = now.Add(-time.Duration(rnd.Int64N(int64(100 * time.Hour))))
			}
			wg.Go(func() {
				for i, id := range ids {
					r := refRecord(t, id, "push", stored[i])
					r.StoredAt = stored[i]
					if _, err := e.Events().PutNew(ctx, r); err != nil {
						t.Error(err)
						return
					}
					var x int64
					if ttl > 0 {
						x = stored[i].Add(ttl).Unix()
					}
					mu.Lock()
					expires[id] = x
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		e.Close()
	}
	e := openRef(t, path, Options{StreamRetention: time.Nanosecond})
	// Events that go another way leave their block's bound too low (a delete that is not the
	// sweep's; nothing in the engine does that today, but a bound may only ever be too low).
	err := e.write(ctx, func(w *wtx) error {
		rows, err := queryStrings(w, `SELECT id FROM events WHERE expires_at > 0 AND rowid % 7 = 0`)
		if err != nil {
			return err
		}
		for _, id := range rows {
			delete(expires, id)
		}
		_, err = w.Exec(`DELETE FROM events WHERE expires_at > 0 AND rowid % 7 = 0`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var spans int
	if err := e.rdb.QueryRow(`SELECT count(*) FROM expiry_blocks`).Scan(&spans); err != nil || spans < 3 {
		t.Fatalf("%d expiry blocks, %v; want the events to span at least 3", spans, err)
	}
	// From after the last insert: a stream record younger than the sweep's cutoff keeps its
	// event (TestSweepKeepsWhatARecordRefersTo), which is not what this test is about.
	now = time.Now()
	for _, at := range []time.Duration{time.Second, 10 * time.Hour, 30 * time.Hour, 50 * time.Hour, 80 * time.Hour} {
		when := now.Add(at)
		// The lowest block's events that expire before this sweep go another way first: its
		// bound is then too low and the block holds nothing to delete, and the sweep must
		// still go on to the blocks after it.
		err := e.write(ctx, func(w *wtx) error {
			q := `FROM events WHERE expires_at > 0 AND expires_at < ?1 AND rowid >> 9 = (SELECT min(block) FROM expiry_blocks)`
			ids, err := queryStrings(w, `SELECT id `+q, when.Unix())
			for _, id := range ids {
				delete(expires, id)
			}
			if err == nil {
				_, err = w.Exec(`DELETE `+q, when.Unix())
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Sweep(ctx, when); err != nil {
			t.Fatal(err)
		}
		var want []string
		for id, x := range expires {
			if x == 0 || x >= when.Unix() {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		got, err := queryStrings(e.rdb, `SELECT id FROM events ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("after the sweep at now+%v: %d events left, want %d (%d never expire)", at, len(got), len(want), countNever(expires))
		}
		// The sweep raised the bound of every block it looked at to what is left there.
		var low int
		if err := e.rdb.QueryRow(`SELECT count(*) FROM expiry_blocks WHERE min_expires < ?`, when.Unix()).Scan(&low); err != nil || low != 0 {
			t.Fatalf("after the sweep at now+%v: %d blocks bound before it, %v", at, low, err)
		}
		// Every event that can expire has its block, whose bound is no later than its expiry.
		var unbound int
		if err := e.rdb.QueryRow(`SELECT count(*) FROM events LEFT JOIN expiry_blocks b ON b.block = events.rowid >> 9
			WHERE expires_at > 0 AND (b.block IS NULL OR b.min_expires > expires_at)`).Scan(&unbound); err != nil || unbound != 0 {
			t.Fatalf("after the sweep at now+%v: %d events without a bound at or before their expiry, %v", at, unbound, err)
		}
	}
	// Everything that could expire did: the blocks went with their events.
	var blocks int
	if err := e.rdb.QueryRow(`SELECT count(*) FROM expiry_blocks`).Scan(&blocks); err != nil || blocks != 0 {
		t.Fatalf("%d expiry blocks left, %v; want none", blocks, err)
	}
}

func countNever(expires map[string]int64) (n int) {
	for _, x := range expires {
		if x == 0 {
			n++
		}
	}
	return n
}

// TestMigrateV10: schema 11 drops the index events_expires and bounds the expiry of every
// block of events already stored, so the sweep still finds each expired one; events without a
// TTL (expires_at 0) have no bound and stay.
func TestMigrateV10(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v10.db")
	db := fileAt(t, path, 10)
	now := time.Now().Unix()
	// rowid → expires_at: two blocks, the first's earliest expiry not at its first row.
	rows := map[int64]int64{1: now + 3600, 2: now - 3600, 3: 0, 511: now + 7200, 512: now - 60, 700: 0, 1100: now + 60}
	for rowid, x := range rows {
		if _, err := db.Exec(`INSERT INTO events (rowid, id, source, type, type_group, received_key, envelope, stored_at, expires_at)
			VALUES (?1, 'ev-' || ?1, 's', 't', 't', 'k' || ?1, x'7b7d', 1, ?2)`, rowid, x); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	e := openRef(t, path, Options{})
	bounds, err := queryStrings(e.rdb, `SELECT block || ':' || (min_expires - ?) FROM expiry_blocks ORDER BY block`, now)
	if want := []string{"0:-3600", "1:-60", "2:60"}; err != nil || !slices.Equal(bounds, want) {
		t.Fatalf("expiry_blocks after the migration = %q, %v; want %q", bounds, err, want)
	}
	var indexes int
	if err := e.rdb.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'events_expires'`).Scan(&indexes); err != nil || indexes != 0 {
		t.Fatalf("events_expires still there (%d), %v", indexes, err)
	}
	if _, err := e.Sweep(ctx, time.Unix(now+3601, 0)); err != nil {
		t.Fatal(err)
	}
	left, err := queryStrings(e.rdb, `SELECT id FROM events ORDER BY rowid`)
	if want := []string{"ev-3", "ev-511", "ev-700"}; err != nil || !slices.Equal(left, want) {
		t.Fatalf("events after a sweep an hour on = %q, %v; want %q", left, err, want)
	}
}
