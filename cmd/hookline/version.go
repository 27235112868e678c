package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Stamped by `make build` (-ldflags -X), because the build info has no VCS data when Go
// builds with -buildvcs=false (set in GOFLAGS on some machines) or outside a checkout.
var (
	vcsRevision string // git rev-parse HEAD
	vcsModified string // "true" when the work tree had uncommitted changes
)

// buildInfo is what `hookline version` prints.
type buildInfo struct {
	Version  string // the module version: (devel) for a build from a checkout
	Commit   string // "unknown" when neither -ldflags nor the build info say
	Modified bool
	Go       string
}

func readBuildInfo() buildInfo {
	out := buildInfo{Version: "(devel)", Commit: vcsRevision, Modified: vcsModified == "true",
		Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			out.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && out.Commit == "":
				out.Commit = s.Value
			case s.Key == "vcs.modified" && vcsRevision == "":
				out.Modified = s.Value == "true"
			}
		}
	}
	if out.Commit == "" {
		out.Commit = "unknown"
	}
	return out
}

func (b buildInfo) String() string {
	commit := b.Commit
	if b.Modified {
		commit += " (modified)"
	}
	return fmt.Sprintf("hookline %s\ncommit   %s\ngo       %s\n", b.Version, commit, b.Go)
}

func (c *app) versionCmd() *cobra.Command {
	return leafCmd("version", "print the version, the commit it was built from and the Go version", "", positional(0, 0, ""), func(*cobra.Command, []string) error {
		_, err := fmt.Fprint(c.stdout, readBuildInfo())
		return err
	})
}
