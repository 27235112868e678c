package email

import (
	"bytes"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unsafe"

	"hookline/pkg/pipeline"
)

// Addresses used by the local mailers unless configured.
const (
	DefaultFrom = "hookline <hookline@localhost>"
	DefaultTo   = "ops <ops@localhost>"
)

// Message renders m as an RFC 5322 message: a quoted-printable UTF-8 text body, and the event's
// id, source and type as X-Hookline-* headers so mail rules can filter on them. The event id
// must be 1-128 letters, digits, '-' and '_' (an event's UUID, a digest's id): it is the
// Message-ID's left part as it is.
func Message(m pipeline.Email, from, to string, date time.Time) ([]byte, error) {
	if err := checkAddresses(from, to); err != nil {
		return nil, err
	}
	if !validName(m.EventID) { // the outbox checks it before rendering, the SMTP mailer here
		return nil, fmt.Errorf("email: event id %q is not usable in a Message-ID", m.EventID)
	}
	return appendMessage(nil, m, from, to, date)
}

func checkAddresses(from, to string) error {
	for _, a := range []string{from, to} {
		if _, err := mail.ParseAddress(a); err != nil {
			return fmt.Errorf("email address %q: %w", a, err)
		}
	}
	return nil
}

// appendMessage appends Message's bytes to dst, with from and to checked already. Every email
// of the local pipeline is rendered here, so it writes into one buffer sized for the whole
// message (growing a buffer from empty copied each email about three times) and hands the
// text to the encoder without copying it for its line ends.
func appendMessage(dst []byte, m pipeline.Email, from, to string, date time.Time) ([]byte, error) {
	b := bytes.NewBuffer(dst)
	// mboxRecord's dst is already sized with the same hint, its "From " line in it: Grow(hint)
	// there would ask for hint more bytes than that and copy the record into a second buffer.
	if hint := sizeHint(m); cap(dst) < hint {
		b.Grow(hint - len(dst))
	}
	header := func(k, v string) {
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteString("\r\n")
	}
	header("From", from)
	header("To", to)
	header("Subject", encodedWords(m.Subject))
	var d [len(time.RFC1123Z)]byte
	header("Date", string(date.UTC().AppendFormat(d[:0], time.RFC1123Z)))
	header("Message-ID", "<"+m.EventID+"@hookline>")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("X-Hookline-Event-Id", headerValue(m.EventID))
	header("X-Hookline-Source", headerValue(m.Source))
	header("X-Hookline-Type", headerValue(m.Type))
	b.WriteString("\r\n")
	out := b.Bytes()
	qp := newQPEncoder(out)
	// Every line break of the text, "\r\n", "\n" or a lone "\r" (which has no place in a
	// mail's text, RFC 5322 2.3, and which the encoder itself takes for a break), is sent as one
	// "\r\n". The encoder does that for a "\n" itself, but drops the "\n" of "\r=\n" (an
	// escaped byte after a "\r" keeps it waiting for the "\n" of a "\r\n"), so it never sees a
	// "\r": it gets the text between them, and a "\r\n" for each "\r" or "\r\n". Its output
	// depends only on the bytes it is given, not on how they are split between calls. It reads
	// the text's own bytes, which it only copies, so no copy is needed.
	text := unsafe.Slice(unsafe.StringData(m.Text), len(m.Text))
	for {
		i := bytes.IndexByte(text, '\r')
		if i < 0 {
			break
		}
		out = qp.append(out, text[:i])
		out = qp.append(out, crlf)
		text = text[i+1:]
		if len(text) > 0 && text[0] == '\n' {
			text = text[1:] // the "\n" of a "\r\n": one break
		}
	}
	out = qp.append(out, text)
	return qp.close(out), nil
}

// sizeHint is room for m's message or mbox record in one allocation: the headers and the "From "
// line within 1 KiB (unless a sender's type or source is very long), the body's soft line
// breaks and escapes within the text's length again (all but a text mostly of escaped bytes).
func sizeHint(m pipeline.Email) int {
	return 2*len(m.Text) + 1024
}

var crlf = []byte("\r\n")

// headerValue keeps untrusted values (types come from senders) on one line, in ASCII and
// literal (encodedWords).
func headerValue(s string) string {
	if plainHeader(s) {
		return s // what the replacement and the encoding below return for it, without their work
	}
	return encodedWords(strings.NewReplacer("\r", " ", "\n", " ").Replace(s))
}

// encodedWords returns s as header text that a reader decodes into s itself: s as it is when
// it is printable ASCII without "=?", else RFC 2047 encoded words of all of it. A sender's
// "=?utf-8?b?...?=" is shown decoded, as any text the sender likes, by every mail client and
// filter that decodes headers (Sieve does, RFC 5228 2.7.2), so such a value is sent as an
// encoded word of its literal text: decoded once, it is that text again, "=?" and all, and a
// filter on the decoded value matches the type the event has. (Subject rewrites "=?" instead:
// SNS writes the subject header itself, and a subject is read, not matched.) mime.QEncoding
// leaves printable ASCII as it is, so that case is encoded here.
func encodedWords(s string) string {
	if e := mime.QEncoding.Encode("utf-8", s); e != s || !strings.Contains(s, "=?") {
		return e
	}
	return qWords(s)
}

// qWords is mime.QEncoding.Encode("utf-8", s) for an ASCII s, encoding it even when it is
// printable: Q-encoded words of at most 75 characters (RFC 2047), separated by spaces.
func qWords(s string) string {
	const open, end, maxWord = "=?utf-8?q?", "?=", 75
	var b strings.Builder
	b.Grow(3*len(s) + len(open) + len(end))
	b.WriteString(open)
	n := len(open) + len(end) // the current word's length once closed
	for i := 0; i < len(s); i++ {
		c := s[i]
		w := 3 // "=XX"
		if c == ' ' || c > ' ' && c <= '~' && c != '=' && c != '?' && c != '_' {
			w = 1
		}
		if n+w > maxWord {
			b.WriteString(end + " " + open)
			n = len(open) + len(end)
		}
		switch {
		case c == ' ':
			b.WriteByte('_')
		case w == 1:
			b.WriteByte(c)
		default:
			const hex = "0123456789ABCDEF"
			b.WriteByte('=')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0x0f])
		}
		n += w
	}
	b.WriteString(end)
	return b.String()
}

// plainHeader reports whether s can be sent as it is: printable ASCII or tabs only (no line
// break to replace, nothing for mime.QEncoding to encode) and no "=?", which would start an
// encoded word.
func plainHeader(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' || c > '~') && c != '\t' || c == '=' && i+1 < len(s) && s[i+1] == '?' {
			return false
		}
	}
	return true
}
