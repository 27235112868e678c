package testenv

import (
	"os/exec"
	"syscall"
)

// diesWithParent asks the kernel to SIGKILL the peer when the thread that started it exits.
// Pdeathsig follows that thread, not the process; the Go runtime keeps its threads for the life
// of the process unless a goroutine locked to one exits, which no test starting a peer does.
func diesWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
