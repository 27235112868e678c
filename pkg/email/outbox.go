package email

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"hookline/pkg/pipeline"
)

// Outbox is a Mailer that writes each email as an .eml file named by its event id (opens in any
// mail client). The file name is the idempotency key: a second Send for the same event (a
// notifier retried after a crash between sending and marking) finds the file and writes
// nothing, so the outbox holds exactly one email per event.
type Outbox struct {
	Dir string
	// Sync fsyncs each file and the directory before Send returns, so an email survives power
	// loss once the event is marked notified. Without it a file survives a crash of the process
	// (the kernel still writes it out) but not of the machine.
	Sync     bool
	From, To string           // defaults DefaultFrom, DefaultTo
	Now      func() time.Time // nil means time.Now
}

var _ pipeline.Mailer = (*Outbox)(nil)

// Send writes the email to <id>.eml, created exclusively (open, write, close: the fewest file
// operations, which bound the local pipeline's email rate). A file that already exists with
// the full length is an email sent before: nothing is written. One of another length was cut
// short by a crash mid-write and is replaced whole (temporary file, then rename).
func (o *Outbox) Send(_ context.Context, m pipeline.Email) error {
	if !validName(m.EventID) {
		return fmt.Errorf("outbox: event id %q is not usable as a file name", m.EventID)
	}
	msg, err := Message(m, or(o.From, DefaultFrom), or(o.To, DefaultTo), o.now())
	if err != nil {
		return err
	}
	path := filepath.Join(o.Dir, m.EventID+".eml")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrNotExist) { // first email, or the directory was removed
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	}
	if errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Stat(path); serr == nil && fi.Size() == int64(len(msg)) {
			return nil // already sent (the Date header has a fixed width, so lengths match)
		}
		return o.replace(path, msg)
	}
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if _, err := f.Write(msg); err != nil {
		f.Close()
		return fmt.Errorf("outbox: write %s: %w", path, err)
	}
	if err := o.finish(f); err != nil {
		return err
	}
	if o.Sync {
		return syncDir(o.Dir)
	}
	return nil
}

// replace writes msg to a temporary file and renames it over path.
func (o *Outbox) replace(path string, msg []byte) error {
	tmp, err := os.CreateTemp(o.Dir, ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(msg); err != nil {
		tmp.Close()
		return fmt.Errorf("outbox: write %s: %w", tmp.Name(), err)
	}
	if err := o.finish(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if o.Sync {
		return syncDir(o.Dir)
	}
	return nil
}

// finish closes f, first making its contents durable when Sync is set. The directory entry
// is the caller's to sync, once, after the file has its final name.
func (o *Outbox) finish(f *os.File) error {
	if o.Sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("outbox: sync %s: %w", f.Name(), err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("outbox: sync dir: %w", err)
	}
	return nil
}

func validName(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
			return false
		}
	}
	return true
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
