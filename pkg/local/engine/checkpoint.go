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
	// walRestartPages bounds the WAL under steady load. SQLite starts the WAL over only when a
	// write begins with every frame copied and no reader on an older snapshot, which the
	// runner's polling readers keep from happening: measured flat out, every PASSIVE pass
	// caught up and the WAL still grew by ~8,000 frames a second. Past this many frames
	// (128 MiB) the checkpointer runs a RESTART, which holds writers off while it copies the
	// frames left and waits for the readers (70–90 ms measured on the shared 2-core VM), and
	// the next write starts the WAL over. The file keeps its high-water size (~180 MiB flat
	// out) until the engine closes and removes it.
	walRestartPages = 32000
)

// checkpointer runs until the engine closes, checkpointing through db after commits.
func (e *Engine) checkpointer(db *sql.DB) {
	e.every(checkpointEvery, e.checkpointDone, func() {
		if e.commits.Swap(0) == 0 {
			return // nothing committed since the last pass
		}
		frames, err := e.checkpoint(db, "PASSIVE")
		if err == nil && frames > walRestartPages {
			_, err = e.checkpoint(db, "RESTART")
		}
		if err != nil {
			e.log.Warn("checkpoint the WAL", "err", err)
		}
	})
}

// checkpoint runs PRAGMA wal_checkpoint(mode) and returns how many frames the WAL holds.
func (e *Engine) checkpoint(db *sql.DB, mode string) (frames int, err error) {
	start := time.Now()
	var busy, copied int
	if err := db.QueryRow(`PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &copied); err != nil {
		return 0, err
	}
	e.log.Debug("checkpoint", "mode", mode, "busy", busy == 1, "wal_frames", frames, "copied", copied,
		"duration_ms", float64(time.Since(start).Microseconds())/1000)
	return frames, nil
}
