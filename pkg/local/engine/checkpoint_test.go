package engine_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	size := func() int64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	before := size()
	body := []byte(`{"pad":"` + strings.Repeat("x", 4000) + `"}`)
	for i := range 200 {
		m := enginetest.Message(fmt.Sprintf("m%d", i))
		m.Body = body
		if err := e.Topic("events").Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
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
	path := filepath.Join(t.TempDir(), "hookline.db")
	e, err := engine.OpenWithoutCheckpointer(path, engine.Options{Log: enginetest.QuietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	enginetest.CreateQueue(t, e, "q", engine.QueueConfig{})
	enginetest.Subscribe(t, e, "events", "q")
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
