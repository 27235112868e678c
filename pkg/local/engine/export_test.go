package engine

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"time"
)

// Hooks into the engine's insides for its external tests (package engine_test), which share
// their fixtures with the runner's tests through enginetest.

// ReadDB is the read pool, for tests that look at the tables directly.
func (e *Engine) ReadDB() *sql.DB { return e.rdb }

// WriteThenFail runs stmt in a write request that then fails.
func (e *Engine) WriteThenFail(ctx context.Context, stmt string) error {
	return e.write(ctx, func(w *wtx) error {
		if _, err := w.Exec(stmt); err != nil {
			return err
		}
		return errors.New("deliberate")
	})
}

// SchemaV1 is the first migration: a file at schema version 1, as hookline wrote it before
// the verify_key column, for the migration test.
var SchemaV1 = migrations[0].sql

// Waiting reports whether a ReceiveWait on queue holds its wake-up channel: it is waiting, or
// about to, and a publish from now on must wake it.
func (e *Engine) Waiting(queue string) bool {
	b := e.queueWaiter(queue)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch != nil
}

// OpenWithoutCheckpointer opens an engine whose checkpointer never runs on its own, so the
// WAL starts over only when a test calls RestartWAL.
func OpenWithoutCheckpointer(path string, opts Options) (*Engine, error) {
	opts.checkpointEvery = -1
	return Open(path, opts)
}

// RestartWAL asks the writer to start the WAL over, as the checkpointer does past
// walRestartPages.
func (e *Engine) RestartWAL() error { return e.askRestart() }

// The checkpointer's thresholds (checkpoint.go).
const (
	WALRestartPages  = walRestartPages
	RestartLeftPages = restartLeftPages
	RestartPasses    = restartPasses
	RestartPatience  = restartPatience
)

// CheckpointPass runs one pass of the checkpointer, as its ticker does, with checkpoint in
// place of PRAGMA wal_checkpoint and restart in place of the writer's restart.
func (e *Engine) CheckpointPass(checkpoint func(mode string) (int, error), restart func() error) {
	e.checkpointPass(checkpoint, restart)
}

// CopyPass runs PRAGMA wal_checkpoint(PASSIVE) and the fsync after it, as each of the
// checkpointer's passes does, and returns the WAL's frames.
func (e *Engine) CopyPass() (int, error) { return e.pass(e.cdb) }

// SetFsync replaces how the checkpointer fsyncs a file (of an engine whose checkpointer
// makes no passes of its own).
func (e *Engine) SetFsync(f func(*os.File) error) { e.fsync = f }

// CheckpointWAL runs PRAGMA wal_checkpoint(mode) on the checkpointer's connection, as a pass does.
func (e *Engine) CheckpointWAL(mode string) (int, error) { return e.checkpoint(e.cdb, mode) }

// WithCheckpointEvery returns opts with the checkpointer's passes every d.
func WithCheckpointEvery(opts Options, d time.Duration) Options {
	opts.checkpointEvery = d
	return opts
}

// WithCheckpointClock returns opts with clock in place of time.Now in the checkpoints' timings:
// the test says how long the writer has been trying to restart the WAL, and how long each
// checkpoint took.
func WithCheckpointClock(opts Options, clock func() time.Time) Options {
	opts.checkpointClock = clock
	return opts
}

// SetCommitHook makes f run after each group commit, before the committed ops' signals
// (nil: none).
func (e *Engine) SetCommitHook(f func()) {
	if f == nil {
		e.commitHook.Store(nil)
		return
	}
	e.commitHook.Store(&f)
}

// MarkQueued reports whether a MarkNotified call waits for its write.
func (s *Store) MarkQueued() bool {
	s.marks.mu.Lock()
	defer s.marks.mu.Unlock()
	return len(s.marks.pending) > 0
}

// Synchronous is the write connection's PRAGMA synchronous (1 NORMAL, 2 FULL), read in a
// write request.
func (e *Engine) Synchronous(ctx context.Context) (int, error) {
	var v int
	err := e.write(ctx, func(w *wtx) error { return w.QueryRow(`PRAGMA synchronous`).Scan(&v) })
	return v, err
}

// WithWriteback returns opts with start in place of sync_file_range when the checkpointer
// starts writing the WAL's pages back.
func WithWriteback(opts Options, start func(*os.File) error) Options {
	opts.writeback = start
	return opts
}

// Writeback runs one of the checkpointer's writebacks of the WAL, through start.
func (e *Engine) Writeback(start func(*os.File) error) { e.writeback(start) }

// StartWriteback starts writing f's dirty pages to disk, as the checkpointer does the WAL's.
func StartWriteback(f *os.File) error { return startWriteback(f) }

// SyncFile fsyncs the file at path as the checkpointer does the WAL before a restart.
func (e *Engine) SyncFile(path string) error { return e.syncFile(path) }

// MaxBatch is the most ops one group commit takes.
const MaxBatch = maxBatch

// WriterPos is where the writer's next WAL frame goes, as readAhead reads it.
func (e *Engine) WriterPos() (int64, bool) { return e.writerPos() }

// HoldWriter makes the writer run an op that waits until release is called: what is sent to
// the writer meanwhile queues up and goes into the next group commit.
func (e *Engine) HoldWriter(ctx context.Context) (release func(), err error) {
	held, hold := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 1)
	go func() { errs <- e.write(ctx, func(*wtx) error { close(held); <-hold; return nil }) }()
	select {
	case <-held:
		return func() { close(hold); <-errs }, nil
	case err := <-errs:
		return func() {}, err
	}
}

// MarksPending is how many MarkNotified calls wait for their write.
func (s *Store) MarksPending() int {
	s.marks.mu.Lock()
	defer s.marks.mu.Unlock()
	return len(s.marks.pending)
}
