package engine_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
)

// TestWriterPosIsTheWALsEnd: readAhead reads the WAL from where the writer writes next, which
// it takes from the WAL-index header. That position must be the end of the WAL's last frame
// (32-byte header, then frames of 24 bytes + a page), before and after the WAL starts over:
// read at the wrong place, the blocks the writer is about to overwrite are not read ahead.
func TestWriterPosIsTheWALsEnd(t *testing.T) {
	t.Parallel()
	e, err := engine.OpenWithoutCheckpointer(filepath.Join(t.TempDir(), "hookline.db"), engine.Options{Log: enginetest.QuietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	check := func(when string) {
		t.Helper()
		frames, err := e.CheckpointWAL("PASSIVE") // copies, but the WAL starts over only at the next write
		if err != nil {
			t.Fatal(err)
		}
		pos, ok := e.WriterPos()
		if !ok {
			t.Fatalf("%s: no position from the WAL-index", when)
		}
		if want := int64(32 + frames*(24+4096)); pos != want {
			t.Fatalf("%s: writer's position %d, want %d (%d frames)", when, pos, want, frames)
		}
		if frames == 0 {
			t.Fatalf("%s: no frames in the WAL: the check proves nothing", when)
		}
	}
	for i := range 20 {
		enginetest.CreateQueue(t, e, fmt.Sprintf("q%d", i), engine.QueueConfig{})
	}
	check("after 20 commits")
	if err := e.RestartWAL(); err != nil {
		t.Fatal(err)
	}
	enginetest.CreateQueue(t, e, "after", engine.QueueConfig{})
	check("after the WAL started over and one commit")
}
