package email

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/render"
	"hookline/pkg/wiring"
)

//go:embed templates/default.tmpl
var builtin embed.FS

// Defaults for Composer.
const (
	MaxSubjectLen     = 99 // SNS: subjects must be under 100 characters
	defaultTemplate   = "default"
	templateExtension = ".tmpl"
)

// Composer renders emails from templates. Build it once with NewComposer.
type Composer struct {
	byName  map[string]*template.Template // file name without extension → template
	builtin *template.Template            // templates/default.tmpl as embedded: rendered by builtinEmail
	maxData int
}

var _ pipeline.Composer = (*Composer)(nil)

// NewComposer loads the built-in default and, when dir is not empty, every *.tmpl in dir
// (which may replace the default). A template that does not parse, or lacks "subject" or
// "body", is an error now rather than at the first event.
func NewComposer(dir string, maxData int) (*Composer, error) {
	if maxData <= 0 {
		maxData = wiring.DefaultEmailMaxData
	}
	c := &Composer{byName: map[string]*template.Template{}, maxData: maxData}
	b, err := builtin.ReadFile("templates/default.tmpl")
	if err != nil {
		return nil, fmt.Errorf("read built-in template: %w", err)
	}
	if err := c.add("default.tmpl", b); err != nil {
		return nil, err
	}
	c.builtin = c.byName[defaultTemplate] // a default.tmpl in dir replaces it in byName
	if dir == "" {
		return c, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"+templateExtension))
	if err != nil {
		return nil, fmt.Errorf("email templates %s: %w", dir, err)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("email templates: %w", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("email template: %w", err)
		}
		if err := c.add(filepath.Base(f), b); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Composer) add(file string, text []byte) error {
	name := strings.TrimSuffix(file, templateExtension)
	t, err := template.New(name).Option("missingkey=error").Parse(string(text))
	if err != nil {
		return fmt.Errorf("email template %s: %w", file, err)
	}
	for _, part := range []string{"subject", "body"} {
		if t.Lookup(part) == nil {
			return fmt.Errorf(`email template %s: no {{define %q}} block`, file, part)
		}
	}
	c.byName[name] = t
	return nil
}

// View is what templates see.
type View struct {
	ID, Source, Type, DeliveryID, Version, ContentType string
	Time, ReceivedAt, StoredAt                         time.Time
	Data                                               string // pretty JSON, text, or a note about binary data
	Size, Shown                                        int    // body bytes in the event, bytes shown
	Truncated                                          bool
}

// Compose renders r's email with the most specific template for its type.
func (c *Composer) Compose(r *event.Record) (pipeline.Email, error) {
	e := r.Event
	v := View{
		ID: e.ID, Source: e.Source, Type: e.Type, DeliveryID: e.DeliveryID, Version: e.DataVersion,
		ContentType: e.DataContentType, Time: e.Time.UTC(), ReceivedAt: e.ReceivedAt.UTC(), StoredAt: r.StoredAt.UTC(),
	}
	v.Data, v.Size, v.Shown = renderData(e, c.maxData)
	v.Truncated = v.Shown < v.Size
	t := c.lookup(e.Type)
	if t == c.builtin {
		subj, body := builtinEmail(&v)
		return pipeline.Email{EventID: e.ID, Source: e.Source, Type: e.Type, Subject: Subject(subj), Text: strings.TrimLeft(body, "\n")}, nil
	}
	var subj, body strings.Builder
	body.Grow(len(v.Data) + 1024) // the data and the template's text around it, in one allocation
	if err := t.ExecuteTemplate(&subj, "subject", v); err != nil {
		return pipeline.Email{}, fmt.Errorf("subject template %s: %w", t.Name(), err)
	}
	if err := t.ExecuteTemplate(&body, "body", v); err != nil {
		return pipeline.Email{}, fmt.Errorf("body template %s: %w", t.Name(), err)
	}
	return pipeline.Email{
		EventID: e.ID, Source: e.Source, Type: e.Type,
		Subject: Subject(subj.String()),
		Text:    strings.TrimLeft(body.String(), "\n"),
	}, nil
}

// builtinEmail renders templates/default.tmpl's subject and body for v, byte for byte as
// text/template does (FuzzBuiltinEmail holds it to the template). Every email of a pipeline
// without custom templates is rendered here; the template's reflection cost more than the rest
// of composing (text/template ~2.5 % of the local pipeline's CPU flat out).
func builtinEmail(v *View) (subject, body string) {
	var b strings.Builder
	b.Grow(builtinSize(v))
	line := func(label, value string) {
		b.WriteString("\n  ")
		b.WriteString(label)
		b.WriteString(value)
	}
	b.WriteString("A ")
	b.WriteString(v.Type)
	b.WriteString(" event from ")
	b.WriteString(v.Source)
	b.WriteString(" has been processed.\n")
	line("Event id:     ", v.ID)
	line("Source:       ", v.Source)
	line("Type:         ", v.Type)
	if v.DeliveryID != "" {
		line("Delivery id:  ", v.DeliveryID)
	}
	if v.Version != "" {
		line("Version:      ", v.Version)
	}
	var stamp [64]byte
	for _, t := range [...]struct {
		label string
		at    time.Time
	}{{"Sent at:      ", v.Time}, {"Received at:  ", v.ReceivedAt}, {"Stored at:    ", v.StoredAt}} {
		line(t.label, "")
		b.Write(t.at.AppendFormat(stamp[:0], "2006-01-02 15:04:05.000 MST"))
	}
	if v.ContentType != "" {
		line("Content type: ", v.ContentType)
	}
	b.WriteString("\n\n")
	if v.Data == "" {
		b.WriteString("The event carried no data.\n")
		return "[hookline] " + v.Type + " from " + v.Source, b.String()
	}
	b.WriteString("Data")
	if v.Truncated {
		b.WriteString(" (first ")
		b.WriteString(strconv.Itoa(v.Shown))
		b.WriteString(" of ")
		b.WriteString(strconv.Itoa(v.Size))
		b.WriteString(" bytes)")
	}
	b.WriteString(":\n\n")
	b.WriteString(v.Data)
	b.WriteString("\n")
	return "[hookline] " + v.Type + " from " + v.Source, b.String()
}

// builtinFixed is the most builtinEmail writes besides v's strings: the sentence (35 bytes),
// nine "\n  label" lines (17 each), three UTC time stamps (27 each), the blank line, and
// "Data (first n of m bytes):\n\n" with two numbers of up to 20 bytes and the last "\n" (67).
const builtinFixed = 35 + 9*17 + 3*27 + 2 + 67

// builtinSize is room for builtinEmail's body in one allocation, without the ~1 KB to spare
// that `len(v.Data) + 1024` left in every email (its times are UTC, as Compose makes them;
// another zone's longer name only costs a second allocation).
func builtinSize(v *View) int {
	return builtinFixed + len(v.Data) + 2*len(v.Type) + 2*len(v.Source) + len(v.ID) + len(v.DeliveryID) + len(v.Version) + len(v.ContentType)
}

func (c *Composer) lookup(typ string) *template.Template {
	name := fileName(typ)
	for name != "" {
		if t, ok := c.byName[name]; ok {
			return t
		}
		i := strings.LastIndexByte(name, '.')
		if i < 0 {
			break
		}
		name = name[:i]
	}
	return c.byName[defaultTemplate]
}

// fileName maps an event type to the template file name it would use: characters that have no
// place in a file name become '_'.
func fileName(typ string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, typ)
}

// Subject makes s a valid SNS email subject: printable ASCII, one line, under 100 characters.
// Other characters become '?', runs of white space one space. A sender's type or source could
// hold an RFC 2047 encoded word ("=?utf-8?b?...?="), which mail clients would show decoded, as
// any text the sender likes: every "=?" becomes "= ?", which no client decodes.
func Subject(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if !space { // a leading one goes with TrimSpace below
				b.WriteByte(' ')
			}
			space = true
			continue
		case r < 0x20 || r == 0x7f:
			continue
		case r >= utf8.RuneSelf:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
		space = false
	}
	out := strings.TrimSpace(strings.ReplaceAll(b.String(), "=?", "= ?"))
	if len(out) > MaxSubjectLen {
		out = strings.TrimSpace(out[:MaxSubjectLen-3]) + "..."
	}
	if out == "" {
		out = "hookline event"
	}
	return out
}

// renderData is pkg/render's reading of the data, cut to max bytes; binary data is only
// described.
func renderData(e *event.Event, max int) (text string, size, shown int) {
	if e.DataRef != "" {
		// Too large for the bus, so far too large for an email: say where it is.
		return fmt.Sprintf("(the body was too large to travel with the event; it is stored at %s:\n GET /events/%s or `hookline events get %s` returns it)", e.DataRef, e.ID, e.ID), 0, 0
	}
	d := render.Of(e)
	switch d.Kind {
	case render.None:
		return "", 0, 0
	case render.Binary:
		return fmt.Sprintf("(%d bytes of binary data, not shown)", d.Size), d.Size, 0
	}
	out, cut := render.Cut(d.Text, max)
	if cut {
		return out + "\n…", len(d.Text), len(out)
	}
	return out, len(out), len(out)
}
