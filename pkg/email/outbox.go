package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"hookline/pkg/pipeline"
)

// MboxFile is the outbox's file in its directory: every email, oldest first, in mboxrd format
// (RFC 4155), which mail clients open as a folder (mutt -f, Thunderbird's ImportExportTools).
const MboxFile = "outbox.mbox"

// Outbox is a Mailer that appends each email to one mbox file (Dir/outbox.mbox). Appending is
// one write to an open file; a file per email cost an inode, a directory entry and three
// system calls each, which was the largest single cost of the local pipeline. The event id is
// the idempotency key: a second Send for the same event (a notifier retried after a crash
// between sending and marking) finds it in the outbox's index and writes nothing, so the
// outbox holds exactly one email per event.
//
// One process writes an outbox (`hookline local` owns its data directory); readers in any
// process see what was appended so far (IDs, Email).
type Outbox struct {
	Dir string
	// Sync fsyncs the file (and, when it is created, the directory) before Send returns, so
	// an email survives power loss once the event is marked notified. Concurrent Sends share
	// one fsync. Without it an email survives a crash of the process (the kernel still writes
	// it out) but not of the machine.
	Sync     bool
	From, To string           // defaults DefaultFrom, DefaultTo
	Now      func() time.Time // nil means time.Now

	mu      sync.Mutex
	f       *os.File        // open for appending; nil until the first Send
	scanned int64           // bytes of the file indexed so far (whole records only)
	index   map[string]span // event id → where its email is
	order   []string        // ids in the order written (a repeat would show twice)

	syncMu sync.Mutex
	synced int64 // the file is durable up to here

	checked atomic.Pointer[[2]string] // From and To as last checked
}

type span struct{ off, n int64 } // a record's message, after its "From " line

var _ pipeline.Mailer = (*Outbox)(nil)

// Send appends the email to the outbox unless the event already has one there.
func (o *Outbox) Send(_ context.Context, m pipeline.Email) error {
	if !validName(m.EventID) {
		return fmt.Errorf("outbox: event id %q is not usable as a mailbox key", m.EventID)
	}
	from, to, err := o.addresses()
	if err != nil {
		return err
	}
	buf := recordBuffers.Get().(*[]byte)
	defer putRecordBuffer(buf)
	rec, err := mboxRecord((*buf)[:0], m, from, to, o.now())
	if err != nil {
		return err
	}
	*buf = rec
	o.mu.Lock()
	if err := o.openLocked(); err != nil {
		o.mu.Unlock()
		return err
	}
	if _, ok := o.index[m.EventID]; ok {
		o.mu.Unlock()
		return nil // already sent
	}
	if _, err := o.f.Write(rec); err != nil {
		// A partial record would be the next record's prefix: cut it off.
		_ = o.f.Truncate(o.scanned)
		_, _ = o.f.Seek(o.scanned, io.SeekStart)
		o.mu.Unlock()
		return fmt.Errorf("outbox: append: %w", err)
	}
	start := o.scanned
	o.scanned += int64(len(rec))
	o.add(m.EventID, start, rec)
	end := o.scanned
	o.mu.Unlock()
	if o.Sync {
		return o.syncTo(end)
	}
	return nil
}

// recordBuffers holds the buffers Send renders records into. A record lives only until it is
// written (the index keeps offsets, not bytes), and rendering each into a new buffer was the
// largest allocation of the local pipeline's email (~3.7 KB of ~41 KB per event).
var recordBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledRecord is the largest buffer kept for reuse: an email of a 25 MB body is rendered
// into a buffer of its own, not kept alive for the emails after it.
const maxPooledRecord = 64 << 10

func putRecordBuffer(b *[]byte) {
	if cap(*b) <= maxPooledRecord {
		recordBuffers.Put(b)
	}
}

// syncTo returns once the file is durable up to end; one fsync covers every append before it.
func (o *Outbox) syncTo(end int64) error {
	o.syncMu.Lock()
	defer o.syncMu.Unlock()
	if o.synced >= end {
		return nil
	}
	o.mu.Lock()
	upTo := o.scanned
	o.mu.Unlock()
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("outbox: sync: %w", err)
	}
	o.synced = upTo
	return nil
}

// openLocked opens the file for appending on the first Send: it indexes what is there and
// cuts off a record a crash left half-written (its Send never returned, so its event was not
// marked and the email is sent again).
func (o *Outbox) openLocked() error {
	if o.f != nil {
		return nil
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	path := filepath.Join(o.Dir, MboxFile)
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) // emails carry event data
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := o.scanLocked(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Truncate(o.scanned); err != nil {
		f.Close()
		return fmt.Errorf("outbox: cut a half-written email: %w", err)
	}
	if _, err := f.Seek(o.scanned, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("outbox: %w", err)
	}
	if o.Sync && errors.Is(statErr, fs.ErrNotExist) {
		if err := syncDir(o.Dir); err != nil {
			f.Close()
			return err
		}
	}
	o.f = f
	return nil
}

// IDs returns the event id of every email in the outbox, oldest first. A missing outbox is
// an empty one.
func (o *Outbox) IDs() ([]string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.refreshLocked(); err != nil {
		return nil, err
	}
	return append([]string(nil), o.order...), nil
}

// Email returns the RFC 5322 message sent for event id, or an error wrapping fs.ErrNotExist.
func (o *Outbox) Email(id string) ([]byte, error) {
	o.mu.Lock()
	if err := o.refreshLocked(); err != nil {
		o.mu.Unlock()
		return nil, err
	}
	s, ok := o.index[id]
	o.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("outbox: no email for %s: %w", id, fs.ErrNotExist)
	}
	f, err := os.Open(filepath.Join(o.Dir, MboxFile))
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer f.Close()
	b := make([]byte, s.n)
	if _, err := f.ReadAt(b, s.off); err != nil {
		return nil, fmt.Errorf("outbox: read email %s: %w", id, err)
	}
	return unquoteFrom(b), nil
}

