package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// TestFrontPage: README.md stays a front page (issue 14): at most 250 lines, the two commands
// on the first screen, a link to each manual, and each manual there.
func TestFrontPage(t *testing.T) {
	t.Parallel()
	readme := readText(t, filepath.Join("..", "README.md"))
	lines := strings.Split(strings.TrimRight(readme, "\n"), "\n")
	if len(lines) > 250 {
		t.Errorf("README.md has %d lines; at most 250: move the detail into docs/", len(lines))
	}
	first := strings.Join(lines[:min(len(lines), 25)], "\n")
	for _, cmd := range []string{"make run", "make test"} {
		if !strings.Contains(first, cmd) {
			t.Errorf("README.md's first 25 lines do not show %q", cmd)
		}
	}
	for _, doc := range []string{"docs/sources.md", "docs/api.md", "docs/cli.md", "docs/local.md", "docs/postman.md",
		"docs/deploy.md", "docs/operations.md", "docs/cost.md", "docs/development.md", "docs/benchmarks/", "BENCHMARKS.md"} {
		if !strings.Contains(readme, "]("+doc+")") {
			t.Errorf("README.md does not link %s", doc)
		}
		if _, err := os.Stat(filepath.Join("..", doc)); err != nil {
			t.Errorf("README.md links %s: %v", doc, err)
		}
	}
}

// TestBenchmarksLatestRun: `make bench` replaces what follows this marker in BENCHMARKS.md
// (and refuses to run without it), so BENCHMARKS.md holds one run, not every run.
func TestBenchmarksLatestRun(t *testing.T) {
	t.Parallel()
	if n := strings.Count(readText(t, filepath.Join("..", "BENCHMARKS.md")), "\n<!-- latest run:"); n != 1 {
		t.Errorf("BENCHMARKS.md has %d latest-run marker lines; make bench needs exactly one", n)
	}
}

// TestLinks: every relative link of README.md and docs/*.md reaches a file, and a #fragment a
// heading of it (GitHub's anchors: lower case, punctuation dropped, spaces as hyphens), so a
// section moved between files cannot leave a dead link behind.
func TestLinks(t *testing.T) {
	t.Parallel()
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, file := range docFiles(t) {
		for _, m := range link.FindAllStringSubmatch(readText(t, file), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			resolved := file
			if path != "" {
				resolved = filepath.Join(filepath.Dir(file), path)
			}
			if _, err := os.Stat(resolved); err != nil {
				t.Errorf("%s: link %s: %v", file, target, err)
				continue
			}
			if frag != "" && !anchors(t, resolved)[frag] {
				t.Errorf("%s: link %s: no heading with that anchor in %s", file, target, resolved)
			}
		}
	}
}

func anchors(t *testing.T, file string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	inFence := false
	for _, line := range strings.Split(readText(t, file), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		var slug strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#"))) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				slug.WriteRune(r)
			case r == ' ':
				slug.WriteByte('-')
			}
		}
		out[slug.String()] = true
	}
	return out
}
