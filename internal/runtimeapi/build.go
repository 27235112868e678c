package runtimeapi

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// BuildFlags are `make lambdas`' flags (LAMBDA_FLAGS in the Makefile).
var BuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// Build compiles each main package (import paths) as `make lambdas` does, but for the host's
// GOOS/GOARCH so the binaries run here, into dir, in one go build so shared packages compile
// once. It returns each binary's path by import path.
func Build(ctx context.Context, dir string, pkgs ...string) (map[string]string, error) {
	return BuildFor(ctx, runtime.GOOS, runtime.GOARCH, dir, pkgs...)
}

// BuildFor is Build for another GOOS/GOARCH: `make lambdas` itself is BuildFor(ctx, "linux",
// "arm64", …), which cmd/coldstart uses for the size of what is deployed.
func BuildFor(ctx context.Context, goos, goarch, dir string, pkgs ...string) (map[string]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", abs+string(filepath.Separator))
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	bins := map[string]string{}
	for _, p := range pkgs {
		bins[p] = filepath.Join(abs, filepath.Base(p))
	}
	return bins, nil
}
