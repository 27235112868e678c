package engine

import (
	"fmt"
	"os"
	"sync"
)

// The checkpointer fsyncs the database file through a descriptor of its own (checkpoint.go).
// Closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's
// included, whichever connection took them: SQLite itself keeps its descriptors of a file open
// until no connection of the process uses the file. The engines of one process on one file
// share one such descriptor, closed when the last of them closes, after its connections.
var dbFiles = struct {
	sync.Mutex
	open []*dbFile
}{}

type dbFile struct {
	f    *os.File
	info os.FileInfo
	refs int
}

// openDBFile returns a descriptor of the database file at path, shared with the other
// engines of this process on the same file, and the function that lets go of it.
func openDBFile(path string) (*os.File, func() error, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s for syncing: %w", path, err)
	}
	dbFiles.Lock()
	defer dbFiles.Unlock()
	var d *dbFile
	for _, o := range dbFiles.open {
		if os.SameFile(o.info, info) {
			d = o
			break
		}
	}
	if d == nil {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("open %s for syncing: %w", path, err)
		}
		d = &dbFile{f: f, info: info}
		dbFiles.open = append(dbFiles.open, d)
	}
	d.refs++
	var once sync.Once
	release := func() error {
		var err error
		once.Do(func() {
			dbFiles.Lock()
			defer dbFiles.Unlock()
			if d.refs--; d.refs > 0 {
				return
			}
			for i, o := range dbFiles.open {
				if o == d {
					dbFiles.open = append(dbFiles.open[:i], dbFiles.open[i+1:]...)
					break
				}
			}
			err = d.f.Close()
		})
		return err
	}
	return d.f, release, nil
}