// refreshLocked indexes what other writers appended since the last look (the writer itself
// indexes as it appends).
func (o *Outbox) refreshLocked() error {
	if o.f != nil {
		return nil
	}
	f, err := os.Open(filepath.Join(o.Dir, MboxFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer f.Close()
	return o.scanLocked(f)
}

// scanLocked indexes the whole records after o.scanned; an incomplete last record (being
// written, or cut by a crash) is left for later.
func (o *Outbox) scanLocked(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if fi.Size() <= o.scanned {
		return nil
	}
	buf := make([]byte, fi.Size()-o.scanned)
	n, err := f.ReadAt(buf, o.scanned)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("outbox: read: %w", err)
	}
	buf = buf[:n]
	for len(buf) > 0 {
		end := bytes.Index(buf, recordEnd)
		if end < 0 || !bytes.HasPrefix(buf, []byte("From ")) {
			break
		}
		rec := buf[:end+len(recordEnd)]
		o.add(eventIDOf(rec), o.scanned, rec)
		o.scanned += int64(len(rec))
		buf = buf[len(rec):]
	}
	return nil
}

// add indexes a record written at off.
func (o *Outbox) add(id string, off int64, rec []byte) {
	if o.index == nil {
		o.index = map[string]span{}
	}
	from := int64(bytes.IndexByte(rec, '\n') + 1)
	if id == "" {
		id = "?" // not one of ours: listed, never matched by an event id
	}
	if _, ok := o.index[id]; !ok {
		o.index[id] = span{off: off + from, n: int64(len(rec)) - from - 1} // without the blank line
	}
	o.order = append(o.order, id)
}

// recordEnd ends every record: the message's last CRLF and the blank line mboxrd puts after
// it. Messages use CRLF throughout and the "From " line ends in a bare LF, so these three
// bytes occur nowhere else: a record cut anywhere does not end in them.
var recordEnd = []byte("\r\n\n")

var eventIDHeader = []byte("\r\nX-Hookline-Event-Id: ")

// eventIDOf reads the X-Hookline-Event-Id header of a record ("" if it has none).
func eventIDOf(rec []byte) string {
	head := rec
	if i := bytes.Index(rec, []byte("\r\n\r\n")); i >= 0 {
		head = rec[:i+2]
	}
	i := bytes.Index(head, eventIDHeader)
	if i < 0 {
		return ""
	}
	v := head[i+len(eventIDHeader):]
	if j := bytes.Index(v, []byte("\r\n")); j >= 0 {
		v = v[:j]
	}
	if !validName(string(v)) {
		return ""
	}
	return string(v)
}

// mboxRecord renders m (Message) as an mboxrd record: a "From " line, the message with every
// line that starts with ">*From " quoted by one more '>', and a blank line. The message is
// rendered in place after the "From " line; only a message with such a line is copied again.
// The record is appended to dst, which is grown to sizeHint(m) first when it has less room.
func mboxRecord(dst []byte, m pipeline.Email, from, to string, date time.Time) ([]byte, error) {
	out := dst
	if hint := sizeHint(m); cap(out)-len(out) < hint {
		out = make([]byte, len(dst), len(dst)+hint)
		copy(out, dst)
	}
	out = append(out, "From hookline@localhost "...)
	out = date.UTC().AppendFormat(out, time.ANSIC)
	out = append(out, '\n')
	start := len(out)
	out, err := appendMessage(out, m, from, to, date)
	if err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(out[start:], []byte("\r\n")) {
		out = append(out, '\r', '\n')
	}
	if quoted := quoteFrom(out[start:]); quoted != nil {
		out = append(out[:start], quoted...)
	}
	return append(out, '\n'), nil
}

// quoteFrom returns msg with one more '>' before every line that starts with ">*From ", or nil
// when no line does.
func quoteFrom(msg []byte) []byte {
	found := false
	for line := range bytes.Lines(msg) {
		if isFromLine(line, 0) {
			found = true
			break
		}
	}
	if !found {
		return nil
	}
	var out []byte
	for line := range bytes.Lines(msg) {
		if isFromLine(line, 0) {
			out = append(out, '>')
		}
		out = append(out, line...)
	}
	return out
}

// unquoteFrom undoes mboxrd's quoting: one '>' less on every line that starts with ">+From ".
func unquoteFrom(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for line := range bytes.Lines(b) {
		if isFromLine(line, 1) {
			line = line[1:]
		}
		out = append(out, line...)
	}
	return out
}

// isFromLine reports whether line is at least min '>' then "From ".
func isFromLine(line []byte, min int) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return i >= min && bytes.HasPrefix(line[i:], []byte("From "))
}

// addresses returns the From and To addresses, checked once: they do not change between
// Sends, and parsing both cost every email two mail.ParseAddress calls.
func (o *Outbox) addresses() (from, to string, err error) {
	from, to = or(o.From, DefaultFrom), or(o.To, DefaultTo)
	if c := o.checked.Load(); c != nil && c[0] == from && c[1] == to {
		return from, to, nil
	}
	if err := checkAddresses(from, to); err != nil {
		return "", "", err
	}
	o.checked.Store(&[2]string{from, to})
	return from, to, nil
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
