package email

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"hookline/pkg/pipeline"
)

// Outbox is a Mailer that writes each email as an .eml file (opens in any mail client). A file
// is named by its event id; a second email for the same event gets "-2", "-3", … so duplicates
// are visible rather than overwritten.
type Outbox struct {
	Dir      string
	From, To string           // defaults DefaultFrom, DefaultTo
	Now      func() time.Time // nil means time.Now
}

var _ pipeline.Mailer = (*Outbox)(nil)

// Send writes the email durably: a temporary file, fsync, then a hard link to its final name,
// which fails rather than replaces when that name exists.
func (o *Outbox) Send(_ context.Context, m pipeline.Email) error {
	if !validName(m.EventID) {
		return fmt.Errorf("outbox: event id %q is not usable as a file name", m.EventID)
	}
	msg, err := Message(m, or(o.From, DefaultFrom), or(o.To, DefaultTo), o.now())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	tmp, err := os.CreateTemp(o.Dir, ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(msg); err != nil {
		tmp.Close()
		return fmt.Errorf("outbox: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("outbox: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	for n := 1; ; n++ {
		name := m.EventID + ".eml"
		if n > 1 {
			name = m.EventID + "-" + strconv.Itoa(n) + ".eml"
		}
		err := os.Link(tmp.Name(), filepath.Join(o.Dir, name))
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		return syncDir(o.Dir)
	}
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
