package engine

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
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
	// (128 MiB) the WAL is started over (restartWAL). The file keeps its high-water size
	// (~180 MiB flat out) until the engine closes and removes it.
	walRestartPages = 32000
	// restartLeftPages: before asking the writer to hold still for a restart, the checkpointer
	// runs PASSIVE passes (each copies what was committed during the one before) until a pass
	// finds at most this many new frames, so the writer's restart has little to copy: on the
	// writer, a thousand frames took it ~50–100 ms, every 202 waiting.
	restartLeftPages = 256
	// restartPasses bounds those passes; the restart is tried after them either way.
	restartPasses = 4
	// restartPatience is how long the writer, holding still, keeps trying to start the WAL
	// over while readers of older snapshots finish (reads are short queries); then it gives
	// up until the checkpointer's next pass.
	restartPatience = 20 * time.Millisecond
	// writebackEvery is how often the checkpointer hands the WAL's new frames to the disk,
	// without waiting for them. Left to the pass's fsync, a second of frames (~40 MB at
	// 1,000 events/s) went to the disk at once, and while that queue drained the writer's
	// own WAL writes waited on the disk behind it (seen in the kernel's stacks): tens of ms
	// with every 202 waiting, once a second.
	writebackEvery = 50 * time.Millisecond
)

// checkpointer runs until the engine closes, checkpointing through db after commits.
func (e *Engine) checkpointer(db *sql.DB) {
	every := e.opts.checkpointEvery
	if every < 0 { // a test that drives the passes and restarts itself
		<-e.closed
		close(e.checkpointDone)
		return
	}
	if every == 0 {
		every = checkpointEvery
	}
	pass := func(string) (int, error) { return e.pass(db) } // always PASSIVE
	restart := func() error {
		// The restart fsyncs the WAL before it copies: leave it only what came in since.
		if err := e.syncFile(e.path + "-wal"); err != nil {
			return err
		}
		return e.askRestart()
	}
	start := e.opts.writeback
	if start == nil {
		start = startWriteback
	}
	defer close(e.checkpointDone)
	passes := time.NewTicker(every)
	defer passes.Stop()
	writeback := time.NewTicker(writebackEvery)
	defer writeback.Stop()
	for {
		select {
		case <-e.closed:
			return
		case <-passes.C:
			e.checkpointPass(pass, restart)
		case <-writeback.C:
			e.writeback(start)
		}
	}
}

// writeback has start begin writing the WAL's dirty pages to disk, if anything was committed
// since the last pass. It promises nothing (the pass's fsync does that); it keeps what the
// disk has queued short.
func (e *Engine) writeback(start func(*os.File) error) {
	if e.commits.Load() == 0 {
		return
	}
	f, err := os.Open(e.path + "-wal") // the WAL: SQLite holds no POSIX lock on it (syncFile)
	if err != nil {
		e.log.Debug("write back the WAL", "err", err)
		return
	}
	defer f.Close()
	if err := start(f); err != nil {
		e.log.Debug("write back the WAL", "err", err)
	}
	e.readAhead(f)
}

// writerPos is where in the WAL the writer's next frame goes, from the WAL-index header
// (WalIndexHdr: szPage u16 at 14, mxFrame u32 at 16, in native byte order).
func (e *Engine) writerPos() (int64, bool) {
	if e.shmFile == nil {
		return 0, false
	}
	var hdr [20]byte
	if _, err := e.shmFile.ReadAt(hdr[:], 0); err != nil {
		return 0, false
	}
	page := int64(binary.NativeEndian.Uint16(hdr[14:]))
	if page == 1 {
		page = 65536
	}
	if page == 0 {
		return 0, false
	}
	return 32 + int64(binary.NativeEndian.Uint32(hdr[16:]))*(24+page), true
}

// readAheadBytes is how much of the WAL after the writer's position readAhead reads: at
// 1,000 events/s the writer writes ~0.7 MB between two writeback ticks.
const readAheadBytes = 1 << 20

// readAhead reads the WAL just past where the writer will write next. A WAL frame is 24 bytes
// longer than a page, so nearly every frame writes part of a block; on this VM's ext4 a block
// that has been written back is sometimes no longer up to date in the page cache, and the
// kernel then reads it from disk inside the writer's pwrite, every 202 waiting: most such reads
// take 0.2 ms, a few 30–66 ms, the longest commits of a run (docs/benchmarks/
// 2026-12-02-issue-13-round-10-p99.md). Read here first, the block waits for the checkpointer.
// The writer's position is the WAL-index header's mxFrame (a racy read: a stale value only
// reads the wrong megabyte). It changes nothing on disk and promises nothing.
func (e *Engine) readAhead(wal *os.File) {
	pos, ok := e.writerPos()
	if !ok {
		return
	}
	pos &^= 4095
	if e.raBuf == nil {
		e.raBuf = make([]byte, 64<<10)
	}
	for off := pos; off < pos+readAheadBytes; off += int64(len(e.raBuf)) {
		if n, err := wal.ReadAt(e.raBuf, off); err != nil || n < len(e.raBuf) {
			return // the WAL's end
		}
	}
}

