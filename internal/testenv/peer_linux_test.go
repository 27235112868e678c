package testenv

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A peer outlives a killed test unless Peer asks the kernel to take it down: run this test's
// binary as a child that starts `sleep 600` with Peer, SIGKILL the child, and wait for the
// sleep to be gone.
func TestPeerDiesWithTheTestProcess(t *testing.T) {
	if os.Getenv("HOOKLINE_TESTENV_PEER_CHILD") == "1" {
		cmd := Peer("sleep", "600")
		if err := cmd.Start(); err != nil {
			fmt.Println("start:", err)
			os.Exit(2)
		}
		fmt.Println(cmd.Process.Pid)
		time.Sleep(10 * time.Minute) // until the parent test kills this process
		return
	}
	t.Parallel()
	child := exec.Command(os.Args[0], "-test.run=^TestPeerDiesWithTheTestProcess$", "-test.count=1")
	child.Env = append(os.Environ(), "HOOKLINE_TESTENV_PEER_CHILD=1")
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	pid, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil {
		_ = child.Process.Kill()
		_ = child.Wait()
		t.Fatalf("child test printed %q (%v, %v), want the peer's pid", line, err, perr)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) }) // if the test fails
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	// A bound that only catches the failure: the kernel signals the peer as its parent dies.
	for deadline := time.Now().Add(30 * time.Second); alive(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("peer %d still running 30 s after its test process was killed", pid)
		}
	}
}

// alive reports whether pid is a process that has not exited (a zombie has).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
