// Package historycli is `hookline events`: it reads the event history through the
// pipeline.History port — the local SQLite engine or the DynamoDB table, the same queries
// either way, never a scan — and renders it for people (aligned tables, a detail view) or
// scripts (one JSON object per line, the history API's EventView shape).
package historycli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/historyapi"
	"hookline/pkg/listing"
	"hookline/pkg/pipeline"
	"hookline/pkg/render"
)

// Walk calls fn for up to limit records matching q, newest first (pipeline.WalkEvents).
func Walk(ctx context.Context, h pipeline.History, q pipeline.Query, limit int, fn func(*event.Record) error) error {
	return pipeline.WalkEvents(ctx, h, q, limit, fn)
}

// List writes up to limit events matching q: an aligned table, or with asJSON one EventView
// per line.
func List(ctx context.Context, w io.Writer, h pipeline.History, q pipeline.Query, limit int, asJSON bool) error {
	return eventTable.Write(w, asJSON, func(fn func(*event.Record) error) error { return Walk(ctx, h, q, limit, fn) })
}

var eventTable = listing.Table[*event.Record]{
	Header: []string{"ID", "RECEIVED", "SOURCE", "TYPE", "STATUS", "STORED+", "NOTIFIED+"},
	Row:    func(r *event.Record) []string { c := cells(r); return c[:] },
	Empty:  "no events match",
	JSON:   func(r *event.Record) any { return historyapi.View(r, false) },
}

// receivedLayout is RFC 3339 with milliseconds, in UTC: ordering by eye and across machines.
const receivedLayout = "2006-01-02T15:04:05.000Z07:00"

func cells(r *event.Record) [7]string {
	e := r.Event
	notified := "-"
	if !r.NotifiedAt.IsZero() {
		notified = After(r.NotifiedAt.Sub(e.ReceivedAt))
	}
	return [7]string{e.ID, e.ReceivedAt.UTC().Format(receivedLayout), e.Source, render.Terminal(e.Type, false), r.Status(),
		After(r.StoredAt.Sub(e.ReceivedAt)), notified}
}

// After formats how long after the receipt a stage was reached, in whole milliseconds like
// every duration hookline prints ("+7ms", "+1234ms"), so columns compare at a glance.
func After(d time.Duration) string {
	ms := d.Round(time.Millisecond).Milliseconds()
	if ms < 0 { // clocks of two machines (Lambda) may disagree by a little
		return strconv.FormatInt(ms, 10) + "ms"
	}
	return "+" + strconv.FormatInt(ms, 10) + "ms"
}

// Get writes one event in full: its attributes, its status with times, and its data
// (pretty-printed JSON, text as text, other bytes as base64). asJSON writes the EventView.
func Get(ctx context.Context, w io.Writer, h pipeline.History, id string, asJSON bool) error {
	if !event.ValidID(id) {
		return fmt.Errorf("no event with id %q: event ids are lower-case UUIDs", id)
	}
	r, err := h.Get(ctx, id)
	if pipeline.IsNotFound(err) {
		return fmt.Errorf("no event with id %q", id)
	}
	if err != nil {
		return fmt.Errorf("get event %s: %w", id, err)
	}
	// A body too large for the bus was stored by reference; a local history can read it back.
	if b, ok := h.(interface{ Blobs() pipeline.BlobReader }); ok && r.Event.DataRef != "" {
		e, err := pipeline.ResolveData(ctx, b.Blobs(), r.Event)
		if pipeline.IsNotFound(err) {
			return err // the body expired (ResolveData says so, naming the event)
		}
		if err != nil {
			return fmt.Errorf("get event %s: %w", id, err)
		}
		r = &event.Record{Event: e, StoredAt: r.StoredAt, NotifiedAt: r.NotifiedAt}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(historyapi.View(r, true))
	}
	return writeDetail(w, r)
}

