package engine

import (
	"os"
	"syscall"
)

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE: start writing the range's dirty pages, wait
// for nothing.
const syncFileRangeWrite = 2

// startWriteback starts writing f's dirty pages to disk and returns without waiting for them
// (sync_file_range(2)).
func startWriteback(f *os.File) error {
	c, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := c.Control(func(fd uintptr) { serr = syscall.SyncFileRange(int(fd), 0, 0, syncFileRangeWrite) }); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "sync_file_range", Path: f.Name(), Err: serr}
	}
	return nil
}
