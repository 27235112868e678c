//go:build !linux

package testenv

import "os/exec"

// diesWithParent: only Linux has a parent-death signal; elsewhere a killed test can leave its
// peer running, as before.
func diesWithParent(*exec.Cmd) {}
