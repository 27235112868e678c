package webui

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hookline/pkg/email"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/problem"
	"hookline/pkg/rotation"
)

// RefreshSeconds is how often the event and outbox lists reload themselves.
const RefreshSeconds = 2

// ContentSecurityPolicy allows nothing but this origin's own files: the pages have no inline
// script, so even a payload that escaped html/template could not run.
const ContentSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one template set per page, each the layout and the shared parts plus that page's
// "content", because html/template cannot redefine "content" within one set. The files are
// embedded, so a parse error is a build defect that the package tests catch.
var pages = parsePages("events", "event", "outbox", "email", "rejected", "rejection", "sources", "error")

func parsePages(names ...string) map[string]*template.Template {
	funcs := template.FuncMap{"ts": formatTime, "tsSec": formatSeconds, "ago": ago, "delay": delay}
	m := make(map[string]*template.Template, len(names))
	for _, n := range names {
		m[n] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+n+".html"))
	}
	return m
}

// UI serves the web view. Build it with New.
type UI struct {
	history pipeline.History
	outbox  string        // its directory, shown to people
	emails  *email.Outbox // read only here
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux

	rejected pipeline.RejectedStore // nil: no Rejected pages (WithRejected)

	usage   rotation.Usage   // nil: the sources page says there is nothing to show
	sources rotation.Sources // nil: only secrets that verified something are listed
}

var _ http.Handler = (*UI)(nil)

// New returns the web view over history, showing the emails of the outbox in outboxDir (which
// may not exist yet: no email has been written). log may be nil.
func New(history pipeline.History, outboxDir string, log *slog.Logger) *UI {
	if log == nil {
		log = slog.Default()
	}
	u := &UI{history: history, outbox: outboxDir, emails: &email.Outbox{Dir: outboxDir}, log: log, now: time.Now, mux: http.NewServeMux()}
	static, _ := fs.Sub(staticFS, "static") // cannot fail: "static" is embedded above
	u.mux.HandleFunc("GET /{$}", u.events)
	u.mux.HandleFunc("GET /ui", redirect("/"))
	u.mux.HandleFunc("GET /ui/{$}", redirect("/"))
	u.mux.HandleFunc("GET /ui/events/{id}", u.event)
	u.mux.HandleFunc("GET /ui/outbox", u.outboxList)
	u.mux.HandleFunc("GET /ui/outbox/{$}", redirect("/ui/outbox"))
	u.mux.HandleFunc("GET /ui/outbox/{id}", u.email)
	u.mux.HandleFunc("GET /ui/sources", u.sourcesPage)
	u.mux.HandleFunc("GET /ui/outbox/{id}/raw", u.rawEmail)
	u.mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	u.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		u.fail(w, r, http.StatusNotFound, "There is no page at this address.", nil)
	})
	return u
}

// WithRotation adds the sources page: per source and secret, how many stored events it verified
// (usage) — with set, every configured secret, unused ones too. It returns u.
func (u *UI) WithRotation(usage rotation.Usage, set rotation.Sources) *UI {
	u.usage, u.sources = usage, set
	return u
}

// ServeHTTP sets the security headers every answer carries and routes the request.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// The view only reads; say so the way the API does, with Allow.
		h.Set("Allow", "GET, HEAD")
		u.fail(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed here; the web view only reads (GET).", nil)
		return
	}
	u.mux.ServeHTTP(w, r)
}

// IsUIPath reports whether r belongs to the web view rather than the API: a GET (or HEAD) of /
// and anything under /ui/. Every other request, POST / included, keeps the API's answers.
func IsUIPath(r *http.Request) bool {
	p := r.URL.Path
	if p == "/" {
		return r.Method == http.MethodGet || r.Method == http.MethodHead
	}
	return p == "/ui" || strings.HasPrefix(p, "/ui/")
}

