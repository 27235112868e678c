package webui_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hookline/pkg/email"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/rotation"
	"hookline/pkg/source"
	"hookline/pkg/webui"
)

// fakeUsage is a rotation.Usage that answers the same rows whatever the window.
type fakeUsage []rotation.KeyUse

func (f fakeUsage) KeyUsage(context.Context, time.Time) ([]rotation.KeyUse, error) { return f, nil }

// fakeHistory is an in-memory pipeline.History, newest first, paging by index.
type fakeHistory struct {
	recs []*event.Record
	err  error // returned by every call when set
}

func (f *fakeHistory) Get(_ context.Context, id string) (*event.Record, error) {
	if f.err != nil {
		return nil, f.err
	}
	for _, r := range f.recs {
		if r.Event.ID == id {
			return r, nil
		}
	}
	return nil, fmt.Errorf("get %s: %w", id, pipeline.ErrNotFound)
}

func (f *fakeHistory) List(_ context.Context, q pipeline.Query) (pipeline.Page, error) {
	if f.err != nil {
		return pipeline.Page{}, f.err
	}
	start := 0
	if q.Cursor != "" {
		n, err := strconv.Atoi(q.Cursor)
		if err != nil {
			return pipeline.Page{}, pipeline.Errorf(pipeline.KindInvalid, "cursor: not one this server made")
		}
		start = n
	}
	var match []*event.Record
	for _, r := range f.recs {
		if (q.Source == "" || r.Event.Source == q.Source) && (q.Type == "" || r.Event.Type == q.Type) &&
			(q.Since.IsZero() || !r.Event.ReceivedAt.Before(q.Since)) {
			match = append(match, r)
		}
	}
	if start > len(match) {
		start = len(match)
	}
	end := min(start+q.Limit, len(match))
	p := pipeline.Page{Records: match[start:end]}
	if end < len(match) {
		p.Cursor = strconv.Itoa(end)
	}
	return p, nil
}

// base is now, so the "since" windows the page computes from the clock include the fixtures.
var base = time.Now().UTC()

