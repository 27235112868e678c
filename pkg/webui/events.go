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
	SinceChoices        []choice
	Active              bool // any filter set: offer "clear"
}

type eventsView struct {
	Filter   filterView
	Rows     []rowView
	NextURL  string // "" on the last page
	FirstURL string // set when this is not the first page
	Error    string // a bad filter, shown above the (empty) table
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
	f := filterView{Source: params.Get("source"), Type: params.Get("type"), Since: params.Get("since")}
	f.Active = f.Source != "" || f.Type != "" || f.Since != ""
	f.SinceChoices = sinceChoices
	if !isChoice(f.Since) {
		// A hand-written ?since= (an RFC 3339 time, "2h") stays selectable, so the form
		// re-submits what the page shows.
		f.SinceChoices = append([]choice{{f.Since, "since " + f.Since}}, sinceChoices...)
	}
	v := eventsView{Filter: f}
	p := page{Title: "Events", Nav: "events", Refresh: RefreshSeconds, Data: &v}

	q, err := pipeline.ParseQuery(params.Get, u.now())
	if err == nil {
		q.Limit = PageSize
		var pg pipeline.Page
		if pg, err = u.history.List(r.Context(), q); err == nil {
			v.Rows = rows(pg.Records)
			if pg.Cursor != "" {
				v.NextURL = listURL(f, pg.Cursor)
			}
			if q.Cursor != "" {
				v.FirstURL = listURL(f, "")
			}
			u.render(w, r, http.StatusOK, "events", p)
			return
		}
	}
	if pipeline.KindOf(err) == pipeline.KindInvalid {
		// Keep the form on screen so the person can correct the filter.
		v.Error = pipeline.DetailOf(err)
		u.render(w, r, http.StatusBadRequest, "events", p)
		return
	}
	u.failQuery(w, r, err)
}

func isChoice(s string) bool {
	for _, c := range sinceChoices {
		if c.Value == s {
			return true
		}
	}
	return false
}

func listURL(f filterView, cursor string) string {
	q := url.Values{}
	for k, v := range map[string]string{"source": f.Source, "type": f.Type, "since": f.Since, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return "/"
	}
	return "/?" + q.Encode()
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
	id := r.PathValue("id")
	if !event.ValidID(id) {
		u.fail(w, r, http.StatusNotFound, "Event ids are UUIDs; this is not one.", nil)
		return
	}
	rec, err := u.history.Get(r.Context(), id)
	if err != nil {
		u.failQuery(w, r, err)
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
