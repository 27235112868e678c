package email_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hookline/internal/testenv"
	"hookline/pkg/email"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

var at = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func record(t *testing.T, typ, ct, body string) *event.Record {
	t.Helper()
	e := &event.Event{ID: event.DeliveryID("intdash", typ), Source: "intdash", Type: typ, Time: at, ReceivedAt: at}
	if err := e.SetData(ct, []byte(body)); err != nil {
		t.Fatal(err)
	}
	return &event.Record{Event: e, StoredAt: at.Add(time.Second)}
}

func TestSubject(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 150)
	tests := map[string]string{
		"[hookline] push from github":    "[hookline] push from github",
		"line\r\nbreak\ttab":             "line break tab",
		"émoji 🎉 type":                   "?moji ? type",
		"\x00\x07":                       "hookline event",
		" \t\r\n lead\x01 \x02 trail \n": "lead trail",
		long:                             long[:96] + "...",
		// An encoded word would be shown decoded ("Invoice paid"); "= ?" is shown as it is.
		"[hookline] =?utf-8?b?SW52b2ljZSBwYWlk?= from x": "[hookline] = ?utf-8?b?SW52b2ljZSBwYWlk?= from x",
		"=?=?":    "= ?= ?",
		"a =?\n?": "a = ? ?",
		// The limit: 99 characters stay whole, 100 are cut to 96 and "...".
		long[:99]:  long[:99],
		long[:100]: long[:96] + "...",
	}
	for in, want := range tests {
		got := email.Subject(in)
		if got != want || len(got) >= 100 {
			t.Errorf("Subject(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestComposeDefault(t *testing.T) {
	t.Parallel()
	c, err := email.NewComposer("", 64)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Compose(record(t, "measurement.finished", "application/json", `{"resource_type":"measurement","action":"finished","measurement_uuid":"`+strings.Repeat("u", 80)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"A measurement.finished event from intdash has been processed.", "Event id:     " + m.EventID, "Received at:  2026-11-23 10:00:00.000 UTC", `"resource_type": "measurement"`, "(first 64 of"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Text)
		}
	}
	if m.Subject != "[hookline] measurement.finished from intdash" || m.Type != "measurement.finished" || m.Source != "intdash" {
		t.Errorf("email = %+v", m)
	}
	bin, err := c.Compose(record(t, "blob", "application/octet-stream", "\xff\x00"))
	if err != nil || !strings.Contains(bin.Text, "(2 bytes of binary data, not shown)") {
		t.Errorf("binary: %v\n%s", err, bin.Text)
	}
	txt, _ := c.Compose(record(t, "unknown", "text/plain", "A new message has been published"))
	if !strings.Contains(txt.Text, "\nA new message has been published\n") {
		t.Errorf("text body not shown as text:\n%s", txt.Text)
	}
}

func TestComposeCustomTemplates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("measurement.tmpl", `{{define "subject"}}Measurement {{.Type}}{{end}}{{define "body"}}uuid data: {{.Data}}{{end}}`)
	c, err := email.NewComposer(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := c.Compose(record(t, "measurement.finished", "application/json", `{"a":1}`))
	if m.Subject != "Measurement measurement.finished" || !strings.HasPrefix(m.Text, "uuid data: {") {
		t.Errorf("prefix template not used: %+v", m)
	}
	other, _ := c.Compose(record(t, "push", "application/json", `{}`))
	if !strings.HasPrefix(other.Subject, "[hookline] push") {
		t.Errorf("default not used for other types: %q", other.Subject)
	}
	// A default.tmpl in the directory replaces the built-in one for every other type.
	write("default.tmpl", `{{define "subject"}}Own {{.Type}}{{end}}{{define "body"}}own body{{end}}`)
	c, err = email.NewComposer(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if own, _ := c.Compose(record(t, "push", "application/json", `{}`)); own.Subject != "Own push" || own.Text != "own body" {
		t.Errorf("the directory's default.tmpl not used: %+v", own)
	}
	// Broken templates fail at start-up, naming the file.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "x.tmpl"), []byte(`{{define "subject"}}x{{end}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := email.NewComposer(bad, 0); err == nil || !strings.Contains(err.Error(), `x.tmpl: no {{define "body"}}`) {
		t.Errorf("missing body block: err = %v", err)
	}
	if _, err := email.NewComposer(filepath.Join(dir, "nope"), 0); err == nil {
		t.Error("missing templates dir: want an error")
	}
}

// TestComposeTemplateFileNames: a type's template file is the type with every character that
// has no place in a file name as '_'; '-', '_', ASCII letters and digits stay (each range
// checked at both ends).
func TestComposeTemplateFileNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"invoice-paid", "orders_create", "Zone_09", "A-z"} {
		text := `{{define "subject"}}` + name + `{{end}}{{define "body"}}b{{end}}`
		if err := os.WriteFile(filepath.Join(dir, name+".tmpl"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := email.NewComposer(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	for typ, want := range map[string]string{
		"invoice-paid": "invoice-paid", "orders/create": "orders_create", "orders create": "orders_create",
		"orders_create": "orders_create", "Zone_09": "Zone_09", "Zone 09": "Zone_09", "A-z": "A-z",
		"invoice_paid": "[hookline] invoice_paid", // '-' is not '_'
	} {
		m, err := c.Compose(record(t, typ, "application/json", `{}`))
		if err != nil || !strings.HasPrefix(m.Subject, want) {
			t.Errorf("type %q: subject %q (%v), want the %q template", typ, m.Subject, err, want)
		}
	}
}

func TestOutboxAppendsOneEmailPerEvent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, _ := email.NewComposer("", 0)
	m, err := c.Compose(record(t, "user.registered", "application/json", `{"event":"user.registered","name":"Zoë"}`))
	if err != nil {
		t.Fatal(err)
	}
	o := &email.Outbox{Dir: dir, Sync: true, Now: func() time.Time { return at }}
	for range 2 {
		if err := o.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 || filepath.Base(files[0]) != email.MboxFile {
		t.Fatalf("files = %v, want only %s", files, email.MboxFile)
	}
	// Another process's view (a fresh Outbox reads the file): one email, a second send wrote nothing.
	reader := &email.Outbox{Dir: dir}
	if ids, err := reader.IDs(); err != nil || len(ids) != 1 || ids[0] != m.EventID {
		t.Fatalf("IDs() = %v, %v; want only %s", ids, err, m.EventID)
	}
	raw, err := reader.Email(m.EventID)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v", err)
	}
	if msg.Header.Get("X-Hookline-Event-Id") != m.EventID || msg.Header.Get("Subject") != m.Subject || msg.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Errorf("headers = %v", msg.Header)
	}
	if _, err := mail.ParseDate(msg.Header.Get("Date")); err != nil {
		t.Errorf("Date: %v", err)
	}
	if _, err := reader.Email(event.DeliveryID("intdash", "other")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Email of an event without one: %v, want fs.ErrNotExist", err)
	}
	if err := o.Send(context.Background(), pipeline.Email{EventID: "../escape"}); err == nil {
		t.Error("an id with a path in it must be refused")
	}
}

// A crash mid-append leaves part of a record; its Send never returned, so the event was not
// marked and the email is sent again after the restart: whole, once.
func TestOutboxCutsAHalfWrittenEmail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, _ := email.NewComposer("", 0)
	first, _ := c.Compose(record(t, "first", "text/plain", "one"))
	second, _ := c.Compose(record(t, "second", "text/plain", "two"))
	o := &email.Outbox{Dir: dir, Now: func() time.Time { return at }}
	for _, m := range []pipeline.Email{first, second} {
		if err := o.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, email.MboxFile)
	full, _ := os.ReadFile(path)
	for cut := len(full) - 1; cut > len(full)-200; cut -= 37 { // anywhere inside the second record
		if err := os.WriteFile(path, full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if ids, _ := (&email.Outbox{Dir: dir}).IDs(); len(ids) != 1 || ids[0] != first.EventID {
			t.Fatalf("cut at %d: a reader sees %v, want only the whole first email", cut, ids)
		}
		restarted := &email.Outbox{Dir: dir, Now: func() time.Time { return at }}
		if err := restarted.Send(context.Background(), second); err != nil {
			t.Fatal(err)
		}
		if again, _ := os.ReadFile(path); !bytes.Equal(again, full) {
			t.Fatalf("cut at %d: after the resend the outbox is %d bytes, want the %d of both emails whole", cut, len(again), len(full))
		}
	}
}

// mboxrd quoting: a body line that starts with "From " (or ">From ") is quoted in the file,
// so mail clients do not split the email there, and comes back unchanged.
func TestOutboxQuotesFromLines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	text := "From here on\n>From there\nFrom: not a header\nfine\n"
	m := pipeline.Email{EventID: event.DeliveryID("s", "from"), Source: "s", Type: "t", Subject: "s", Text: text}
	o := &email.Outbox{Dir: dir, Now: func() time.Time { return at }}
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(filepath.Join(dir, email.MboxFile))
	if n := bytes.Count(file, []byte("\nFrom ")); n != 0 {
		t.Errorf("%d unquoted \"From \" lines inside the record:\n%s", n, file)
	}
	raw, err := (&email.Outbox{Dir: dir}).Email(m.EventID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := email.Message(m, email.DefaultFrom, email.DefaultTo, at)
	if !bytes.Equal(raw, want) {
		t.Errorf("read back:\n%q\nwant\n%q", raw, want)
	}
}

// TestSMTPAgainstMaildev sends through a real SMTP server (npm maildev, pinned in .tools) and
// reads the message back from its REST API.
func TestSMTPAgainstMaildev(t *testing.T) {
	t.Parallel()
	node, cli := testenv.Locate(t, "maildev/dist/bin/maildev.js")
	smtpPort, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	webPort, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := testenv.Peer(node, cli, "--ip", "127.0.0.1", "--web-ip", "127.0.0.1",
		"--smtp", strconv.Itoa(smtpPort), "--web", strconv.Itoa(webPort), "--silent")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	api := fmt.Sprintf("http://127.0.0.1:%d/api/email", webPort)
	waitFor(t, 60*time.Second, func() bool {
		resp, err := http.Get(api)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, func() string { return "maildev did not start: " + out.String() })

	c, _ := email.NewComposer("", 0)
	m, _ := c.Compose(record(t, "measurement.finished", "application/json", `{"resource_type":"measurement","action":"finished"}`))
	s := &email.SMTP{Addr: fmt.Sprintf("127.0.0.1:%d", smtpPort), To: "ops <ops@example.test>", Timeout: 10 * time.Second}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("send: %v\n%s", err, out.String())
	}
	var got []struct {
		Subject string
		Text    string
		Headers map[string]any
		To      []struct{ Address string }
	}
	waitFor(t, 60*time.Second, func() bool {
		resp, err := http.Get(api)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return json.Unmarshal(b, &got) == nil && len(got) == 1
	}, func() string { return "maildev never listed the email" })
	if got[0].Subject != m.Subject || !strings.Contains(got[0].Text, "has been processed") || got[0].To[0].Address != "ops@example.test" {
		t.Errorf("maildev got subject %q to %v text:\n%s", got[0].Subject, got[0].To, got[0].Text)
	}
	if got[0].Headers["x-hookline-event-id"] != m.EventID {
		t.Errorf("x-hookline-event-id header = %v, want %s", got[0].Headers["x-hookline-event-id"], m.EventID)
	}
	// A server that is not there is an error, not a hang.
	dead := &email.SMTP{Addr: "127.0.0.1:1", Timeout: 2 * time.Second}
	if err := dead.Send(context.Background(), m); err == nil {
		t.Error("send to a closed port succeeded")
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestComposeDigest(t *testing.T) {
	t.Parallel()
	c, err := email.NewComposer("", 0)
	if err != nil {
		t.Fatal(err)
	}
	due := time.Date(2026, 12, 1, 12, 5, 0, 0, time.UTC)
	var rs []*event.Record
	for i := range 3 {
		at := due.Add(-time.Duration(i+1) * 10 * time.Second)
		rs = append(rs, &event.Record{Event: &event.Event{ID: fmt.Sprintf("id-%d", i), Source: "github", Type: "push", ReceivedAt: at, Time: at}})
	}
	m, err := c.ComposeDigest("github", due, time.Minute, rs)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "[hookline] 3 events from github (12:04-12:05 UTC)" || m.Type != "hookline.digest" || m.Source != "github" {
		t.Errorf("subject %q, type %q, source %q", m.Subject, m.Type, m.Source)
	}
	// Oldest first: id-2 (12:04:30), id-1, id-0 (12:04:50).
	if i2, i0 := strings.Index(m.Text, "id-2"), strings.Index(m.Text, "id-0"); i2 < 0 || i0 < 0 || i2 > i0 {
		t.Errorf("digest text not oldest first:\n%s", m.Text)
	}
	// A digest over the size of an SNS message says how many it left out.
	var many []*event.Record
	for i := range 4000 {
		many = append(many, &event.Record{Event: &event.Event{ID: fmt.Sprintf("0190b4c2-0000-7000-8000-%012d", i), Source: "github", Type: "push", ReceivedAt: due.Add(-time.Second)}})
	}
	big, err := c.ComposeDigest("github", due, time.Minute, many)
	if err != nil {
		t.Fatal(err)
	}
	if len(big.Text) > 201*1024 || !strings.Contains(big.Text, "more (hookline events list --source github") {
		t.Errorf("a 4000-event digest: %d bytes, no 'and N more'", len(big.Text))
	}
}

// TestComposeDataLimit: data of exactly maxData bytes is shown whole, without the "(first N of
// M bytes)" note; one byte more is cut to maxData and noted.
func TestComposeDataLimit(t *testing.T) {
	t.Parallel()
	const max = 40
	c, err := email.NewComposer("", max)
	if err != nil {
		t.Fatal(err)
	}
	fits := strings.Repeat("x", max)
	m, err := c.Compose(record(t, "note", "text/plain", fits))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "Data:\n\n"+fits+"\n") || strings.Contains(m.Text, "(first") {
		t.Errorf("%d bytes of data with a limit of %d: want them whole, no note:\n%s", max, max, m.Text)
	}
	m, err = c.Compose(record(t, "note", "text/plain", fits+"y"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "Data (first 40 of 41 bytes):\n\n"+fits+"\n…") || strings.Contains(m.Text, fits+"y") {
		t.Errorf("%d bytes of data with a limit of %d: want the first %d and the note:\n%s", max+1, max, max, m.Text)
	}
}

// TestComposeDigestLimit: a digest lists events while the text stays within 200 KiB (the
// composer's maxDigestText): lines that end exactly at the limit are all listed with no "more"
// line; one byte over, the last event is left out and counted.
func TestComposeDigestLimit(t *testing.T) {
	t.Parallel()
	const limit = 200 * 1024
	c, err := email.NewComposer("", 0)
	if err != nil {
		t.Fatal(err)
	}
	due := time.Date(2026, 12, 1, 12, 5, 0, 0, time.UTC)
	const n = 3470
	rs := make([]*event.Record, n)
	for i := range rs {
		rs[i] = &event.Record{Event: &event.Event{ID: fmt.Sprintf("0190b4c2-0000-7000-8000-%012d", i), Source: "github", Type: "push", ReceivedAt: due.Add(-time.Second)}}
	}
	line := func(r *event.Record) int { // "  <id>  15:04:05.000  <type>\n"
		return len("  " + r.Event.ID + "  15:04:05.000  " + r.Event.Type + "\n")
	}
	probe, err := c.ComposeDigest("github", due, time.Minute, rs)
	if err != nil {
		t.Fatal(err)
	}
	header := strings.Index(probe.Text, "  "+rs[0].Event.ID+"  ")
	if header <= 0 {
		t.Fatalf("no line for %s:\n%.300s", rs[0].Event.ID, probe.Text)
	}
	used := header
	for _, r := range rs[:n-1] {
		used += line(r)
	}
	last := rs[n-1]
	typeLen := limit - used - line(last) + len(last.Event.Type)
	if typeLen < 1 || typeLen > 200 {
		t.Fatalf("the last event's type would need %d characters: adjust n", typeLen)
	}
	for _, tc := range []struct {
		typeLen int
		more    string // "" when every event is listed
	}{
		{typeLen, ""},
		{typeLen - 1, ""},
		{typeLen + 1, "\n… and 1 more (hookline events list --source github --since 2026-12-01T12:04:00Z --until 2026-12-01T12:05:00Z)\n"},
	} {
		last.Event.Type = strings.Repeat("t", tc.typeLen)
		m, err := c.ComposeDigest("github", due, time.Minute, rs)
		if err != nil {
			t.Fatal(err)
		}
		listed := strings.Contains(m.Text, "  "+last.Event.ID+"  ")
		gotMore := strings.Contains(m.Text, "more (hookline events list")
		if tc.more == "" && (!listed || gotMore) || tc.more != "" && (listed || !strings.Contains(m.Text, tc.more)) {
			t.Errorf("lines ending %d bytes from the limit: last event listed %v, 'more' line %v; want listed %v, %q",
				tc.typeLen-typeLen, listed, gotMore, tc.more == "", tc.more)
		}
	}
}

// TestOutboxEventIDs: the event id is the outbox's key, so it must be 1 to 128 of '-', '_',
// ASCII letters and digits (each range checked at both ends and just outside them).
func TestOutboxEventIDs(t *testing.T) {
	t.Parallel()
	o := &email.Outbox{Dir: t.TempDir(), Now: func() time.Time { return at }}
	send := func(id string) error {
		return o.Send(context.Background(), pipeline.Email{EventID: id, Source: "s", Type: "t", Subject: "s", Text: "x"})
	}
	for _, id := range []string{"a", "z", "A", "Z", "0", "9", "-", "_", "aZ-09_zA", strings.Repeat("k", 128)} {
		if err := send(id); err != nil {
			t.Errorf("id %q refused: %v", id, err)
		} else if _, err := o.Email(id); err != nil {
			t.Errorf("id %q: sent but not found: %v", id, err)
		}
	}
	for _, id := range []string{"", strings.Repeat("k", 129), "`", "{", "@", "[", "/", ":", ".", " ", "é", "a.b"} {
		if err := send(id); err == nil {
			t.Errorf("id %q accepted", id)
		}
	}
}

// TestOutboxReadsTheIDHeaderOnly: records the outbox did not write (another tool appended to
// the file) are indexed by their X-Hookline-Event-Id header when they have one, wherever it is
// among the headers; the same text in a body does not count, so such a record is listed as "?"
// and no event id finds it.
func TestOutboxReadsTheIDHeaderOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	foreign := "From someone@example Tue Dec  1 10:00:00 2026\n" +
		"From: a@example\r\nX-Hookline-Event-Id: last-header\r\n\r\nhello\r\n\n" +
		"From someone@example Tue Dec  1 10:00:01 2026\n" +
		"From: a@example\r\nSubject: quoted\r\n\r\nforwarded:\r\nX-Hookline-Event-Id: in-body\r\n\n"
	if err := os.WriteFile(filepath.Join(dir, email.MboxFile), []byte(foreign), 0o600); err != nil {
		t.Fatal(err)
	}
	o := &email.Outbox{Dir: dir, Now: func() time.Time { return at }}
	if err := o.Send(context.Background(), pipeline.Email{EventID: "ours", Source: "s", Type: "t", Subject: "s", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	ids, err := (&email.Outbox{Dir: dir}).IDs()
	if err != nil || strings.Join(ids, " ") != "last-header ? ours" {
		t.Errorf("IDs() = %q, %v; want [last-header ? ours]", ids, err)
	}
	if raw, err := o.Email("last-header"); err != nil || !bytes.HasSuffix(raw, []byte("\r\n\r\nhello\r\n")) {
		t.Errorf("Email(last-header) = %q, %v", raw, err)
	}
	if _, err := o.Email("in-body"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Email(in-body) = %v, want fs.ErrNotExist: a body line is not a header", err)
	}
}
