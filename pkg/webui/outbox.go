package webui

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// OutboxPageSize is how many of the newest emails the outbox list parses and shows.
const OutboxPageSize = 100

// maxEmailBytes bounds what one email read may show; hookline's own emails are far smaller.
const maxEmailBytes = 1 << 20

type emailView struct {
	ID       string // the event id, which is also the file name
	Subject  string
	From, To string
	Date     time.Time
	Source   string // X-Hookline-Source
	Type     string // X-Hookline-Type
	Hookline [][2]string
	Body     string
	Trunc    bool // the body did not decode to the end (damaged, or cut at maxEmailBytes)
}

type outboxView struct {
	Emails []emailView
	Total  int // emails in the outbox
	Dir    string
}

// outboxList is GET /ui/outbox: the newest emails first.
func (u *UI) outboxList(w http.ResponseWriter, r *http.Request) {
	ids, err := u.outboxIDs()
	if err != nil {
		u.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	v := outboxView{Total: len(ids), Dir: u.outbox}
	for _, id := range ids[:min(len(ids), OutboxPageSize)] {
		m, err := u.readEmail(id)
		if err != nil {
			// One unreadable file must not hide the others; it is named in the log.
			u.log.Warn("webui: unreadable email", "id", id, "err", err)
			m = emailView{ID: id, Subject: "(unreadable)"}
		}
		v.Emails = append(v.Emails, m)
	}
	u.render(w, r, http.StatusOK, "outbox", page{Title: "Outbox", Nav: "outbox", Refresh: RefreshSeconds, Data: &v})
}

// email is GET /ui/outbox/{id}: one email's headers and text.
func (u *UI) email(w http.ResponseWriter, r *http.Request) {
	id, ok := u.emailID(w, r)
	if !ok {
		return
	}
	m, err := u.readEmail(id)
	if err != nil {
		u.failEmail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "email", page{Title: m.Subject, Nav: "outbox", Data: &m})
}

// rawEmail is GET /ui/outbox/{id}/raw: the email itself, as an .eml download a mail client opens.
func (u *UI) rawEmail(w http.ResponseWriter, r *http.Request) {
	id, ok := u.emailID(w, r)
	if !ok {
		return
	}
	raw, err := u.emails.Email(id)
	if err != nil {
		u.failEmail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`.eml"`)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := w.Write(raw[:min(len(raw), maxEmailBytes)]); err != nil {
		u.log.Warn("webui: send raw email", "id", id, "err", err)
	}
}

// emailID accepts only event ids, so a path can never name anything outside the outbox.
func (u *UI) emailID(w http.ResponseWriter, r *http.Request) (string, bool) {
	return u.pathID(w, r, "Emails are named by event id (a UUID); this is not one.")
}

func (u *UI) failEmail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		u.fail(w, r, http.StatusNotFound, "No email for this event is in the outbox (yet, or it went out over SMTP).", nil)
		return
	}
	u.fail(w, r, http.StatusInternalServerError, "", err)
}

// outboxIDs lists the event ids with an email in the outbox, newest first. A missing outbox
// is an empty one: nothing has been sent yet.
func (u *UI) outboxIDs() ([]string, error) {
	ids, err := u.emails.IDs()
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	slices.Reverse(ids)
	return ids, nil
}

var headerDecoder = mime.WordDecoder{}

// readEmail parses the outbox's email for id; id must have passed event.ValidID.
func (u *UI) readEmail(id string) (emailView, error) {
	raw, err := u.emails.Email(id)
	if err != nil {
		return emailView{}, err
	}
	return parseEmail(id, bytes.NewReader(raw[:min(len(raw), maxEmailBytes)]))
}

func parseEmail(id string, r io.Reader) (emailView, error) {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return emailView{}, fmt.Errorf("parse email %s: %w", id, err)
	}
	h := msg.Header
	dec := func(k string) string {
		v := h.Get(k)
		if d, err := headerDecoder.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	m := emailView{
		ID: id, Subject: dec("Subject"), From: dec("From"), To: dec("To"),
		Source: dec("X-Hookline-Source"), Type: dec("X-Hookline-Type"),
	}
	m.Date, _ = h.Date() // a missing or odd date just shows blank
	for k := range h {
		if strings.HasPrefix(k, "X-Hookline-") {
			m.Hookline = append(m.Hookline, [2]string{k, dec(k)})
		}
	}
	slices.SortFunc(m.Hookline, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })

	var body io.Reader = msg.Body
	if strings.EqualFold(strings.TrimSpace(h.Get("Content-Transfer-Encoding")), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		// A damaged encoding still shows what decoded; the page says it was cut.
		m.Trunc = true
	}
	m.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
	return m, nil
}
