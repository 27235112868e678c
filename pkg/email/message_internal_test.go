package email

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"runtime"
	"strings"
	"testing"
	"time"

	"hookline/pkg/pipeline"
)

// referenceMessage is Message as it was before appendMessage (fmt, strings.ReplaceAll and one
// quoted-printable Write), and referenceRecord the outbox's record as it was before the
// in-place mboxRecord (a copy line by line): the bytes the faster code must keep.
func referenceMessage(m pipeline.Email, from, to string, date time.Time) []byte {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hv := func(s string) string {
		return mime.QEncoding.Encode("utf-8", strings.NewReplacer("\r", " ", "\n", " ").Replace(s))
	}
	header("From", from)
	header("To", to)
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", date.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+m.EventID+"@hookline>")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("X-Hookline-Event-Id", hv(m.EventID))
	header("X-Hookline-Source", hv(m.Source))
	header("X-Hookline-Type", hv(m.Type))
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(m.Text, "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

func referenceRecord(m pipeline.Email, from, to string, date time.Time) []byte {
	msg := referenceMessage(m, from, to, date)
	if !bytes.HasSuffix(msg, []byte("\r\n")) {
		msg = append(msg, '\r', '\n')
	}
	out := []byte("From hookline@localhost ")
	out = date.UTC().AppendFormat(out, time.ANSIC)
	out = append(out, '\n')
	for line := range bytes.Lines(msg) {
		if isFromLine(line, 0) {
			out = append(out, '>')
		}
		out = append(out, line...)
	}
	return append(out, '\n')
}

// FuzzMboxRecord: the outbox's record of an email, and Message, are byte for byte what the
// reference renders, for any event id, source, type, subject and text.
func FuzzMboxRecord(f *testing.F) {
	body := "A push event from github has been processed.\n\n  Event id:     e1\n\nData:\n\n{\n  \"ref\": \"refs/heads/main\"\n}"
	f.Add("e1", "github", "push", "[hookline] push from github", body)
	f.Add("e-2", "stripe", "invoice.paid", "s", "From the start\n>From quoted\n>>From twice\nFrom")
	f.Add("e3", "src\r\nX-Bad: 1", "typ\né", "sübject ✓", "trailing space \nand tab\t\n\nmore \r\nlone \r cr\r")
	f.Add("e4", "s", "t", "", strings.Repeat("x", 200)+"\n"+strings.Repeat("=", 80)+"\n"+strings.Repeat("é", 60))
	f.Add("e5", "s\tt", "t", "s", "")
	f.Add("e6", "s", "t", "s", "ends in a line break\n")
	f.Add("e7", "del\x7f", "tilde~", "s", "x") // the last printable byte and the one after it
	f.Add("e8", "日本", "\r\n", "s", "x")        // only bytes above '~', only bytes below '
	f.Fuzz(func(t *testing.T, id, source, typ, subject, text string) {
		m := pipeline.Email{EventID: id, Source: source, Type: typ, Subject: subject, Text: text}
		date := time.Date(2026, 12, 2, 6, 7, 8, 9, time.FixedZone("x", 3600))
		want := referenceRecord(m, DefaultFrom, DefaultTo, date)
		got, err := mboxRecord(m, DefaultFrom, DefaultTo, date)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("mboxRecord differs from the reference:\n got %q\nwant %q", got, want)
		}
		msg, err := Message(m, DefaultFrom, DefaultTo, date)
		if err != nil {
			t.Fatal(err)
		}
		if want := referenceMessage(m, DefaultFrom, DefaultTo, date); !bytes.Equal(msg, want) {
			t.Fatalf("Message differs from the reference:\n got %q\nwant %q", msg, want)
		}
	})
}

// TestOutboxChecksItsAddresses: a Send refuses an address that does not parse, the first
// time and after the addresses changed since a Send that checked them.
func TestOutboxChecksItsAddresses(t *testing.T) {
	t.Parallel()
	m := pipeline.Email{EventID: "e1", Source: "s", Type: "t", Subject: "s", Text: "x"}
	bad := &Outbox{Dir: t.TempDir(), From: "not an address"}
	if err := bad.Send(context.Background(), m); err == nil || !strings.Contains(err.Error(), "not an address") {
		t.Errorf("Send with From %q: %v, want an error naming it", bad.From, err)
	}
	o := &Outbox{Dir: t.TempDir()}
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	for i, change := range []func(){func() { o.To = "ops@@localhost" }, func() { o.To, o.From = "", "hookline@@localhost" }} {
		change()
		m.EventID = fmt.Sprint("e", i+2)
		if err := o.Send(context.Background(), m); err == nil || !strings.Contains(err.Error(), "@@localhost") {
			t.Errorf("Send after From %q, To %q: %v, want an error naming the bad one", o.From, o.To, err)
		}
	}
}

// TestRenderingAllocatesTheSameForAnySize: Message and the mbox record are each built in one
// buffer sized from the email, so a long text costs no more allocations than a short one.
func TestRenderingAllocatesTheSameForAnySize(t *testing.T) {
	date := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	allocs := func(text string) (msg, rec float64) {
		m := pipeline.Email{EventID: "e1", Source: "github", Type: "push", Subject: "[hookline] push from github", Text: text}
		msg = testing.AllocsPerRun(20, func() { _, _ = Message(m, DefaultFrom, DefaultTo, date) })
		rec = testing.AllocsPerRun(20, func() { _, _ = mboxRecord(m, DefaultFrom, DefaultTo, date) })
		return msg, rec
	}
	line := "  \"message\": \"fix the build\",\n"
	shortMsg, shortRec := allocs(strings.Repeat(line, 4)) // over 32 bytes, as the long one: its []byte copy is on the heap too
	longMsg, longRec := allocs(strings.Repeat(line, 500))
	if longMsg != shortMsg || longRec != shortRec {
		t.Errorf("allocations: Message %v for a short text, %v for a long one; the record %v and %v", shortMsg, longMsg, shortRec, longRec)
	}
}

// TestTheRecordIsRenderedInOneBuffer: the mbox record is rendered into the buffer mboxRecord
// sized for it, not copied into a second one on the way. What it allocates besides: the text's
// []byte copy and a few small things (the encoder, the subject).
func TestTheRecordIsRenderedInOneBuffer(t *testing.T) {
	date := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	m := pipeline.Email{EventID: "e1", Source: "github", Type: "push", Subject: "[hookline] push from github",
		Text: strings.Repeat("  \"message\": \"fix the build\",\n", 500)}
	const runs = 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		if _, err := mboxRecord(m, DefaultFrom, DefaultTo, date); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	perRecord := (after.TotalAlloc - before.TotalAlloc) / runs
	// The buffer, the copy and the rest come to ~1.6 hints here (size classes round up); a
	// second buffer would add at least one more.
	if limit := uint64(2 * sizeHint(m)); perRecord > limit {
		t.Errorf("mboxRecord allocated %d bytes per record for a %d-byte text, want at most %d: twice its buffer's %d",
			perRecord, len(m.Text), limit, sizeHint(m))
	}
}
