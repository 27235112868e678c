// Package mailertest is the contract every pipeline.Mailer adapter passes (the mbox outbox, the
// SMTP mailer against a relay on 127.0.0.1, snsbus.Mailer on the wire against a fake SNS), in the
// manner of net/http/httptest: each adapter's tests call Run with a way to build a fresh harness.
package mailertest

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"hookline/internal/testctx"
	"hookline/pkg/pipeline"
)

// Mail is an email as it reached its destination.
type Mail struct {
	Subject, Text string
	Source, Type  string // where the medium carries them: headers, message attributes
}

// Harness is one adapter under test, over a fresh, empty destination.
type Harness struct {
	Mailer pipeline.Mailer
	// Delivered returns what reached the destination so far.
	Delivered func(t *testing.T) []Mail
	// Broken sends to a destination that cannot take mail (unreachable, not writable, missing).
	Broken pipeline.Mailer
}

// Run runs the contract against the harnesses newHarness builds, a fresh one per subtest.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("EmailArrivesAsSent", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		// Several lines, one longer than a mail line may be, non-ASCII text and characters
		// that mean something in quoted-printable: the text must arrive as written.
		m := email("intdash", "measurement.finished", "[hookline] measurement.finished from intdash",
			"Event 0193a1b2 from intdash has been processed.\n\nData:\n{\n  \"resource_type\": \"measurement\",\n  \"note\": \"Grüße ✓ = 100% "+
				strings.Repeat("long ", 30)+"\"\n}")
		if err := h.Mailer.Send(testctx.New(t), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		got := h.Delivered(t)
		if len(got) != 1 {
			t.Fatalf("%d emails delivered, want 1", len(got))
		}
		want := Mail{Subject: m.Subject, Text: m.Text, Source: m.Source, Type: m.Type}
		if g := normalize(got[0]); g != want {
			t.Errorf("delivered\n%+v\nwant\n%+v", g, want)
		}
	})
	t.Run("SenderTextArrivesLiteral", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		// Senders choose the type: an RFC 2047 encoded word in it must arrive as the characters
		// it is, not as the text it decodes to ("Invoice paid"), which a reader and a mail
		// filter would take for ours. The same for the source.
		m := email("x=?utf-8?q?github?=", "=?utf-8?b?SW52b2ljZSBwYWlk?=", "[hookline] a push", "x")
		if got, want := sendOne(t, h, m), (Mail{Subject: m.Subject, Text: m.Text, Source: m.Source, Type: m.Type}); got != want {
			t.Errorf("delivered\n%+v\nwant\n%+v", got, want)
		}
	})
	t.Run("LineBreaksArriveOnce", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		// A line break of the text, "\r\n", "\n" or a lone "\r", arrives as one line break.
		m := email("github", "push", "[hookline] push from github", "crlf\r\ncr\rlf\n\r\nafter a blank line\r\r\nafter another\r=\nend")
		got, want := sendOne(t, h, m), normalize(Mail{Subject: m.Subject, Text: m.Text, Source: m.Source, Type: m.Type})
		if want.Text != "crlf\ncr\nlf\n\nafter a blank line\n\nafter another\n=\nend" {
			t.Fatalf("normalize gives %q", want.Text)
		}
		if got != want {
			t.Errorf("delivered\n%+v\nwant\n%+v", got, want)
		}
	})
	t.Run("OneEmailPerEvent", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		var subjects []string
		for _, typ := range []string{"push", "pull_request", "release"} {
			m := email("github", typ, "[hookline] "+typ+" from github", "Event from github, type "+typ+".")
			if err := h.Mailer.Send(testctx.New(t), m); err != nil {
				t.Fatalf("Send %s: %v", typ, err)
			}
			subjects = append(subjects, m.Subject)
		}
		var got []string
		for _, d := range h.Delivered(t) {
			got = append(got, d.Subject)
		}
		slices.Sort(got)
		slices.Sort(subjects)
		if !slices.Equal(got, subjects) {
			t.Errorf("delivered subjects %q, want %q", got, subjects)
		}
	})
	t.Run("FailureIsAnError", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		// The notifier marks an event notified only after Send returned nil.
		if err := h.Broken.Send(testctx.New(t), email("github", "push", "[hookline] push from github", "x")); err == nil {
			t.Fatal("Send to a broken destination returned nil")
		}
	})
}

// sendOne sends m and returns it as delivered, normalized.
func sendOne(t *testing.T, h Harness, m pipeline.Email) Mail {
	t.Helper()
	if err := h.Mailer.Send(testctx.New(t), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := h.Delivered(t)
	if len(got) != 1 {
		t.Fatalf("%d emails delivered, want 1", len(got))
	}
	return normalize(got[0])
}

// ParseMessage reads an RFC 5322 message as pkg/email writes it — what the outbox's records
// hold and what an SMTP relay receives — back into a Mail.
func ParseMessage(t *testing.T, raw []byte) Mail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an email: %v", err)
	}
	var dec mime.WordDecoder
	header := func(k string) string {
		v, err := dec.DecodeHeader(msg.Header.Get(k))
		if err != nil {
			t.Fatalf("header %s: %v", k, err)
		}
		return v
	}
	body := msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return Mail{Subject: header("Subject"), Text: string(text), Source: header("X-Hookline-Source"), Type: header("X-Hookline-Type")}
}

// normalize undoes what mail transport does to text: CRLF line ends and a final line end.
// Line breaks of every kind ("\r\n", "\n", "\r") become "\n": a medium that carries the text
// as it is (SNS) and one that sends each break as CRLF (an email) deliver the same lines.
func normalize(m Mail) Mail {
	m.Text = strings.TrimRight(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(m.Text), "\n")
	return m
}

var seq atomic.Int64 // distinct event ids across parallel subtests

func email(source, typ, subject, text string) pipeline.Email {
	id := fmt.Sprintf("0193a1b2-0000-7000-8000-%012d", seq.Add(1))
	return pipeline.Email{EventID: id, Source: source, Type: typ, Subject: subject, Text: text}
}
