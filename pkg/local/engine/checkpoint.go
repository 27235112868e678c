package engine

import (
	"database/sql"
	"time"
)

// SQLite's automatic checkpoint runs in the connection that commits, once the WAL passes its
// threshold: the writer goroutine then copied 8,000 pages into the database file (and, with
// synchronous=NORMAL, fsynced both files) while every request waiting on the next group commit
// — each 202 — waited too. That was the tail of the time-to-202 figures (p50 1.85 ms, p99
// 67 ms at 1,000 req/s on a quiet machine). The checkpointer does the copying from its own
// connection instead: a PASSIVE checkpoint takes no lock a writer needs, so commits go on
// while it runs.
const (
	// checkpointEvery is how often the checkpointer copies what was committed since its last
	// pass (a few thousand pages at 1,000 events/s).
	checkpointEvery = time.Second
	// walRestartPages bounds the WAL when writes never pause: SQLite starts the WAL over only
	// when a write begins with every frame already copied, which steady writes can keep from
	// happening. Past this many frames (128 MiB) the checkpointer runs a RESTART checkpoint,
	// which holds writers off until it has copied the (few) frames left and lets the next
	// write start the WAL over.
	walRestartPages = 32000
)

// checkpointer runs until the engine closes, checkpointing through db after commits.
func (e *Engine) checkpointer(db *sql.DB) {
	defer close(e.checkpointDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-e.closed:
			return
		case <-t.C:
		}
		if e.commits.Swap(0) == 0 {
			continue // nothing committed since the last pass
		}
		frames, err := checkpoint(db, "PASSIVE")
		if err == nil && frames > walRestartPages {
			_, err = checkpoint(db, "RESTART")
		}
		if err != nil {
			e.log.Warn("checkpoint the WAL", "err", err)
		}
	}
}

// checkpoint runs PRAGMA wal_checkpoint(mode) and returns how many frames the WAL holds.
func checkpoint(db *sql.DB, mode string) (frames int, err error) {
	var busy, copied int
	err = db.QueryRow(`PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &copied)
	return frames, err
}
