package engine_test

import (
	"fmt"
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
