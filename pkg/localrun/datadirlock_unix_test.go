//go:build unix

package localrun

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// holdLock takes the lock on dir's LockFile as a server does, without writing its pid: the
// moment between a server's flock and its write.
func holdLock(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	return path
}

// deadPid is the pid of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("no true to run: %v", err)
	}
	return cmd.Process.Pid
}

// TestLockNamesAHolderThatWritesLate: a second server that reads the lock file between the
// holder's flock and its pid write (the file empty, or still naming a holder killed with -9)
// waits for the pid and names it; if none comes it says so rather than naming nobody.
func TestLockNamesAHolderThatWritesLate(t *testing.T) {
	for _, before := range []string{"", strconv.Itoa(deadPid(t)) + "\n"} {
		dir := t.TempDir()
		path := holdLock(t, dir)
		if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(50 * time.Millisecond)
			_ = os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
		}()
		_, err := lockDataDir(dir)
		if want := fmt.Sprintf("in use by another hookline local (pid %d)", os.Getpid()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("file %q then our pid: %v; want %q", before, err, want)
		}
	}

	dir := t.TempDir()
	path := holdLock(t, dir)
	if got, want := holder(path, 20*time.Millisecond), " (its pid is not in "+path+" yet)"; got != want {
		t.Errorf("no pid written: %q; want %q", got, want)
	}
}

// TestLockReleaseClearsThePid: a server that stops leaves no pid for the next holder's first
// moments, and the next takes the lock and writes its own.
func TestLockReleaseClearsThePid(t *testing.T) {
	dir := t.TempDir()
	release, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, LockFile)
	if b, _ := os.ReadFile(path); string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("lock file while held: %q", b)
	}
	release()
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Errorf("lock file after release: %q; want empty", b)
	}
	release, err = lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	release()
}
