package testenv

import "os/exec"

// Peer returns the command that runs a peer server (dynalite, maildev) for a test. Where the
// system allows (Linux: peer_linux.go), the peer is killed when the test process dies — even by
// SIGKILL or a `go test -timeout` panic, where t.Cleanup never runs. Without that, every test
// binary killed mid-run (a hang, a gremlins timeout) left its Node servers running, holding
// memory and ports (seen in `make mutate`, 2026-12-02: two dynalites and four maildevs).
func Peer(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	DiesWithParent(cmd)
	return cmd
}

// DiesWithParent is Peer's guarantee for a command built otherwise (exec.CommandContext, or
// with SysProcAttr fields of its own, set after this call): call it before cmd.Start.
func DiesWithParent(cmd *exec.Cmd) {
	diesWithParent(cmd)
}
