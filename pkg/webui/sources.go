package webui

import (
	"net/http"

	"hookline/pkg/pipeline"
	"hookline/pkg/rotation"
)

type sourcesView struct {
	Since        string
	SinceChoices []choice
	Rows         []rotation.Row
	Error        string
}

// sourcesPage is GET /ui/sources: rotation tracking, the table `hookline sources` prints.
func (u *UI) sourcesPage(w http.ResponseWriter, r *http.Request) {
	since := r.URL.Query().Get("since")
	if since == "" {
		since = "168h"
	}
	v := sourcesView{Since: since, SinceChoices: sinceOptions(sinceChoices[:len(sinceChoices)-1], since)} // no "all time"
	p := page{Title: "Sources", Nav: "sources", Data: &v}
	from, err := pipeline.ParseTimeBound("since", since, u.now())
	if err != nil {
		v.Error = pipeline.DetailOf(err)
		u.render(w, r, http.StatusBadRequest, "sources", p)
		return
	}
	var used []rotation.KeyUse
	if u.usage != nil {
		if used, err = u.usage.KeyUsage(r.Context(), from); err != nil {
			u.fail(w, r, http.StatusInternalServerError, "", err)
			return
		}
	}
	if v.Rows, err = rotation.Table(r.Context(), u.sources, used); err != nil {
		u.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	u.render(w, r, http.StatusOK, "sources", p)
}
