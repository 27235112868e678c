package engine

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOpenDBFileSharesAndReleases: engines of one process on one file share one descriptor,
// closed when the last lets go; letting go of one file's descriptor leaves another file's
// shared one in place, and the file opened again gets a new, open descriptor.
func TestOpenDBFileSharesAndReleases(t *testing.T) {
	dir := t.TempDir()
	pathA, pathB := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	for _, p := range []string{pathA, pathB} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	open := func(path string) (*os.File, func() error) {
		t.Helper()
		f, release, err := openDBFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return f, release
	}
	usable := func(f *os.File) bool { _, err := f.Stat(); return err == nil }

	a1, releaseA1 := open(pathA)
	a2, releaseA2 := open(pathA)
	b1, releaseB1 := open(pathB)
	if a1 != a2 || a1 == b1 {
		t.Fatalf("descriptors a1 %p, a2 %p, b1 %p: want a1 = a2 (one file), b1 apart", a1, a2, b1)
	}
	if err := releaseA1(); err != nil || !usable(a2) {
		t.Fatalf("after the first of two let go of a.db (err %v), the other's descriptor is closed", err)
	}
	if err := releaseA1(); err != nil || !usable(a2) {
		t.Fatalf("letting go twice (err %v) counted twice: the other's descriptor is closed", err)
	}
	if err := releaseA2(); err != nil || usable(a2) {
		t.Fatalf("after the last let go of a.db (err %v), its descriptor is still open", err)
	}
	if b2, releaseB2 := open(pathB); b2 != b1 {
		t.Errorf("b.db opened again got a new descriptor: letting go of a.db dropped b.db's from the registry")
	} else if err := releaseB2(); err != nil {
		t.Fatal(err)
	}
	a3, releaseA3 := open(pathA)
	if !usable(a3) {
		t.Errorf("a.db opened again got its closed descriptor: it stayed in the registry")
	}
	for _, release := range []func() error{releaseA3, releaseB1} {
		if err := release(); err != nil {
			t.Fatal(err)
		}
	}
	dbFiles.Lock()
	defer dbFiles.Unlock()
	for _, d := range dbFiles.open {
		if os.SameFile(d.info, mustStat(t, pathA)) || os.SameFile(d.info, mustStat(t, pathB)) {
			t.Errorf("a descriptor of %s is left in the registry after every engine let go", d.f.Name())
		}
	}
}

func mustStat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info
}
