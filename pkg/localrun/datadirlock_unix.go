//go:build unix

package localrun

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// lockDataDir takes the data dir's lock file (LockFile) for the life of the returned release:
// an exclusive flock, so a second `hookline local` on the same data dir fails at once instead
// of sharing its queues, outbox and checkpoints with the first. It is a file of its own: the
// engine must never open and close the database file (that drops SQLite's POSIX locks), and
// flock locks are apart from those. The kernel drops the lock when the process dies, kill -9
// included; the pid written into the file is only for the error message (holder).
func lockDataDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: lock: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data dir %s is in use by another hookline local%s: one server per data dir; stop it, or give this one another --data", dir, holder(path, holderWait))
		}
		return nil, fmt.Errorf("data dir %s: lock %s: %w", dir, path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		_ = f.Truncate(0) // a clean exit leaves no pid for the next holder's first moments
		f.Close()
	}, nil
}

// holderWait is how long a server refused the lock waits for the holder's pid to appear.
const holderWait = time.Second

// holder names the pid of the server holding the lock file at path, for the error message. The
// holder writes its pid just after it takes the lock, so one that lost the race can read the
// file before that (empty), or still holding the pid of a holder killed with -9; it reads again
// until the file names a live process or wait has passed, and then says the pid is not known.
func holder(path string, wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		if b, err := os.ReadFile(path); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 && alive(pid) {
				return fmt.Sprintf(" (pid %d)", pid)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf(" (its pid is not in %s yet)", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// alive reports whether a process with pid exists (signal 0 checks without sending; EPERM is
// a process of another user).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
