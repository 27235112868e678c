package engine_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"hookline/internal/sink"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
)

// TestCheckpointerCopiesTheWALWhileOpen: the writer runs no checkpoints of its own
// (wal_autocheckpoint 0), so the database file grows past what the WAL held only because the
// checkpointer copied the committed pages in the background, with the engine still open.
func TestCheckpointerCopiesTheWALWhileOpen(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	path := filepath.Join(t.TempDir(), "hookline.db")
	e := enginetest.Open(t, path)
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{})
	enginetest.Subscribe(t, e, "events", "q")
	size := fileSize(t, path)
	before := size()
	publishPadded(t, ctx, e, 200)
	const copied = 200 * 4000 // bytes of message bodies that must reach the file
	for deadline := time.Now().Add(60 * time.Second); size() < before+copied; {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes a minute after 200 commits (%d before): nothing was checkpointed", size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// walSequence reads the checkpoint sequence number from the WAL file's header: SQLite
// increments it each time a writer starts the WAL over from its first frame.
func walSequence(t *testing.T, path string) uint32 {
	t.Helper()
	f, err := os.Open(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h [16]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		t.Fatal(err)
	}
	return binary.BigEndian.Uint32(h[12:16])
}

// TestRestartWALStartsTheWALOver: the writer's restart copies what the WAL holds and lets the
// next commit write from the WAL's start — unless a reader is still on an older snapshot,
// when it gives up rather than hold the writer, and writes go on.
func TestRestartWALStartsTheWALOver(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e, _, path := openManual(t, engine.Options{})
	n := 0
	publish := func() {
		t.Helper()
		for range 20 {
			n++
			if err := e.Topic("events").Publish(ctx, enginetest.Message(fmt.Sprintf("m%d", n))); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish()
	seq := walSequence(t, path)

	// A reader in a transaction keeps its snapshot, and with it the WAL's frames.
	tx, err := e.ReadDB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var count int
	if err := tx.QueryRow(`SELECT count(*) FROM messages`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if err := e.RestartWAL(); err != nil {
		t.Fatal(err)
	}
	publish()
	if got := walSequence(t, path); got != seq {
		t.Fatalf("WAL started over (sequence %d → %d) under a reader of an older snapshot", seq, got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	if err := e.RestartWAL(); err != nil {
		t.Fatal(err)
	}
	publish()
	if got := walSequence(t, path); got == seq {
		t.Fatalf("WAL sequence still %d after the restart and a commit: the WAL was not started over", got)
	}
	var messages int
	if err := e.ReadDB().QueryRow(`SELECT count(*) FROM messages`).Scan(&messages); err != nil {
		t.Fatal(err)
	}
	if messages != n {
		t.Fatalf("%d messages in the table after the restarts, want the %d published", messages, n)
	}
}

// fileSize returns a reader of the size of the file at path.
func fileSize(t *testing.T, path string) func() int64 {
	return func() int64 {
		t.Helper()
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
}

// publishPadded publishes n messages m0…m<n-1> to topic "events", each with a body of 4000
// bytes of padding (plus its JSON framing).
func publishPadded(t *testing.T, ctx context.Context, e *engine.Engine, n int) {
	t.Helper()
	body := []byte(`{"pad":"` + strings.Repeat("x", 4000) + `"}`)
	for i := range n {
		m := enginetest.Message(fmt.Sprintf("m%d", i))
		m.Body = body
		if err := e.Topic("events").Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}

// logLines collects an engine's log lines (JSON, debug and up) for tests that read them.
type logLines struct{ sink.Buffer }

// records returns the lines logged so far with message msg ("" for all).
func (l *logLines) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range l.Lines(t) {
		if msg == "" || r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// warnings returns the lines logged at WARN or above.
func (l *logLines) warnings(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range l.records(t, "") {
		if r["level"] != "DEBUG" && r["level"] != "INFO" {
			out = append(out, r)
		}
	}
	return out
}

// openManual opens an engine whose checkpointer makes no passes of its own (the test calls
// CheckpointPass or RestartWAL), logging to the returned lines, with queue q subscribed to
// events.
func openManual(t *testing.T, opts engine.Options) (*engine.Engine, *logLines, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hookline.db")
	logs := &logLines{}
	opts.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, err := engine.OpenWithoutCheckpointer(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{})
	enginetest.Subscribe(t, e, "events", "q")
	return e, logs, path
}

func publishN(t *testing.T, e *engine.Engine, prefix string, n int) {
	t.Helper()
	for i := range n {
		if err := e.Topic("events").Publish(enginetest.Context(t), enginetest.Message(fmt.Sprintf("%s%d", prefix, i))); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckpointPassOnlyAfterCommits: a pass with nothing committed since the last one runs
// no checkpoint; a pass after a commit runs one PASSIVE checkpoint.
func TestCheckpointPassOnlyAfterCommits(t *testing.T) {
	t.Parallel()
	e, logs, _ := openManual(t, engine.Options{})
	var modes []string
	checkpoint := func(mode string) (int, error) {
		modes = append(modes, mode)
		return 10, nil
	}
	restart := func() error {
		t.Error("a WAL of 10 frames was restarted")
		return nil
	}
	e.CheckpointPass(checkpoint, restart) // the queue and subscription were committed
	if len(modes) != 1 {
		t.Fatalf("%d checkpoints after the setup's commits, want 1", len(modes))
	}
	e.CheckpointPass(checkpoint, restart)
	if len(modes) != 1 {
		t.Fatalf("%d checkpoints after a pass with nothing committed since the last, want still 1", len(modes))
	}
	publishN(t, e, "m", 1)
	e.CheckpointPass(checkpoint, restart)
	if want := []string{"PASSIVE", "PASSIVE"}; !slices.Equal(modes, want) {
		t.Fatalf("checkpoints %q after a publish, want %q", modes, want)
	}
	if w := logs.warnings(t); len(w) > 0 {
		t.Fatalf("warnings logged: %v", w)
	}
}

// TestCheckpointPassDecisions: how many PASSIVE passes one checkpointer pass runs, and whether
// it asks the writer to start the WAL over, from the frames each pass reports: past
// walRestartPages it passes again while a pass finds more than restartLeftPages new frames,
// at most restartPasses times, then restarts; an error ends the pass with one warning.
func TestCheckpointPassDecisions(t *testing.T) {
	t.Parallel()
	const W, L, P = engine.WALRestartPages, engine.RestartLeftPages, engine.RestartPasses
	errPass := errors.New("checkpoint failed")
	errRestart := errors.New("restart failed")
	growing := make([]int, 2*P) // each pass finds L+1 new frames
	for i := range growing {
		growing[i] = W + 1 + i*(L+1)
	}
	cases := []struct {
		name       string
		frames     []int // what each pass reports, in order; failPass: that pass (1-based) fails
		failPass   int
		restartErr error
		passes     int
		restarted  bool
		warn       error
	}{
		{name: "at the threshold", frames: []int{W, W, W}, passes: 1},
		{name: "one past it, nothing new", frames: []int{W + 1, W + 1, W + 1}, passes: 2, restarted: true},
		{name: "restartLeftPages new", frames: []int{W + 1, W + 1 + L, W + 1 + L}, passes: 2, restarted: true},
		{name: "one more than restartLeftPages new, then nothing", frames: []int{W + 1, W + 2 + L, W + 2 + L, W + 2 + L}, passes: 3, restarted: true},
		{name: "much new every pass", frames: growing, passes: P, restarted: true},
		{name: "the first pass fails", frames: []int{W + 1, W + 1}, failPass: 1, passes: 1, warn: errPass},
		{name: "a later pass fails", frames: []int{W + 1, W + 1, W + 1}, failPass: 2, passes: 2, warn: errPass},
		{name: "the restart fails", frames: []int{W + 1, W + 1, W + 1}, restartErr: errRestart, passes: 2, restarted: true, warn: errRestart},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e, logs, _ := openManual(t, engine.Options{})
			passes, restarts := 0, 0
			checkpoint := func(mode string) (int, error) {
				passes++
				if mode != "PASSIVE" {
					t.Errorf("pass %d: mode %s, want PASSIVE", passes, mode)
				}
				if passes == c.failPass {
					return 0, errPass
				}
				if passes > len(c.frames) { // a pass that never ends: stop it
					return 0, fmt.Errorf("pass %d: more passes than the test has frames for", passes)
				}
				return c.frames[passes-1], nil
			}
			restart := func() error {
				restarts++
				return c.restartErr
			}
			e.CheckpointPass(checkpoint, restart)
			if passes != c.passes {
				t.Errorf("%d PASSIVE checkpoints, want %d", passes, c.passes)
			}
			if restarted := restarts > 0; restarts > 1 || restarted != c.restarted {
				t.Errorf("%d restarts, want restarted = %v (once)", restarts, c.restarted)
			}
			w := logs.warnings(t)
			if c.warn == nil {
				if len(w) > 0 {
					t.Errorf("warnings logged: %v", w)
				}
				return
			}
			if len(w) != 1 || w[0]["msg"] != "checkpoint the WAL" || w[0]["err"] != c.warn.Error() {
				t.Errorf("warnings %v, want one \"checkpoint the WAL\" with err %q", w, c.warn)
			}
		})
	}
}

// TestCheckpointWALReportsTheWALFrames: a pass's checkpoint reports the frames the WAL file
// holds (what the restart decision is made on) and logs them with its duration by the
// checkpoint clock; on a closed engine it fails.
func TestCheckpointWALReportsTheWALFrames(t *testing.T) {
	t.Parallel()
	var reads int // the clock moves a millisecond each time the checkpoint reads it
	clock := func() time.Time {
		reads++
		return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(reads) * time.Millisecond)
	}
	e, logs, path := openManual(t, engine.WithCheckpointClock(engine.Options{}, clock))
	publishN(t, e, "m", 20)
	var pageSize int64
	if err := e.ReadDB().QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	want := int((st.Size() - 32) / (pageSize + 24)) // the WAL header, then frames of header + page
	frames, err := e.CheckpointWAL("PASSIVE")
	if err != nil {
		t.Fatal(err)
	}
	if frames != want || frames == 0 {
		t.Fatalf("checkpoint reports %d frames, the %d-byte WAL holds %d", frames, st.Size(), want)
	}
	r := logs.records(t, "checkpoint")
	if len(r) != 1 || r[0]["mode"] != "PASSIVE" || r[0]["busy"] != false || r[0]["wal_frames"] != float64(want) || r[0]["copied"] != float64(want) || r[0]["duration_ms"] != 1.0 {
		t.Fatalf("checkpoint log lines %v, want one PASSIVE, not busy, %d frames, all copied, in 1 ms", r, want)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if frames, err := e.CheckpointWAL("PASSIVE"); err == nil {
		t.Fatalf("checkpoint on a closed engine: %d frames, no error", frames)
	}
}

// TestRestartWALPatience: the writer retries a RESTART checkpoint that readers keep busy until
// restartPatience has passed by its clock (here the test's), then gives up; a restart nobody
// keeps busy takes one try. The log line says how it went.
func TestRestartWALPatience(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		reader    bool          // a reader holds an older snapshot when the restart starts
		step      time.Duration // the clock moves by this much each time the writer reads it
		release   bool          // the reader finishes when the writer first reads the clock after a busy try
		restarted bool
		busy      bool
		tries     float64
		ms        float64 // duration_ms logged
	}{
		{name: "nobody reading", step: time.Millisecond, restarted: true, tries: 1, ms: 1},
		{name: "the reader finishes while the writer tries", reader: true, step: time.Millisecond, release: true, restarted: true, tries: 2, ms: 2},
		{name: "the reader stays past the patience", reader: true, step: engine.RestartPatience, busy: true, tries: 1, ms: 2 * float64(engine.RestartPatience.Milliseconds())},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var (
				tx         *sql.Tx
				reads      int
				releaseErr error
			)
			clock := func() time.Time { // the writer goroutine's, during RestartWAL
				reads++
				if reads == 2 && c.release {
					releaseErr = tx.Rollback()
				}
				return t0.Add(time.Duration(reads-1) * c.step)
			}
			e, logs, path := openManual(t, engine.WithCheckpointClock(engine.Options{}, clock))
			publishN(t, e, "a", 20)
			seq := walSequence(t, path)
			if c.reader {
				var err error
				if tx, err = e.ReadDB().BeginTx(enginetest.Context(t), nil); err != nil {
					t.Fatal(err)
				}
				var n int
				if err := tx.QueryRow(`SELECT count(*) FROM messages`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if !c.release {
					defer tx.Rollback()
				}
			}
			if err := e.RestartWAL(); err != nil {
				t.Fatal(err)
			}
			if releaseErr != nil {
				t.Fatal(releaseErr)
			}
			publishN(t, e, "b", 20)
			if restarted := walSequence(t, path) != seq; restarted != c.restarted {
				t.Errorf("WAL started over: %v, want %v", restarted, c.restarted)
			}
			r := logs.records(t, "checkpoint")
			if len(r) != 1 || r[0]["mode"] != "RESTART" || r[0]["busy"] != c.busy || r[0]["tries"] != c.tries || r[0]["duration_ms"] != c.ms {
				t.Errorf("restart log lines %v, want one RESTART with busy %v, tries %v, duration_ms %v", r, c.busy, c.tries, c.ms)
			}
			if w := logs.warnings(t); len(w) > 0 {
				t.Errorf("warnings logged: %v", w)
			}
		})
	}
}

// TestCopyPassSyncsTheDatabaseFile: a pass copies the committed pages into the database
// file and then fsyncs that file itself. SQLite syncs it only after a pass that caught up
// with every commit, never under steady load, which left all the pages copied since the last
// restart for the restart's fsync — on the writer, with every publish waiting.
func TestCopyPassSyncsTheDatabaseFile(t *testing.T) {
	t.Parallel()
	ctx := enginetest.Context(t)
	e, _, path := openManual(t, engine.Options{})
	size := fileSize(t, path)
	before := size()
	publishPadded(t, ctx, e, 50)
	type fsync struct {
		path string
		size int64 // of the database file when it was synced
	}
	var syncs []fsync // CopyPass fsyncs on this goroutine
	e.SetFsync(func(f *os.File) error {
		syncs = append(syncs, fsync{f.Name(), size()})
		return f.Sync()
	})
	frames, err := e.CopyPass()
	if err != nil {
		t.Fatal(err)
	}
	if frames == 0 {
		t.Fatal("the pass found no frames in the WAL after 50 commits")
	}
	const copied = 50 * 4000 // bytes of message bodies the pass must have copied before the sync
	if len(syncs) != 1 || syncs[0].path != path || syncs[0].size < before+copied {
		t.Fatalf("syncs during the pass: %+v; want one of %s, after the copy (file %d bytes before, %d copied)", syncs, path, before, copied)
	}
}

// TestSyncFile: the checkpointer's fsync of the WAL (before it asks for a restart) syncs that
// file, and reports a file it cannot open or sync.
func TestSyncFile(t *testing.T) {
	t.Parallel()
	e, _, path := openManual(t, engine.Options{})
	var synced []string
	failSync := errors.New("fsync failed")
	var fail bool
	e.SetFsync(func(f *os.File) error {
		synced = append(synced, f.Name())
		if fail {
			return failSync
		}
		return f.Sync()
	})
	if err := e.SyncFile(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	if want := []string{path + "-wal"}; !slices.Equal(synced, want) {
		t.Fatalf("synced %q, want %q", synced, want)
	}
	if err := e.SyncFile(path + "-missing"); err == nil {
		t.Error("syncing a missing file reported no error")
	}
	fail = true
	if err := e.SyncFile(path + "-wal"); !errors.Is(err, failSync) {
		t.Errorf("a failed fsync: %v, want it reported", err)
	}
	if len(synced) != 2 {
		t.Errorf("%d fsyncs, want 2 (none for the missing file)", len(synced))
	}
}

// TestWritebackOnlyAfterCommits: the checkpointer starts writing the WAL back only when
// something was committed since its last pass, and then the WAL file.
func TestWritebackOnlyAfterCommits(t *testing.T) {
	t.Parallel()
	e, logs, path := openManual(t, engine.Options{})
	var started []string
	start := func(f *os.File) error {
		started = append(started, f.Name())
		return nil
	}
	e.CheckpointPass(func(string) (int, error) { return 10, nil }, nil) // takes the setup's commits
	e.Writeback(start)
	if len(started) != 0 {
		t.Fatalf("wrote back %q with nothing committed since the pass", started)
	}
	publishN(t, e, "m", 1)
	e.Writeback(start)
	if want := []string{path + "-wal"}; !slices.Equal(started, want) {
		t.Fatalf("wrote back %q after a publish, want %q", started, want)
	}
	if w := logs.warnings(t); len(w) > 0 {
		t.Fatalf("warnings logged: %v", w)
	}
}

// TestCheckpointerWritesBackTheWAL: between its passes (a minute apart here), the running
// checkpointer starts writing the WAL back after a publish.
func TestCheckpointerWritesBackTheWAL(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	started := make(chan string, 1)
	opts := engine.WithWriteback(engine.Options{}, func(f *os.File) error {
		select {
		case started <- f.Name():
		default:
		}
		return nil
	})
	e, err := engine.Open(path, engine.WithCheckpointEvery(opts, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{})
	enginetest.Subscribe(t, e, "events", "q")
	publishN(t, e, "m", 1)
	select {
	case name := <-started:
		if name != path+"-wal" {
			t.Fatalf("wrote back %s, want the WAL %s", name, path+"-wal")
		}
	case <-time.After(30 * time.Second): // only catches a checkpointer that never writes back
		t.Fatal("no writeback of the WAL 30 s after a publish")
	}
}

// TestStartWriteback: sync_file_range on a file with dirty pages succeeds; on what is not a
// file it reports the error.
func TestStartWriteback(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := engine.StartWriteback(f); err != nil {
		t.Fatalf("writeback of a written file: %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := engine.StartWriteback(w); runtime.GOOS == "linux" && err == nil {
		t.Error("writeback of a pipe reported no error")
	}
}