// Mount returns a handler that sends web view requests (see IsUIPath) to ui and everything
// else to api.
func Mount(ui, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsUIPath(r) {
			ui.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// page is what the layout renders around a page's content.
type page struct {
	Title   string
	Nav     string // "events" or "outbox": the highlighted tab
	Refresh int    // seconds between reloads; 0 = a page that does not change
	Now     time.Time
	Data    any
}

// render executes into a buffer first, so a template failure becomes a clean error page
// rather than half a page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Now = u.now()
	var buf bytes.Buffer
	if err := pages[name].Execute(&buf, p); err != nil {
		u.log.Error("webui: render", "page", name, "path", r.URL.Path, "err", err)
		if name != "error" {
			u.fail(w, r, http.StatusInternalServerError, "", err)
			return
		}
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

type errorView struct {
	Status  int
	Title   string
	Message string
}

// fail shows an error page. message must be safe to show; for a server-side failure pass ""
// and the cause in err, which goes to the log only.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, status int, message string, err error) {
	if status >= 500 {
		u.log.Error("webui: request failed", "path", r.URL.Path, "status", status, "err", err)
		if message == "" {
			message = "Something went wrong on the server; its log has the details."
		}
	}
	u.render(w, r, status, "error", page{Title: http.StatusText(status), Data: errorView{Status: status, Title: http.StatusText(status), Message: message}})
}

// failQuery shows a history error as a page with the status pkg/problem gives it (the one
// table the API answers from too): the client's mistakes (a bad filter or cursor) show their
// detail, anything else is logged and shown in words for people.
func (u *UI) failQuery(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, pipeline.ErrNotFound) {
		err = &pipeline.Error{Kind: pipeline.KindNotFound, Err: err}
	}
	p := problem.For(err, r.URL.Path)
	if p.RetryAfter != "" {
		w.Header().Set("Retry-After", p.RetryAfter)
	}
	message := p.Detail
	switch p.Status {
	case http.StatusNotFound:
		message = "There is no event with this id."
	case http.StatusServiceUnavailable:
		message = "The history cannot be read right now; try again shortly."
	case http.StatusInternalServerError:
		message = "" // fail's generic words
	}
	u.fail(w, r, p.Status, message, err)
}

// pathID is the request's {id} when it is a UUID, as every event, email and rejection id is;
// otherwise it answers 404 with notOne and reports false.
func (u *UI) pathID(w http.ResponseWriter, r *http.Request, notOne string) (string, bool) {
	id := r.PathValue("id")
	if !event.ValidID(id) {
		u.fail(w, r, http.StatusNotFound, notOne, nil)
		return "", false
	}
	return id, true
}

// lookup reads what the request's {id} names with get. On an id that is not a UUID (notOne), a
// missing one (notFound; "" leaves the words to failQuery) or a failed read it answers the
// request itself and reports false.
func lookup[T any](u *UI, w http.ResponseWriter, r *http.Request, get func(context.Context, string) (T, error), notOne, notFound string) (T, string, bool) {
	var zero T
	id, ok := u.pathID(w, r, notOne)
	if !ok {
		return zero, "", false
	}
	v, err := get(r.Context(), id)
	switch {
	case err == nil:
		return v, id, true
	case notFound != "" && pipeline.IsNotFound(err):
		u.fail(w, r, http.StatusNotFound, notFound, nil)
	default:
		u.failQuery(w, r, err)
	}
	return zero, "", false
}

func redirect(to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
}

// formatTime shows a time in the server's zone: `hookline local` runs on the reader's machine.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05.000 MST")
}

// formatSeconds is formatTime for times that only have seconds, like an email's Date.
func formatSeconds(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// ago is a coarse age ("3s ago", "5m ago") for scanning a list.
func ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case t.IsZero():
		return ""
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s ago"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h ago"
	default:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d ago"
	}
}

// delay is how long after from the stage at to happened, short: "12ms", "1.4s".
func delay(from, to time.Time) string {
	if from.IsZero() || to.IsZero() {
		return ""
	}
	d := to.Sub(from)
	switch {
	case d < 0:
		return "0ms"
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}