// rec makes a record received n minutes before base, notified unless notified is false.
func rec(t *testing.T, n int, source, typ, contentType, body string, notified bool) *event.Record {
	t.Helper()
	e := &event.Event{ID: event.BodyID(source, []byte(fmt.Sprint(n, typ, body))), Source: source, Type: typ}
	e.ReceivedAt = base.Add(-time.Duration(n) * time.Minute)
	e.Time = e.ReceivedAt
	if err := e.SetData(contentType, []byte(body)); err != nil {
		t.Fatal(err)
	}
	r, err := event.NewRecord(e, e.ReceivedAt.Add(12*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if notified {
		r.NotifiedAt = e.ReceivedAt.Add(45 * time.Millisecond)
	}
	return r
}

const evil = `<script>alert("owned")</script>`

type fixture struct {
	ui      http.Handler
	hist    *fakeHistory
	outbox  string
	push    *event.Record // github push, notified, with an email
	evil    *event.Record // type and body are script tags
	text    *event.Record
	binary  *event.Record
	pending *event.Record // stored, not yet notified
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{outbox: filepath.Join(t.TempDir(), "outbox")}
	f.push = rec(t, 1, "github", "push", "application/json", `{"ref":"refs/heads/main","commits":[{"id":"abc"}]}`, true)
	f.evil = rec(t, 2, "github", evil, "application/json", `{"note":"`+strings.ReplaceAll(evil, `"`, `\"`)+`"}`, true)
	f.text = rec(t, 3, "postman", "unknown", "text/plain", "A new message has been published", true)
	f.binary = rec(t, 4, "intdash", "blob.uploaded", "application/octet-stream", "\x00\x01\x02binary\xff", true)
	f.pending = rec(t, 5, "stripe", "invoice.paid", "application/json", `{"id":"evt_1"}`, false)
	f.push.Event.Verification = event.Verification{Scheme: "github", Key: 1, BodySHA256: [32]byte{0xfe, 0xed}, SignedID: true}
	f.pending.Event.Verification = event.Verification{Scheme: "stripe", Key: 0, SkewMS: -412, HasSkew: true, BodySHA256: [32]byte{0xab}, SignedID: true}
	f.hist = &fakeHistory{recs: []*event.Record{f.push, f.evil, f.text, f.binary, f.pending}}
	// 60 more old events so the list has a second page.
	for i := range 60 {
		f.hist.recs = append(f.hist.recs, rec(t, 100+i, "github", "ping", "application/json", `{}`, true))
	}
	ob := &email.Outbox{Dir: f.outbox, Now: func() time.Time { return base }}
	for _, r := range []*event.Record{f.push, f.evil} {
		m := pipeline.Email{EventID: r.Event.ID, Source: r.Event.Source, Type: r.Event.Type,
			Subject: "[hookline] " + r.Event.Type + " from " + r.Event.Source,
			Text:    "A " + r.Event.Type + " event from " + r.Event.Source + " has been processed.\n\nEvent id: " + r.Event.ID + "\n"}
		if err := ob.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	set, err := source.Parse([]byte(`{"sources":{"github":{"scheme":"github","secrets":["old-secret-0123456","new-secret-0123456"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	usage := fakeUsage{{Source: "github", Key: 1, Events: 61, Last: f.push.Event.ReceivedAt}, {Source: "stripe", Key: 0, Events: 1, Last: f.pending.Event.ReceivedAt}}
	f.ui = webui.New(f.hist, f.outbox, slog.New(slog.NewTextHandler(io.Discard, nil))).WithRotation(usage, set)
	return f
}

func get(t *testing.T, h http.Handler, method, target string) (*http.Response, string) {
	t.Helper()
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest(method, target, nil))
	resp := rr.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name, method, target string
		status               int
		contentType          string
		want, notWant        []string
	}{
		{name: "events list", target: "/", status: 200, contentType: "text/html",
			want: []string{"<h1>Events</h1>", f.push.Event.ID, ">push<", ">notified<", ">stored<", "stored +12ms", "notified +45ms",
				`name="source"`, `name="type"`, `<option value="1h">`, `rel="next"`, `href="/?cursor=50"`, `data-refresh="2"`},
			notWant: []string{"« newest"}},
		{name: "second page", target: "/?cursor=50", status: 200,
			want: []string{"« newest", "no older events", ">ping<"}, notWant: []string{f.push.Event.ID}},
		{name: "filter by source", target: "/?source=postman", status: 200,
			want: []string{f.text.Event.ID, `value="postman"`, ">clear<"}, notWant: []string{f.push.Event.ID, `rel="next"`}},
		{name: "filter by type and since", target: "/?source=github&type=push&since=15m", status: 200,
			want: []string{f.push.Event.ID, `<option value="15m" selected>`}, notWant: []string{f.pending.Event.ID}},
		{name: "custom since kept in the form", target: "/?since=2026-01-01T00:00:00Z", status: 200,
			want: []string{`<option value="2026-01-01T00:00:00Z" selected>since 2026-01-01T00:00:00Z</option>`}},
		{name: "nothing matches", target: "/?source=nobody", status: 200, want: []string{"No events match these filters"}},
		{name: "bad since keeps the form", target: "/?since=yesterday", status: 400,
			want: []string{`role="alert"`, "since: &#34;yesterday&#34; is neither", `name="source"`}},
		{name: "bad cursor", target: "/?cursor=zzz", status: 400, want: []string{"cursor: not one this server made"}},
		// As GET /events: a repeated or unknown parameter is refused by name, not taken
		// first-wins or ignored.
		{name: "repeated parameter", target: "/?source=github&source=postman", status: 400,
			want: []string{`role="alert"`, "source: given 2 times; it takes one value"}, notWant: []string{f.push.Event.ID, f.text.Event.ID}},
		{name: "unknown parameter", target: "/?sourse=postman", status: 400,
			want: []string{"unknown query parameter &#34;sourse&#34;: the event list takes source, type, since, until, limit, cursor"}, notWant: []string{f.push.Event.ID}},
		{name: "not a source name", target: "/?source=GitHub", status: 400, want: []string{"source: &#34;GitHub&#34; is not a source name"}},
		// ?limit= as GET /events takes it: the page size, carried on by the pager and the form.
		{name: "limit", target: "/?limit=2", status: 200,
			want:    []string{f.push.Event.ID, `href="/?cursor=2&amp;limit=2"`, `<input type="hidden" name="limit" value="2">`, ">clear<"},
			notWant: []string{f.text.Event.ID}},
		{name: "until carried on", target: "/?until=2099-01-01T00:00:00Z", status: 200,
			want: []string{`href="/?cursor=50&amp;until=2099-01-01T00%3A00%3A00Z"`, `<input type="hidden" name="until" value="2099-01-01T00:00:00Z">`}},
		{name: "limit zero", target: "/?limit=0", status: 400, want: []string{`role="alert"`, "limit: &#34;0&#34; is not a whole number from 1 to 1000"}},
		{name: "limit over the maximum", target: "/?limit=1001", status: 400, want: []string{"limit: &#34;1001&#34; is not a whole number from 1 to 1000"}},

		{name: "json event", target: "/ui/events/" + f.push.Event.ID, status: 200,
			want: []string{"JSON, ", "&#34;ref&#34;: &#34;refs/heads/main&#34;,\n  &#34;commits&#34;: [", "view the email", "/events/" + f.push.Event.ID, "+45ms"}},
		{name: "text event", target: "/ui/events/" + f.text.Event.ID, status: 200,
			want: []string{"text, 32 bytes", "<pre class=\"data text\">A new message has been published</pre>", "not in the outbox (sent over SMTP?)"}},
		{name: "binary event", target: "/ui/events/" + f.binary.Event.ID, status: 200,
			want: []string{"binary, 10 bytes", "00000000  00 01 02 62 69 6e 61 72  79 ff"}},
		{name: "pending event refreshes", target: "/ui/events/" + f.pending.Event.ID, status: 200,
			want: []string{"not yet", `data-refresh="2"`, ">stored<"}},
		{name: "finished event is still", target: "/ui/events/" + f.push.Event.ID, status: 200, notWant: []string{"data-refresh"}},
		{name: "unknown event", target: "/ui/events/" + event.BodyID("x", []byte("nope")), status: 404, want: []string{"There is no event with this id."}},
		{name: "not an id", target: "/ui/events/..%2f..%2fetc%2fpasswd", status: 404, want: []string{"not one"}},

		{name: "outbox", target: "/ui/outbox", status: 200,
			want: []string{"2 emails", "[hookline] push from github", "/ui/outbox/" + f.push.Event.ID, `data-refresh="2"`}},
		{name: "email", target: "/ui/outbox/" + f.push.Event.ID, status: 200,
			want: []string{"[hookline] push from github", "X-Hookline-Event-Id", "X-Hookline-Type", "hookline &lt;hookline@localhost&gt;", "A push event from github has been processed.", "download .eml"}},
		{name: "raw email", target: "/ui/outbox/" + f.push.Event.ID + "/raw", status: 200, contentType: "message/rfc822",
			want: []string{"Subject: [hookline] push from github", "X-Hookline-Source: github"}},
		{name: "email not there", target: "/ui/outbox/" + f.text.Event.ID, status: 404, want: []string{"No email for this event"}},
		{name: "email path traversal", target: "/ui/outbox/..%2f..%2fhookline.db", status: 404, want: []string{"not one"}},
		// The mux cleans the path and redirects; nothing is read from disk.
		{name: "email dot-dot", target: "/ui/outbox/../../etc/passwd", status: 307},

		{name: "verification with a signed time", target: "/ui/events/" + f.pending.Event.ID, status: 200,
			want: []string{"<h2>Verification</h2>", "<dd>stripe</dd>", "-412 ms", "ab00000000", "<dd>yes"}},
		{name: "verification without one", target: "/ui/events/" + f.push.Event.ID, status: 200,
			want: []string{"<dd>1 <small>", "the scheme signs no time", "feed0000"}},
		{name: "no evidence", target: "/ui/events/" + f.text.Event.ID, status: 200,
			want: []string{"Stored before hookline kept verification evidence."}},
		{name: "sources", target: "/ui/sources", status: 200,
			want:    []string{"<h1>Sources", `<option value="168h" selected>`, "<td>61</td>", "unused in the window", "not in the config", `href="/?source=github"`},
			notWant: []string{"data-refresh", `value=""`}},
		{name: "sources since", target: "/ui/sources?since=1h", status: 200, want: []string{`<option value="1h" selected>`}},
		{name: "sources bad since", target: "/ui/sources?since=soon", status: 400, want: []string{`role="alert"`, "since: &#34;soon&#34;"}},

		{name: "static css", target: "/ui/static/style.css", status: 200, contentType: "text/css", want: []string{".status.notified"}},
		{name: "static js", target: "/ui/static/refresh.js", status: 200, contentType: "javascript", want: []string{"location.reload()"}},
		{name: "unknown ui page", target: "/ui/nope", status: 404, want: []string{"There is no page at this address."}},
		{name: "post is refused", method: http.MethodPost, target: "/ui/outbox", status: 405, want: []string{"only reads"}},
		{name: "head", method: http.MethodHead, target: "/", status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			resp, body := get(t, f.ui, method, tc.target)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body:\n%s", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); tc.contentType != "" && !strings.Contains(ct, tc.contentType) {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			if got := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(got, "default-src 'self'") {
				t.Errorf("Content-Security-Policy %q", got)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(body, w) {
					t.Errorf("body has %q", w)
				}
			}
			if t.Failed() {
				t.Logf("body:\n%s", body)
			}
		})
	}
}

// Everything a sender controls (type, body, email subject) must reach the page as text.
func TestUntrustedInputIsInert(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, target := range []string{"/", "/ui/events/" + f.evil.Event.ID, "/ui/outbox", "/ui/outbox/" + f.evil.Event.ID} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, f.ui, http.MethodGet, target)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if strings.Contains(body, "<script>alert") {
				t.Errorf("a sender's <script> reached the page unescaped:\n%s", body)
			}
			if !strings.Contains(body, "&lt;script&gt;alert(") {
				t.Errorf("the escaped type is not shown:\n%s", body)
			}
			// The only script on any page is our own file.
			if n := strings.Count(body, "<script"); n > 1 || (n == 1 && !strings.Contains(body, `<script src="/ui/static/refresh.js" defer></script>`)) {
				t.Errorf("unexpected script elements:\n%s", body)
			}
		})
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	t.Parallel()
	secret := "sqlite: disk I/O error at /var/secret/hookline.db"
	tests := []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"internal", errors.New(secret), 500, "Something went wrong on the server"},
		{"unavailable", &pipeline.Error{Kind: pipeline.KindUnavailable, Detail: "db", Err: errors.New(secret)}, 503, "cannot be read right now"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ui := webui.New(&fakeHistory{err: tc.err}, t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			for _, target := range []string{"/", "/ui/events/" + event.BodyID("x", nil)} {
				resp, body := get(t, ui, http.MethodGet, target)
				if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) || strings.Contains(body, "secret") {
					t.Errorf("%s: status %d, body:\n%s", target, resp.StatusCode, body)
				}
				// The web view answers from the API's table (pkg/problem), Retry-After included.
				if want := map[int]string{503: "5"}[tc.status]; resp.Header.Get("Retry-After") != want {
					t.Errorf("%s: Retry-After %q, want %q", target, resp.Header.Get("Retry-After"), want)
				}
			}
		})
	}
}

func TestEmptyOutbox(t *testing.T) {
	t.Parallel()
	ui := webui.New(&fakeHistory{}, filepath.Join(t.TempDir(), "not-yet"), nil)
	resp, body := get(t, ui, http.MethodGet, "/ui/outbox")
	if resp.StatusCode != 200 || !strings.Contains(body, "No emails yet") {
		t.Fatalf("status %d, body:\n%s", resp.StatusCode, body)
	}
	resp, body = get(t, ui, http.MethodGet, "/")
	if resp.StatusCode != 200 || !strings.Contains(body, "No events yet") {
		t.Fatalf("status %d, body:\n%s", resp.StatusCode, body)
	}
}

// A damaged email in the outbox shows as unreadable without hiding the others.
func TestUnreadableEmail(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := event.BodyID("x", []byte("broken"))
	mbox, err := os.OpenFile(filepath.Join(f.outbox, email.MboxFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A whole mbox record whose header section is not RFC 5322.
	_, err = mbox.WriteString("From x Mon Jan  2 15:04:05 2006\n\x01no header here\r\nX-Hookline-Event-Id: " + id + "\r\n\r\ntext\r\n\n")
	if cerr := mbox.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, f.ui, http.MethodGet, "/ui/outbox")
	if !strings.Contains(body, "(unreadable)") || !strings.Contains(body, "[hookline] push from github") {
		t.Errorf("body:\n%s", body)
	}
	resp, body := get(t, f.ui, http.MethodGet, "/ui/outbox/"+id)
	if resp.StatusCode != 500 || strings.Contains(body, "malformed") {
		t.Errorf("status %d, body:\n%s", resp.StatusCode, body)
	}
}

func TestMount(t *testing.T) {
	t.Parallel()
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ui") })
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		_ = json.NewEncoder(w).Encode(map[string]string{"to": "api"})
	})
	h := webui.Mount(ui, api)
	tests := []struct{ method, path, want string }{
		{"GET", "/", "ui"},
		{"HEAD", "/", "ui"},
		{"POST", "/", "api"}, // keeps the API's 404 problem
		{"GET", "/ui", "ui"},
		{"GET", "/ui/outbox", "ui"},
		{"POST", "/ui/events/x", "ui"},
		{"GET", "/events", "api"},
		{"GET", "/events/abc", "api"},
		{"POST", "/webhooks/github", "api"},
		{"GET", "/healthz", "api"},
		{"GET", "/uix", "api"},
		{"GET", "/nope", "api"},
		{"GET", "/favicon.ico", "api"},
	}
	for _, tc := range tests {
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, httptest.NewRequest(tc.method, tc.path, nil))
		got := "ui"
		if strings.Contains(rr.Body.String(), "api") {
			got = "api"
		}
		if got != tc.want {
			t.Errorf("%s %s went to %s, want %s", tc.method, tc.path, got, tc.want)
		}
	}
}
