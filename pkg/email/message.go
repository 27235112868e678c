package email

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"hookline/pkg/pipeline"
)

// Addresses used by the local mailers unless configured.
const (
	DefaultFrom = "hookline <hookline@localhost>"
	DefaultTo   = "ops <ops@localhost>"
)

// Message renders m as an RFC 5322 message: a quoted-printable UTF-8 text body, and the event's
// id, source and type as X-Hookline-* headers so mail rules can filter on them.
func Message(m pipeline.Email, from, to string, date time.Time) ([]byte, error) {
	for _, a := range []string{from, to} {
		if _, err := mail.ParseAddress(a); err != nil {
			return nil, fmt.Errorf("email address %q: %w", a, err)
		}
	}
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from)
	header("To", to)
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", date.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+m.EventID+"@hookline>")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("X-Hookline-Event-Id", headerValue(m.EventID))
	header("X-Hookline-Source", headerValue(m.Source))
	header("X-Hookline-Type", headerValue(m.Type))
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(m.Text, "\n", "\r\n"))); err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	return b.Bytes(), nil
}

// headerValue keeps untrusted values (types come from senders) on one line and in ASCII.
func headerValue(s string) string {
	return mime.QEncoding.Encode("utf-8", strings.NewReplacer("\r", " ", "\n", " ").Replace(s))
}
