package lambdaio

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/event"
	"hookline/pkg/historyapi"
	"hookline/pkg/pipeline"
)

// HistoryHandler serves GET /events and GET /events/{id}.
type HistoryHandler struct {
	History pipeline.History
	Log     *slog.Logger
	Now     func() time.Time // nil means time.Now
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
	attrs := []slog.Attr{slog.String("event_id", id), slog.String("path", req.RawPath), slog.Int("status", status), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		if status >= 500 {
			level = slog.LevelError
		}
	}
	h.Log.LogAttrs(ctx, level, "history", attrs...)
	return resp, nil
}

func (h *HistoryHandler) get(ctx context.Context, id string) (historyapi.EventView, error) {
	if !event.ValidID(id) {
		return historyapi.EventView{}, pipeline.Errorf(pipeline.KindNotFound, "no event with id %q: event ids are lower-case UUIDs", id)
	}
	r, err := h.History.Get(ctx, id)
	if err != nil {
		if pipeline.IsNotFound(err) {
			return historyapi.EventView{}, pipeline.Errorf(pipeline.KindNotFound, "no event with id %q", id)
		}
		return historyapi.EventView{}, err
	}
	return historyapi.View(r, true), nil
}

func (h *HistoryHandler) list(ctx context.Context, params map[string]string) (historyapi.ListView, error) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	q, err := pipeline.ParseQuery(func(k string) string { return params[k] }, now())
	if err != nil {
		return historyapi.ListView{}, err
	}
	page, err := h.History.List(ctx, q)
	if err != nil {
		return historyapi.ListView{}, err
	}
	out := historyapi.ListView{Events: make([]historyapi.EventView, 0, len(page.Records)), NextCursor: page.Cursor}
	for _, r := range page.Records {
		out.Events = append(out.Events, historyapi.View(r, false))
	}
	return out, nil
}
