package engine_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
)

// posixLocks returns the lines of /proc/locks for this process's POSIX locks on the file at
// path (Linux).
func posixLocks(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		t.Skipf("no /proc/locks to read the process's locks from: %v", err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		// "1: POSIX  ADVISORY  READ 2306 fe:00:9994442 1073741826 1073742335"
		if len(f) >= 6 && f[1] == "POSIX" && f[4] == fmt.Sprint(os.Getpid()) && strings.HasSuffix(f[5], fmt.Sprintf(":%d", st.Ino)) {
			out = append(out, l)
		}
	}
	return out
}

// TestClosingAnEngineKeepsTheOthersLocks: two engines of one process on one file, one closes.
// The other's connections still hold SQLite's lock on the database file — what tells another
// process closing its last connection that the WAL is still in use. The checkpointer's own
// descriptor of the file, closed with the first engine, would have dropped that lock: closing
// any descriptor drops all of the process's POSIX locks on the file.
func TestClosingAnEngineKeepsTheOthersLocks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	open := func() *engine.Engine {
		e, err := engine.Open(path, engine.Options{Log: enginetest.QuietLog()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	first, second := open(), open()
	enginetest.CreateQueue(t, second, "q", engine.QueueConfig{}) // its connections read and write the file
	held := posixLocks(t, path)
	if len(held) == 0 {
		t.Fatal("no POSIX lock of this process on the database file with two engines open")
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if got := posixLocks(t, path); len(got) == 0 {
		t.Fatalf("closing one engine dropped the other's locks on the database file (held before: %q)", held)
	}
	enginetest.CreateQueue(t, second, "r", engine.QueueConfig{}) // and it goes on working
}