func writeDetail(w io.Writer, r *event.Record) error {
	e := r.Event
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, render.Terminal(v, false))
		}
	}
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	line("id", e.ID)
	line("source", e.Source)
	line("type", e.Type)
	line("status", r.Status())
	line("time", stamp(e.Time))
	line("received", stamp(e.ReceivedAt))
	line("stored", stamp(r.StoredAt)+"  ("+After(r.StoredAt.Sub(e.ReceivedAt))+")")
	if r.NotifiedAt.IsZero() {
		line("notified", "not yet")
	} else {
		line("notified", stamp(r.NotifiedAt)+"  ("+After(r.NotifiedAt.Sub(e.ReceivedAt))+")")
	}
	line("delivery id", e.DeliveryID)
	line("data version", e.DataVersion)
	line("content type", e.DataContentType)
	line("dataref", e.DataRef)
	if v := e.Verification; v.Present() {
		line("verified", verified(v))
		line("body sha256", v.BodySHA256Hex())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	d := render.Of(e)
	var text, label string
	switch d.Kind {
	case render.None:
		_, err := fmt.Fprintln(w, "\n(no data)")
		return err
	case render.Binary:
		text, label = base64.StdEncoding.EncodeToString(d.Bytes), "data (base64)"
	case render.Text:
		text, label = d.Text, "data (text)"
	default:
		text, label = d.Text, "data"
	}
	_, err := fmt.Fprintf(w, "\n%s:\n%s\n", label, render.Terminal(strings.TrimRight(text, "\n"), true))
	return err
}

// verified says how the sender proved itself: "stripe, key 1, skew -412ms, signed id". The key
// is the 0-based index of the secret that matched, as `hookline sources` counts it.
func verified(v event.Verification) string {
	out := fmt.Sprintf("%s, key %d", v.Scheme, v.Key)
	if v.HasSkew {
		out += fmt.Sprintf(", skew %dms", v.SkewMS)
	}
	if v.SignedID {
		return out + ", signed id"
	}
	return out + ", id not signed"
}

// TailOptions configures Tail.
type TailOptions struct {
	Query pipeline.Query // Source and Type filter; Since, if set, starts the tail in the past
	// Interval between polls; 0 means 1 s.
	Interval time.Duration
	// Lag is how far behind the newest event each poll looks again, so events stored (or
	// notified) late — a retried delivery — are still shown. 0 means 2 minutes.
	Lag    time.Duration
	JSON   bool
	Now    func() time.Time // nil means time.Now
	MaxRow int              // rows read per poll at most; 0 means 10,000
}

// Tail follows the history until ctx ends, writing a row (or JSON object) when an event
// appears and again when its status changes, oldest first. It returns nil when ctx ends.
func Tail(ctx context.Context, w io.Writer, h pipeline.History, o TailOptions) error {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	interval := o.Interval
	if interval <= 0 {
		interval = time.Second
	}
	lag := o.Lag
	if lag <= 0 {
		lag = 2 * time.Minute
	}
	maxRows := o.MaxRow
	if maxRows <= 0 {
		maxRows = 10_000
	}
	start := o.Query.Since
	if start.IsZero() {
		start = now()
	}
	newest := start
	shown := map[string]string{} // id → status last shown
	receivedAt := map[string]time.Time{}
	enc := json.NewEncoder(w)
	if !o.JSON {
		if _, err := fmt.Fprintf(w, tailRow, "ID", "RECEIVED", "SOURCE", "TYPE", "STATUS", "STORED+", "NOTIFIED+"); err != nil {
			return err
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		q := o.Query
		q.Since = newest.Add(-lag)
		if q.Since.Before(start) {
			q.Since = start
		}
		var batch []*event.Record
		err := Walk(ctx, h, q, maxRows, func(r *event.Record) error {
			batch = append(batch, r)
			return nil
		})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		slices.Reverse(batch) // oldest first, like a log
		for _, r := range batch {
			id, status := r.Event.ID, r.Status()
			if shown[id] == status {
				continue
			}
			shown[id], receivedAt[id] = status, r.Event.ReceivedAt
			if r.Event.ReceivedAt.After(newest) {
				newest = r.Event.ReceivedAt
			}
			if o.JSON {
				err = enc.Encode(historyapi.View(r, false))
			} else {
				c := cells(r)
				_, err = fmt.Fprintf(w, tailRow, c[0], c[1], c[2], c[3], c[4], c[5], c[6])
			}
			if err != nil {
				return err
			}
		}
		// Forget what the next poll cannot return any more.
		for id, at := range receivedAt {
			if at.Before(q.Since) {
				delete(shown, id)
				delete(receivedAt, id)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// tailRow has fixed widths: rows arrive one by one, so they cannot be aligned afterwards.
const tailRow = "%-36s  %-24s  %-12s  %-22s  %-8s  %-8s  %s\n"
