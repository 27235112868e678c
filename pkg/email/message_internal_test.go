package email

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/mail"
	"runtime"
	"strings"
	"testing"
	"time"

	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/mailertest"
)

// FuzzMboxRecord: for any event id, source, type, subject and text, Message is an RFC 5322
// message that reads back (net/mail, the MIME word decoder, quoted-printable: what a mail
// client does) into the email it was made from, and the outbox's record is that message as an
// mboxrd record: the "From " line, the message with one more '>' before each line that starts
// with ">*From " (so no line of it starts a record), a blank line.
func FuzzMboxRecord(f *testing.F) {
	body := "A push event from github has been processed.\n\n  Event id:     e1\n\nData:\n\n{\n  \"ref\": \"refs/heads/main\"\n}"
	f.Add("e1", "github", "push", "[hookline] push from github", body)
	f.Add("e-2", "stripe", "invoice.paid", "s", "From the start\n>From quoted\n>>From twice\nFrom")
	f.Add("e3", "src\r\nX-Bad: 1", "typ\né", "sübject ✓", "trailing space \nand tab\t\n\nmore \r\nlone \r cr\r")
	f.Add("e4", "s", "t", "", strings.Repeat("x", 200)+"\n"+strings.Repeat("=", 80)+"\n"+strings.Repeat("é", 60))
	f.Add("e5", "s\tt", "t", "s", "")
	f.Add("e6", "s", "t", "s", "ends in a line break\n")
	f.Add("e7", "del\x7f", "tilde~", "s", "x") // the last printable byte and the one after it
	f.Add("e8", "日本", "\r\n", "s", "x")        // only bytes above '~', only bytes below ' '
	// A sender's encoded word, alone, inside a word, after a line break, with spaces around.
	f.Add("e9", "=?utf-8?b?SW52b2ljZSBwYWlk?=", "x=?utf-8?q?paid?=y", "=?utf-8?q?x?=", "x")
	f.Add("e10", " =?utf-8?q?a?= ", "\r\n=?utf-8?q?a?=", "s", "x")
	// Line breaks of every kind, and "\r" then a byte the encoder escapes then "\n".
	f.Add("e11", "s", "t", "s", "crlf\r\ncr\rlf\n\r\n\r\r\n\n\r=\n\ré\n=\r\n")
	f.Fuzz(func(t *testing.T, id, source, typ, subject, text string) {
		m := pipeline.Email{EventID: id, Source: source, Type: typ, Subject: subject, Text: text}
		date := time.Date(2026, 12, 2, 6, 7, 8, 9, time.FixedZone("x", 3600))
		msg, err := Message(m, DefaultFrom, DefaultTo, date)
		if !validName(id) { // not one of ours: refused (TestMessageRefusesAnUnusableEventID)
			if err == nil {
				t.Fatalf("Message with event id %q: no error", id)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		checkReadsBack(t, msg, m, date)

		rec, err := mboxRecord(nil, m, DefaultFrom, DefaultTo, date)
		if err != nil {
			t.Fatal(err)
		}
		fromLine := "From hookline@localhost " + date.UTC().Format(time.ANSIC) + "\n"
		inner, ok := bytes.CutPrefix(rec, []byte(fromLine))
		if !ok || !bytes.HasSuffix(inner, []byte("\r\n\n")) {
			t.Fatalf("record %q: want %q, the message ending in CRLF, a blank line", rec, fromLine)
		}
		inner = inner[:len(inner)-1]
		for line := range bytes.Lines(inner) {
			if bytes.HasPrefix(line, []byte("From ")) {
				t.Fatalf("record %q: line %q would start another record", rec, line)
			}
		}
		if !bytes.HasSuffix(msg, []byte("\r\n")) {
			msg = append(msg, '\r', '\n')
		}
		if got := unquoteFrom(inner); !bytes.Equal(got, msg) {
			t.Fatalf("record %q reads back as\n%q\nwant the message\n%q", rec, got, msg)
		}
	})
}

// checkReadsBack fails t unless msg's header is ASCII and msg reads back into m's fields and
// the envelope's headers: decoded once, as a reader does, every value is the sender's text as
// it was, "=?" in it included (never an encoded word of the sender's). What the format cannot
// carry is left out, and said where: a header value's line breaks (sent as spaces), the spaces
// and tabs around a value sent as it is, the kind of a line break in the text.
func checkReadsBack(t *testing.T, msg []byte, m pipeline.Email, date time.Time) {
	t.Helper()
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !asIs(strings.ReplaceAll(string(head), "\r\n", "")) {
		t.Errorf("header %q: not printable ASCII", head)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("%q is not an email: %v", msg, err)
	}
	h := parsed.Header
	if d, err := h.Date(); err != nil || !d.Equal(date.Truncate(time.Second)) {
		t.Errorf("Date %q: %v, %v; want %v", h.Get("Date"), d, err, date)
	}
	for k, want := range map[string]string{"From": DefaultFrom, "To": DefaultTo, "MIME-Version": "1.0",
		"Content-Type": "text/plain; charset=utf-8", "Content-Transfer-Encoding": "quoted-printable"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if got, want := h.Get("Message-ID"), "<"+m.EventID+"@hookline>"; got != want {
		t.Errorf("Message-ID: %q, want %q", got, want)
	}
	oneLine := strings.NewReplacer("\r", " ", "\n", " ").Replace
	want := map[string]string{"Subject": m.Subject, "X-Hookline-Event-Id": oneLine(m.EventID),
		"X-Hookline-Source": oneLine(m.Source), "X-Hookline-Type": oneLine(m.Type)}
	for k, v := range want {
		if asIs(v) && !strings.Contains(v, "=?") { // sent as it is
			want[k] = strings.Trim(v, " \t")
		}
	}
	got := mailertest.ParseMessage(t, msg)
	var dec mime.WordDecoder
	id, err := dec.DecodeHeader(h.Get("X-Hookline-Event-Id"))
	if err != nil {
		t.Fatalf("X-Hookline-Event-Id: %v", err)
	}
	for k, got := range map[string]string{"Subject": got.Subject, "X-Hookline-Event-Id": id,
		"X-Hookline-Source": got.Source, "X-Hookline-Type": got.Type} {
		if got != want[k] {
			t.Errorf("%s reads back as %q, want %q", k, got, want[k])
		}
	}
	// Every line break of the text arrives as one CRLF, the one a mail's text has: a "\r\n",
	// a lone "\n" and a lone "\r" alike.
	if want := strings.NewReplacer("\r\n", "\r\n", "\r", "\r\n", "\n", "\r\n").Replace(m.Text); got.Text != want {
		t.Errorf("text reads back as %q, want %q", got.Text, want)
	}
}

// asIs reports whether s is header text that needs no encoding: printable ASCII and tabs.
func asIs(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return (r < ' ' || r > '~') && r != '\t' })
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
		rec = testing.AllocsPerRun(20, func() { _, _ = mboxRecord(nil, m, DefaultFrom, DefaultTo, date) })
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
		if _, err := mboxRecord(nil, m, DefaultFrom, DefaultTo, date); err != nil {
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

// FuzzQWords: qWords, which encodes printable ASCII that mime.QEncoding leaves as it is, writes
// what mime.QEncoding writes for ASCII it does encode (here: with a control byte in it), and
// its words decode into the text itself.
func FuzzQWords(f *testing.F) {
	f.Add("=?utf-8?b?SW52b2ljZSBwYWlk?=")
	f.Add(" a_b=c?d\t" + strings.Repeat("=?", 40))
	f.Add("")
	// Every printable byte: '~' and ' ' are the ends of the range written as they are.
	printable := make([]byte, 0, '~'-' '+1)
	for c := byte(' '); c <= '~'; c++ {
		printable = append(printable, c)
	}
	f.Add(string(printable))
	f.Fuzz(func(t *testing.T, s string) {
		s = strings.Map(func(r rune) rune {
			if r > '~' {
				return -1
			}
			return r
		}, s) + "\x01"
		if got, want := qWords(s), mime.QEncoding.Encode("utf-8", s); got != want {
			t.Errorf("qWords(%q) = %q, mime.QEncoding writes %q", s, got, want)
		}
		var dec mime.WordDecoder
		if got, err := dec.DecodeHeader(qWords(s)); err != nil || got != s {
			t.Errorf("qWords(%q) decodes into %q, %v", s, got, err)
		}
	})
}

// TestHeaderValuePlainOrEncoded: a sender's value goes into a header as it is when it is
// printable ASCII (or tabs) without "=?" -- a '?' or an '=' apart, or an '=' at the very end,
// keeps it plain -- and otherwise as encoded words of all of it (encodedWords); a line break
// becomes a space.
func TestHeaderValuePlainOrEncoded(t *testing.T) {
	for s, want := range map[string]string{
		"issues.opened":        "issues.opened",
		"Why? a=b ?= ~ x\tend": "Why? a=b ?= ~ x\tend",
		"ends with =":          "ends with =",
		"a=?b":                 "=?utf-8?q?a=3D=3Fb?=",
		"line\nbreak":          "line break",
	} {
		if got := headerValue(s); got != want {
			t.Errorf("headerValue(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestMessageRefusesAnUnusableEventID: the event id goes into the Message-ID as it is, so an id
// that is not one of ours (letters, digits, '-' and '_') is refused with an error naming it,
// whoever calls Message (the SMTP mailer; the outbox refuses it before rendering): a line
// break in it would start a header of its own.
func TestMessageRefusesAnUnusableEventID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"e1\r\nBcc: someone@example.test", "a b", "x@hookline>", ""} {
		m := pipeline.Email{EventID: id, Source: "s", Type: "t", Subject: "s", Text: "x"}
		if msg, err := Message(m, DefaultFrom, DefaultTo, time.Unix(0, 0)); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", id)) {
			t.Errorf("Message with event id %q: %v, want an error naming it; wrote\n%s", id, err, msg)
		}
	}
}
