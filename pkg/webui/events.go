package webui

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/render"
)

// PageSize is how many events the list shows per page.
const PageSize = 50

// sinceChoices are the time windows offered by the filter form; the values are what
// pipeline.ParseQuery reads, so the same URL works against GET /events.
var sinceChoices = []choice{{"15m", "last 15 minutes"}, {"1h", "last hour"}, {"24h", "last 24 hours"}, {"168h", "last 7 days"}, {"", "all time"}}

type choice struct{ Value, Label string }

type filterView struct {
	Source, Type, Since string
	// Until and Limit have no field of their own in the form: given in the URL (as GET /events
	// takes them), the form and the page links carry them on.
	Until, Limit string
	SinceChoices []choice
	Active       bool // any filter set: offer "clear"
}

type eventsView struct {
	Filter filterView
	Rows   []rowView
	listNav
}

// listNav is what a filtered list page (events, rejected) has besides its filter and rows;
// templates/parts.html shows it.
type listNav struct {
	NextURL  string // "" on the last page
	FirstURL string // set when this is not the first page
	Error    string // a bad filter, shown above the (empty) table
	Noun     string // what the rows are: "no older <Noun>" on the last page
	Path     string // the list's own URL, unfiltered: the "clear" link
}

// paged sets the links of a page read from cursor whose next page starts at next; link is
// the list's URL for a cursor ("" = the first page).
func (n *listNav) paged(link func(cursor string) string, cursor, next string) {
	if next != "" {
		n.NextURL = link(next)
	}
	if cursor != "" {
		n.FirstURL = link("")
	}
}

// renderList renders the list page name: 200, or 400 with the filter error above the form
// (kept on screen so the person can correct the filter) when err is a bad filter, or the
// failure page for any other error.
func (u *UI) renderList(w http.ResponseWriter, r *http.Request, name string, p page, nav *listNav, err error) {
	switch {
	case err == nil:
		u.render(w, r, http.StatusOK, name, p)
	case pipeline.KindOf(err) == pipeline.KindInvalid:
		nav.Error = pipeline.DetailOf(err)
		u.render(w, r, http.StatusBadRequest, name, p)
	default:
		u.failQuery(w, r, err)
	}
}

// sinceOptions is choices for the since select, with a hand-written ?since= (an RFC 3339
// time, "2h") first, so the form re-submits what the page shows.
func sinceOptions(choices []choice, since string) []choice {
	for _, c := range choices {
		if c.Value == since {
			return choices
		}
	}
	return append([]choice{{since, "since " + since}}, choices...)
}

// filterURL is path with the non-empty params as its query.
func filterURL(path string, params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

type rowView struct {
	ID, Source, Type, Status string
	SourceURL, TypeURL       string // the list filtered to this row's source / type
	ReceivedAt               time.Time
	StoredAfter              string // stored_at − received_at
	NotifiedAfter            string // notified_at − received_at; "" until notified
}

// events is GET /: the newest events, filtered like GET /events.
func (u *UI) events(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	f := filterView{Source: params.Get("source"), Type: params.Get("type"), Since: params.Get("since"), Until: params.Get("until"), Limit: params.Get("limit")}
	f.Active = f.Source != "" || f.Type != "" || f.Since != "" || f.Until != "" || f.Limit != ""
	f.SinceChoices = sinceOptions(sinceChoices, f.Since)
	v := eventsView{Filter: f, listNav: listNav{Noun: "events", Path: "/"}}
	p := page{Title: "Events", Nav: "events", Refresh: RefreshSeconds, Data: &v}

	// The same parameters as GET /events, refused the same way: a repeated or misspelt one
	// would otherwise be taken first-wins or ignored, and the page would answer another list.
	err := pipeline.CheckRawQuery(r.URL.RawQuery)
	var q pipeline.Query
	if err == nil {
		q, err = pipeline.ParseQuery(params.Get, u.now())
	}
	if err == nil {
		if q.Limit == 0 { // ?limit= is taken within GET /events' bounds, checked by ParseQuery
			q.Limit = PageSize
		}
		var pg pipeline.Page
		if pg, err = u.history.List(r.Context(), q); err == nil {
			v.Rows = rows(pg.Records)
			v.paged(func(c string) string { return listURL(f, c) }, q.Cursor, pg.Cursor)
		}
	}
	u.renderList(w, r, "events", p, &v.listNav, err)
}

func listURL(f filterView, cursor string) string {
	return filterURL("/", map[string]string{"source": f.Source, "type": f.Type, "since": f.Since, "until": f.Until, "limit": f.Limit, "cursor": cursor})
}

func rows(recs []*event.Record) []rowView {
	out := make([]rowView, 0, len(recs))
	for _, rec := range recs {
		e := rec.Event
		out = append(out, rowView{
			ID: e.ID, Source: e.Source, Type: e.Type, Status: rec.Status(),
			SourceURL:     listURL(filterView{Source: e.Source}, ""),
			TypeURL:       listURL(filterView{Source: e.Source, Type: e.Type}, ""),
			ReceivedAt:    e.ReceivedAt,
			StoredAfter:   delay(e.ReceivedAt, rec.StoredAt),
			NotifiedAfter: delay(e.ReceivedAt, rec.NotifiedAt),
		})
	}
	return out
}

type eventView struct {
	Rec     *event.Record
	E       *event.Event
	Status  string
	Data    dataView
	Email   bool   // its email is in the outbox
	APIURL  string // the same event as JSON
	TypeURL string
}

// dataView is the payload made readable: Kind is "json", "text", "binary" or "none".
type dataView struct {
	Kind      string
	Text      string // indented JSON, the text, or a hex dump of the first bytes
	Size      int    // bytes received
	Shown     int    // bytes in the hex dump of a binary body
	Truncated bool   // the hex dump shows only the first HexPreviewBytes
}

// HexPreviewBytes is how much of a binary body the event page dumps.
const HexPreviewBytes = 512

// event is GET /ui/events/{id}.
func (u *UI) event(w http.ResponseWriter, r *http.Request) {
	rec, id, ok := lookup(u, w, r, u.history.Get, "Event ids are UUIDs; this is not one.", "")
	if !ok {
		return
	}
	e := rec.Event
	v := eventView{
		Rec: rec, E: e, Status: rec.Status(), Data: readable(e),
		Email:   u.hasEmail(id),
		APIURL:  "/events/" + id,
		TypeURL: listURL(filterView{Source: e.Source, Type: e.Type}, ""),
	}
	// Keep reloading until the email has gone out; after that the page no longer changes.
	refresh := RefreshSeconds
	if !rec.NotifiedAt.IsZero() && v.Email {
		refresh = 0
	}
	u.render(w, r, http.StatusOK, "event", page{Title: "Event " + id, Nav: "events", Refresh: refresh, Data: &v})
}

func (u *UI) hasEmail(id string) bool {
	_, err := u.emails.Email(id)
	return err == nil
}

// readable is pkg/render's reading of the data, with binary data as a hex dump of its start.
func readable(e *event.Event) dataView {
	d := render.Of(e)
	if d.Kind != render.Binary {
		return dataView{Kind: string(d.Kind), Text: d.Text, Size: d.Size}
	}
	n := min(d.Size, HexPreviewBytes)
	return dataView{Kind: string(d.Kind), Text: hex.Dump(d.Bytes[:n]), Shown: n, Size: d.Size, Truncated: n < d.Size}
}
