package lambdaio

import (
	"bytes"
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
	// Blobs reads bodies stored by reference (the claim check); nil shows only the reference.
	Blobs pipeline.BlobReader
	// MaxResponse bounds an answer's encoded size; 0 means pipeline.LambdaPayloadBytes, which
	// Lambda enforces on a function's response. A body too large to answer inline is given as
	// a link (data_url) when Blobs can make one.
	MaxResponse int
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
		body, err = h.list(ctx, req.RawQueryString, req.QueryStringParameters)
	}
	status := http.StatusOK
	var resp events.APIGatewayV2HTTPResponse
	if err != nil {
		resp = ProblemResponse(err, req.RawPath)
		status = resp.StatusCode
	} else {
		b, merr := marshalView(body)
		if merr == nil && one && h.tooLarge(b) {
			// The answer (escaped once more in Lambda's response JSON) would not fit: give the
			// data as a link instead.
			v := body.(historyapi.EventView)
			b, merr = h.withoutData(ctx, v)
		}
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
	if r.Event.DataRef != "" && h.Blobs != nil {
		resolved, err := pipeline.ResolveData(ctx, h.Blobs, r.Event)
		if err != nil {
			return historyapi.EventView{}, err
		}
		v := historyapi.View(&event.Record{Event: resolved, StoredAt: r.StoredAt, NotifiedAt: r.NotifiedAt}, true)
		v.DataRef = r.Event.DataRef
		return v, nil
	}
	return historyapi.View(r, true), nil
}

// marshalView encodes an answer without HTML escaping, so data comes back as the bytes that
// were sent (JSON data is only ever compacted, as in the envelope).
func marshalView(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// tooLarge reports whether b, as the body string of a Lambda response, exceeds the limit.
func (h *HistoryHandler) tooLarge(b []byte) bool {
	limit := h.MaxResponse
	if limit <= 0 {
		limit = pipeline.LambdaPayloadBytes
	}
	// Room for the response's own JSON (status, headers); every quote and backslash of the body
	// is escaped once more, control characters are already escaped.
	n := len(b) + 1024
	for _, c := range b {
		if c == '"' || c == '\\' {
			n++
		}
	}
	return n > limit
}

// withoutData re-encodes v without its data, with a link to the body where the blob store
// makes one.
func (h *HistoryHandler) withoutData(ctx context.Context, v historyapi.EventView) ([]byte, error) {
	v.Data, v.DataBase64 = nil, ""
	if l, ok := h.Blobs.(pipeline.BlobLinker); ok && v.DataRef != "" {
		url, err := l.Link(ctx, v.DataRef)
		if err != nil {
			return nil, err
		}
		v.DataURL = url
	}
	return marshalView(v)
}

func (h *HistoryHandler) list(ctx context.Context, rawQuery string, params map[string]string) (historyapi.ListView, error) {
	if err := pipeline.CheckRawQuery(rawQuery); err != nil {
		return historyapi.ListView{}, err
	}
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
