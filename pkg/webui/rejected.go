package webui

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"

	"unicode/utf8"

	"hookline/pkg/pipeline"
)

// WithRejected adds the Rejected pages over the quarantine (refused requests, kept 7 days).
// It returns u.
func (u *UI) WithRejected(store pipeline.RejectedStore) *UI {
	u.rejected = store
	u.mux.HandleFunc("GET /ui/rejected", u.rejectedList)
	u.mux.HandleFunc("GET /ui/rejected/{$}", redirect("/ui/rejected"))
	u.mux.HandleFunc("GET /ui/rejected/{id}", u.rejection)
	return u
}

type rejectedFilter struct {
	Source, Reason, Since string
	Reasons               []string
	SinceChoices          []choice
	Active                bool
}

type rejectedListView struct {
	Filter  rejectedFilter
	Rows    []*pipeline.Rejection
	KeptFor string
	listNav
}

// rejectedParams are the query parameters the rejected list takes, each at most once.
var rejectedParams = []string{"source", "reason", "since", "cursor"}

func rejectedURL(f rejectedFilter, cursor string) string {
	return filterURL("/ui/rejected", map[string]string{"source": f.Source, "reason": f.Reason, "since": f.Since, "cursor": cursor})
}

// rejectedList is GET /ui/rejected: the newest refused requests.
func (u *UI) rejectedList(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	f := rejectedFilter{Source: params.Get("source"), Reason: params.Get("reason"), Since: params.Get("since"), Reasons: pipeline.Reasons()}
	f.Active = f.Source != "" || f.Reason != "" || f.Since != ""
	f.SinceChoices = sinceOptions(sinceChoices, f.Since)
	v := rejectedListView{Filter: f, KeptFor: "7 days", listNav: listNav{Noun: "rejections", Path: "/ui/rejected"}}
	p := page{Title: "Rejected", Nav: "rejected", Refresh: RefreshSeconds, Data: &v}
	q := pipeline.RejectedQuery{Source: f.Source, Reason: f.Reason, Cursor: params.Get("cursor"), Limit: PageSize}
	err := pipeline.CheckParams(r.URL.RawQuery, "the rejected list", rejectedParams)
	if err == nil && f.Reason != "" && !slices.Contains(pipeline.Reasons(), f.Reason) {
		err = pipeline.Errorf(pipeline.KindInvalid, "reason: %q is not one of the rejection reasons", f.Reason)
	}
	if err == nil {
		q.Since, err = pipeline.ParseTimeBound("since", f.Since, u.now())
	}
	if err == nil {
		var pg pipeline.RejectedPage
		if pg, err = u.rejected.List(r.Context(), q); err == nil {
			v.Rows = pg.Rejections
			v.paged(func(c string) string { return rejectedURL(f, c) }, q.Cursor, pg.Cursor)
		}
	}
	u.renderList(w, r, "rejected", p, &v.listNav, err)
}

type header struct{ Name, Value string }

type rejectionView struct {
	R         *pipeline.Rejection
	Headers   []header
	Body      dataView
	Truncated bool
	Command   string // the readmit command
}

// rejection is GET /ui/rejected/{id}: one refused request, its headers (secrets redacted) and
// body.
func (u *UI) rejection(w http.ResponseWriter, r *http.Request) {
	rej, id, ok := lookup(u, w, r, u.rejected.Get, "Rejection ids are UUIDs; this is not one.",
		"There is no kept rejection with this id (they are kept 7 days).")
	if !ok {
		return
	}
	v := rejectionView{R: rej, Body: bodyView(rej.Body, rej.Header["content-type"]), Truncated: rej.Truncated(), Command: "hookline rejected readmit " + rej.ID}
	v.Body.Size = rej.BodySize
	for name, val := range rej.Header {
		v.Headers = append(v.Headers, header{name, val})
	}
	slices.SortFunc(v.Headers, func(a, b header) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	u.render(w, r, http.StatusOK, "rejection", page{Title: "Rejected " + id, Nav: "rejected", Data: &v})
}

// bodyView is a kept body made readable like an event's data.
func bodyView(body []byte, contentType string) dataView {
	switch {
	case len(body) == 0:
		return dataView{Kind: "none"}
	case json.Valid(body):
		var buf bytes.Buffer
		if json.Indent(&buf, body, "", "  ") == nil {
			return dataView{Kind: "json", Text: buf.String(), Size: len(body)}
		}
	case utf8.Valid(body):
		return dataView{Kind: "text", Text: string(body), Size: len(body)}
	}
	n := min(len(body), HexPreviewBytes)
	return dataView{Kind: "binary", Text: hex.Dump(body[:n]), Shown: n, Size: len(body), Truncated: n < len(body)}
}