// checkpointPass is one pass of the checkpointer: checkpoint runs PRAGMA wal_checkpoint(mode)
// and returns the WAL's frames, restart has the writer start the WAL over (tests pass their
// own, to see each decision).
func (e *Engine) checkpointPass(checkpoint func(mode string) (frames int, err error), restart func() error) {
	if e.commits.Swap(0) == 0 {
		return // nothing committed since the last pass
	}
	frames, err := checkpoint("PASSIVE")
	for pass := 1; err == nil && frames > walRestartPages && pass < restartPasses; pass++ {
		// What the last pass did not see was committed while it ran: copy that too, until
		// a pass finds little new, so the writer's restart has little to copy.
		seen := frames
		if frames, err = checkpoint("PASSIVE"); frames-seen <= restartLeftPages {
			break
		}
	}
	if err == nil && frames > walRestartPages {
		err = restart()
	}
	if err != nil {
		e.log.Warn("checkpoint the WAL", "err", err)
	}
}

// pass copies what was committed since the last pass into the database file and makes the
// copy durable. SQLite fsyncs the database file at the end of a checkpoint only when no
// commit came in while it copied, which under steady load never happens: the pages of every
// pass since the last restart were left for the restart's fsync, on the writer, while every
// 202 waited (a restart took 24–86 ms at 1,000 req/s on the shared 2-core VM; 4–40 ms with
// the pass syncing). Synced here, off the writer, the restart's fsync has only its own pages.
func (e *Engine) pass(db *sql.DB) (frames int, err error) {
	if frames, err = e.checkpoint(db, "PASSIVE"); err != nil {
		return 0, err
	}
	if err := e.fsync(e.dbFile); err != nil {
		return 0, fmt.Errorf("sync the database file: %w", err)
	}
	return frames, nil
}

// syncFile fsyncs the file at path. Only for files SQLite holds no POSIX lock on (the WAL):
// closing a descriptor drops every such lock this process holds on the file.
func (e *Engine) syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer f.Close()
	if err := e.fsync(f); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// checkpoint runs PRAGMA wal_checkpoint(mode) and returns how many frames the WAL holds.
func (e *Engine) checkpoint(db *sql.DB, mode string) (frames int, err error) {
	now := e.checkpointClock()
	start := now()
	var busy, copied int
	if err := db.QueryRow(`PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &copied); err != nil {
		return 0, err
	}
	e.log.Debug("checkpoint", "mode", mode, "busy", busy == 1, "wal_frames", frames, "copied", copied,
		"duration_ms", float64(now().Sub(start).Microseconds())/1000)
	return frames, nil
}

// checkpointClock is what checkpoint and restartWAL time themselves by: time.Now, or a test's
// clock.
func (e *Engine) checkpointClock() func() time.Time {
	if e.opts.checkpointClock != nil {
		return e.opts.checkpointClock
	}
	return time.Now
}

// askRestart has the writer goroutine start the WAL over between two group commits.
func (e *Engine) askRestart() error {
	done := make(chan error, 1)
	select {
	case e.restarts <- done:
	case <-e.closed:
		return nil
	}
	return <-done
}

// restartWAL runs on the writer goroutine, between group commits, so nothing is written while
// it runs: a RESTART checkpoint copies the few frames the checkpointer's passes left and, once
// no reader is on an older snapshot, lets the next commit write the WAL from its start.
// It used to run on the checkpointer's connection with the writer's busy timeout: SQLite's
// busy handler then slept 1, 2, 5, 10, 15, 20, 25 ms between tries for the write lock and
// for the readers, and held the write lock while it slept — 70–90 ms without a commit, every
// few seconds under load, the tail of the time-to-202 figures. Here the connection's busy
// timeout is 0 for the checkpoint, a busy answer comes at once, and the retry is 100 µs later.
func (e *Engine) restartWAL() error {
	now := e.checkpointClock()
	start := now()
	ctx := context.Background()
	if _, err := e.wconn.ExecContext(ctx, `PRAGMA busy_timeout = 0`); err != nil {
		return fmt.Errorf("restart the WAL: %w", err)
	}
	defer func() {
		if _, err := e.wconn.ExecContext(ctx, `PRAGMA busy_timeout = `+strconv.Itoa(busyTimeoutMS)); err != nil {
			e.log.Warn("restore the busy timeout after restarting the WAL", "err", err)
		}
	}()
	for tries := 1; ; tries++ {
		var busy, frames, copied int
		if err := e.wconn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &copied); err != nil {
			return fmt.Errorf("restart the WAL: %w", err)
		}
		if busy == 0 || now().Sub(start) >= restartPatience {
			e.log.Debug("checkpoint", "mode", "RESTART", "busy", busy == 1, "tries", tries, "wal_frames", frames, "copied", copied,
				"duration_ms", float64(now().Sub(start).Microseconds())/1000)
			return nil
		}
		time.Sleep(100 * time.Microsecond)
	}
}
