package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPackageMap: README.md's "Packages by role" names every Go package of the repository,
// and every entry file it names exists, so the map cannot drift from the layout.
func TestPackageMap(t *testing.T) {
	t.Parallel()
	_, section, ok := strings.Cut(readText(t, filepath.Join("..", "README.md")), "\n## Packages by role\n")
	if !ok {
		t.Fatal(`README.md has no "## Packages by role" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	code := regexp.MustCompile("`([^`]+)`")
	var named []string // package paths and globs (functions/*)
	rows := 0
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| ") || len(cells) != 3 || strings.Contains(line, "---") || strings.Contains(cells[1], "package") && !strings.Contains(cells[1], "`") {
			continue
		}
		rows++
		var pkgs, files []string
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			pkgs = append(pkgs, m[1])
		}
		entry, _, _ := strings.Cut(cells[2], ":")
		for _, m := range code.FindAllStringSubmatch(entry, -1) {
			files = append(files, m[1])
		}
		if len(pkgs) == 0 || (len(files) != 1 && len(files) != len(pkgs)) {
			t.Errorf("row %q: want packages and one entry file, or one per package", line)
			continue
		}
		named = append(named, pkgs...)
		for i, p := range pkgs {
			file := files[0]
			if len(files) > 1 {
				file = files[i]
			}
			dirs, _ := filepath.Glob(filepath.Join("..", p))
			if len(dirs) == 0 {
				t.Errorf("README names package %s, which does not exist", p)
			}
			for _, d := range dirs {
				if _, err := os.Stat(filepath.Join(d, file)); err != nil {
					t.Errorf("README names %s as the entry file of %s: %v", file, p, err)
				}
			}
		}
	}
	if rows == 0 {
		t.Fatal("no rows parsed from the package map")
	}
	for _, dir := range goPackageDirs(t) {
		found := false
		for _, p := range named {
			if ok, _ := filepath.Match(p, dir); ok {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("package %s is missing from README.md's package map: add it to a row of \"Packages by role\" with its entry file", dir)
		}
	}
}

// goPackageDirs lists, relative to the repository root, every directory holding .go files.
func goPackageDirs(t *testing.T) []string {
	t.Helper()
	root := ".."
	seen := map[string]bool{}
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
			name == "testdata" || name == "node_modules" || name == "build" || name == "bin" || name == "cdk.out") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".go") {
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			if !seen[rel] {
				seen[rel] = true
				dirs = append(dirs, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}
