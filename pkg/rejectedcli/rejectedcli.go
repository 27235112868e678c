// Package rejectedcli is `hookline rejected`: it lists and shows the quarantine (refused
// webhook requests, pipeline.RejectedStore) for people (aligned tables, a detail view) and
// scripts (one JSON object per line, the View shape), and reports readmits.
package rejectedcli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"hookline/pkg/listing"
	"hookline/pkg/pipeline"
	"hookline/pkg/render"
)

// View is a kept rejection as `hookline rejected list|get --json` prints it. Headers hold
// "[redacted]" for every value that may carry a secret or a signature.
type View struct {
	ID            string            `json:"id"`
	Source        string            `json:"source"`
	Reason        string            `json:"reason"`
	Detail        string            `json:"detail"`
	ReceivedAt    time.Time         `json:"received_at"`
	SourceIP      string            `json:"source_ip,omitempty"`
	Path          string            `json:"path"`
	Headers       map[string]string `json:"headers"`
	BodySize      int               `json:"body_size"`
	BodyTruncated bool              `json:"body_truncated,omitempty"`
	// Body is the kept body as text when it is UTF-8, else BodyBase64 holds it (get only).
	Body         string     `json:"body,omitempty"`
	BodyBase64   []byte     `json:"body_base64,omitempty"`
	ReadmittedAt *time.Time `json:"readmitted_at,omitempty"`
	EventID      string     `json:"event_id,omitempty"`
}

// ViewOf is r's View; withBody adds the body.
func ViewOf(r *pipeline.Rejection, withBody bool) View {
	v := View{ID: r.ID, Source: r.Source, Reason: r.Reason, Detail: r.Detail, ReceivedAt: r.ReceivedAt.UTC(),
		SourceIP: r.SourceIP, Path: r.RawPath, Headers: r.Header, BodySize: r.BodySize, BodyTruncated: r.Truncated(), EventID: r.EventID}
	if r.RawQuery != "" {
		v.Path += "?" + r.RawQuery
	}
	if !r.ReadmittedAt.IsZero() {
		t := r.ReadmittedAt.UTC()
		v.ReadmittedAt = &t
	}
	if withBody {
		if utf8.Valid(r.Body) {
			v.Body = string(r.Body)
		} else {
			v.BodyBase64 = r.Body
		}
	}
	return v
}

// Walk calls fn for up to limit rejections matching q, newest first (pipeline.WalkRejections).
func Walk(ctx context.Context, s pipeline.RejectedStore, q pipeline.RejectedQuery, limit int, fn func(*pipeline.Rejection) error) error {
	return pipeline.WalkRejections(ctx, s, q, limit, fn)
}

const stamp = "2006-01-02T15:04:05.000Z07:00"

// List writes up to limit rejections matching q: a table, or with asJSON one View per line.
func List(ctx context.Context, w io.Writer, s pipeline.RejectedStore, q pipeline.RejectedQuery, limit int, asJSON bool) error {
	return rejectionTable.Write(w, asJSON, func(fn func(*pipeline.Rejection) error) error { return Walk(ctx, s, q, limit, fn) })
}

var rejectionTable = listing.Table[*pipeline.Rejection]{
	Header: []string{"ID", "RECEIVED", "SOURCE", "REASON", "CALLER", "BYTES", "READMITTED AS"},
	Row: func(r *pipeline.Rejection) []string {
		return []string{r.ID, r.ReceivedAt.UTC().Format(stamp), sourceCell(r.Source), r.Reason, dash(r.SourceIP), strconv.Itoa(r.BodySize), dash(r.EventID)}
	},
	Empty: "no rejected requests match (they are kept 7 days)",
	JSON:  func(r *pipeline.Rejection) any { return ViewOf(r, false) },
}

// Get writes one rejection in full; asJSON writes its View with the body.
func Get(ctx context.Context, w io.Writer, s pipeline.RejectedStore, id string, asJSON bool) error {
	r, err := s.Get(ctx, id)
	if pipeline.IsNotFound(err) {
		return fmt.Errorf("no kept rejection with id %q (they are kept 7 days)", id)
	}
	if err != nil {
		return err
	}
	v := ViewOf(r, true)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// Everything a caller sent is shown through render.Terminal: refused requests are unsigned.
	line := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, render.Terminal(v, false)) }
	line("id", v.ID)
	line("source", v.Source)
	line("reason", v.Reason)
	line("answer", v.Detail)
	line("received", v.ReceivedAt.Format(time.RFC3339Nano))
	line("caller", dash(v.SourceIP))
	line("path", v.Path)
	if v.ReadmittedAt != nil {
		line("readmitted", v.ReadmittedAt.Format(time.RFC3339Nano)+" as event "+v.EventID)
	} else {
		line("readmitted", "no: hookline rejected readmit "+v.ID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nheaders (signature and authorization values redacted):")
	names := make([]string, 0, len(v.Headers))
	for n := range v.Headers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %s: %s\n", render.Terminal(n, false), render.Terminal(v.Headers[n], false))
	}
	body, label := v.Body, "body"
	if v.BodyBase64 != nil {
		body, label = base64.StdEncoding.EncodeToString(v.BodyBase64), "body (base64)"
	}
	cut := ""
	if v.BodyTruncated {
		cut = fmt.Sprintf(", cut at %d of %d bytes: it cannot be readmitted", len(r.Body), v.BodySize)
	}
	_, err = fmt.Fprintf(w, "\n%s (%d bytes%s):\n%s\n", label, v.BodySize, cut, render.Terminal(body, true))
	return err
}

// PrintReadmission reports one readmit: published as an event, already readmitted, or still
// refused (err, whose client-safe detail says why).
func PrintReadmission(w io.Writer, res pipeline.Readmission, err error, id string) {
	switch {
	case err != nil:
		detail := pipeline.DetailOf(err)
		if detail == "" {
			detail = err.Error()
		}
		fmt.Fprintf(w, "%s  still refused: %s\n", id, detail)
	case res.Already:
		fmt.Fprintf(w, "%s  already readmitted as event %s; nothing published\n", id, res.EventID)
	default:
		fmt.Fprintf(w, "%s  readmitted: published as event %s\n", id, res.EventID)
	}
}

// sourceCell is a rejection's source name as the table shows it. A name nobody configured comes
// from the caller's URL, any length: past the longest valid name (64 bytes) it is cut, so one
// request cannot widen the column of every row; get and --json show it whole.
func sourceCell(s string) string {
	const longest = 64
	if cut, ok := render.Cut(s, longest); ok {
		return cut + "…"
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
