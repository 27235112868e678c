package lambdaio

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// HistoryHandler serves GET /events and GET /events/{id}.
type HistoryHandler struct {
	History pipeline.History
	Log     *slog.Logger
	Now     func() time.Time // nil means time.Now
}

// EventView is the JSON shape of one event in the history API and the CLI's --json output.
type EventView struct {
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Status          string          `json:"status"`
	Time            time.Time       `json:"time"`
	ReceivedAt      time.Time       `json:"received_at"`
	StoredAt        time.Time       `json:"stored_at"`
	NotifiedAt      *time.Time      `json:"notified_at"`
	DeliveryID      string          `json:"delivery_id,omitempty"`
	DataVersion     string          `json:"dataversion,omitempty"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
	DataBase64      string          `json:"data_base64,omitempty"`
}

// ListView is the JSON shape of a page of events.
type ListView struct {
	Events     []EventView `json:"events"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// View renders r; withData includes the payload (the list leaves it out to stay small).
func View(r *event.Record, withData bool) EventView {
	e := r.Event
	v := EventView{
		ID: e.ID, Source: e.Source, Type: e.Type, Status: r.Status(),
		Time: e.Time.UTC(), ReceivedAt: e.ReceivedAt.UTC(), StoredAt: r.StoredAt.UTC(),
		DeliveryID: e.DeliveryID, DataVersion: e.DataVersion, DataContentType: e.DataContentType,
	}
	if !r.NotifiedAt.IsZero() {
		t := r.NotifiedAt.UTC()
		v.NotifiedAt = &t
	}
	if withData {
		v.Data = e.Data
		if e.DataBase64 != nil {
			v.DataBase64 = base64.StdEncoding.EncodeToString(e.DataBase64)
		}
	}
	return v
}

// Handle is the Lambda handler.
func (h *HistoryHandler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := time.Now()
	method := req.RequestContext.HTTP.Method
	id, one := req.PathParameters["id"]
	var (
		body any
		err  error
	)
	switch {
	case method != http.MethodGet && method != http.MethodHead:
		return MethodNotAllowed(method, req.RawPath, http.MethodGet), nil
	case one:
		body, err = h.get(ctx, id)
	default:
		body, err = h.list(ctx, req.QueryStringParameters)
	}
	status := http.StatusOK
	var resp events.APIGatewayV2HTTPResponse
	if err != nil {
		resp = ProblemResponse(err, req.RawPath)
		status = resp.StatusCode
	} else {
		b, merr := json.Marshal(body)
		if merr != nil {
			err = merr
			resp = ProblemResponse(merr, req.RawPath)
			status = resp.StatusCode
		} else {
			resp = events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
		}
	}
	level := slog.LevelInfo
	attrs := []slog.Attr{slog.String("event_id", id), slog.String("path", req.RawPath), slog.Int("status", status), slog.Duration("duration", time.Since(start))}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		if status >= 500 {
			level = slog.LevelError
		}
	}
	h.Log.LogAttrs(ctx, level, "history", attrs...)
	return resp, nil
}

func (h *HistoryHandler) get(ctx context.Context, id string) (EventView, error) {
	if !event.ValidID(id) {
		return EventView{}, pipeline.Errorf(pipeline.KindNotFound, "no event with id %q: event ids are lower-case UUIDs", id)
	}
	r, err := h.History.Get(ctx, id)
	if err != nil {
		if pipeline.IsNotFound(err) {
			return EventView{}, pipeline.Errorf(pipeline.KindNotFound, "no event with id %q", id)
		}
		return EventView{}, err
	}
	return View(r, true), nil
}

func (h *HistoryHandler) list(ctx context.Context, params map[string]string) (ListView, error) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	q, err := pipeline.ParseQuery(func(k string) string { return params[k] }, now())
	if err != nil {
		return ListView{}, err
	}
	page, err := h.History.List(ctx, q)
	if err != nil {
		return ListView{}, err
	}
	out := ListView{Events: make([]EventView, 0, len(page.Records)), NextCursor: page.Cursor}
	for _, r := range page.Records {
		out.Events = append(out.Events, View(r, false))
	}
	return out, nil
}
