package lambdaio

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/pipeline"
)

// IngestHandler serves POST /webhooks/{source}: API Gateway routes every method on that path
// here (ANY), so a browser's GET gets a clear 405 problem instead of API Gateway's bare 404.
type IngestHandler struct {
	Service *pipeline.Ingest
	Log     *slog.Logger
	Metrics IngestMetrics // nil records nothing
}

// IngestMetrics receives what ingest observed, for the metrics an operator watches: on AWS
// pkg/metrics' EMF writer (CloudWatch metrics from the function's log), locally
// pkg/localmetrics (GET /metrics).
type IngestMetrics interface {
	// Accepted counts one accepted request whose signature matched secret index key of
	// source: the key is rotation tracking, so an operator sees when an old secret is unused.
	Accepted(source string, key int)
	// Rejected counts one refused request by reason (pipeline.Reason*). source is "" unless
	// the path named a configured source.
	Rejected(source, reason string)
}

// LineMetrics is an IngestMetrics that publishes through log lines (pkg/metrics' EMF): the
// handler adds a request's metrics to its one log line instead of letting the sink write a line
// of its own, so a request costs one line (a log line costs about a tenth of an event's bill,
// see `hookline cost`).
type LineMetrics interface {
	AcceptedAttrs(source string, key int) []slog.Attr
	RejectedAttrs(source, reason string) []slog.Attr
}

// Handle is the Lambda handler.
func (h *IngestHandler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := time.Now()
	src := req.PathParameters["source"]
	method := req.RequestContext.HTTP.Method
	var (
		resp events.APIGatewayV2HTTPResponse
		acc  pipeline.Accepted
		err  error
	)
	if method != http.MethodPost && method != http.MethodGet {
		resp = MethodNotAllowed(method, req.RawPath, http.MethodPost)
	} else if acc, err = h.accept(ctx, src, req); err != nil {
		resp = ProblemResponse(err, req.RawPath)
	} else if acc.Reply != nil {
		// A provider's verification handshake: its answer, nothing published.
		resp = events.APIGatewayV2HTTPResponse{
			StatusCode: acc.Reply.Status,
			Headers:    map[string]string{"Content-Type": acc.Reply.ContentType},
			Body:       string(acc.Reply.Body),
		}
	} else {
		// The location and the body are cut from one string: one allocation for both.
		s := "/events/" + acc.ID + `{"id":"` + acc.ID + `","status":"accepted"}`
		n := len("/events/") + len(acc.ID)
		resp = events.APIGatewayV2HTTPResponse{
			StatusCode: http.StatusAccepted,
			Headers:    map[string]string{"Content-Type": "application/json", "Location": s[:n]},
			Body:       s[n:],
		}
		if acc.Batch {
			// A CloudEvents batch: one answer listing every event's id, in the batch's order.
			delete(resp.Headers, "Location")
			resp.Body = `{"id":"` + acc.ID + `","ids":["` + strings.Join(acc.IDs, `","`) + `"],"status":"accepted"}`
		}
	}
	var metricAttrs []slog.Attr
	if h.Metrics != nil {
		line, _ := h.Metrics.(LineMetrics)
		if !h.Log.Enabled(ctx, slog.LevelInfo) {
			line = nil // the request's line would not be written: the sink writes its own
		}
		if err == nil && resp.StatusCode == http.StatusAccepted {
			if line != nil {
				metricAttrs = line.AcceptedAttrs(acc.Source, acc.Verification.Key)
			} else {
				h.Metrics.Accepted(acc.Source, acc.Verification.Key)
			}
		} else {
			source, reason, rejected := acc.Source, "", false
			if r, ok := pipeline.RejectReason(err); ok {
				reason, rejected = r, true
			} else if resp.StatusCode == http.StatusMethodNotAllowed {
				source, reason, rejected = "", pipeline.ReasonInvalid, true // a webhook is a POST
			}
			switch {
			case rejected && line != nil:
				metricAttrs = line.RejectedAttrs(source, reason)
			case rejected:
				h.Metrics.Rejected(source, reason)
			}
		}
	}
	h.logRequest(ctx, src, acc, resp.StatusCode, start, err, metricAttrs)
	return resp, nil // every failure is an HTTP response; a handler error would be API Gateway's 500
}

func (h *IngestHandler) accept(ctx context.Context, src string, req events.APIGatewayV2HTTPRequest) (pipeline.Accepted, error) {
	var body []byte
	if req.IsBase64Encoded {
		// Refuse an over-size body before decoding it, let alone computing an HMAC over it.
		if n, limit := base64.StdEncoding.DecodedLen(len(req.Body))-2, h.Service.BodyLimit(); n > limit {
			return pipeline.Accepted{}, pipeline.BodyTooLargeFor(n, limit)
		}
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return pipeline.Accepted{}, pipeline.Errorf(pipeline.KindInvalid, "the body is marked base64 but does not decode")
		}
	} else {
		// The body is only read from here on (verified, hashed, copied into the envelope), so
		// it can share the request string's bytes instead of copying a body per request.
		body = unsafe.Slice(unsafe.StringData(req.Body), len(req.Body))
	}
	// API Gateway's sourceIp is the TCP peer it saw (X-Forwarded-For is not consulted); the local
	// gateway fills it the same way. An unparsable value is the zero Addr, which an allowlist refuses.
	ip, _ := netip.ParseAddr(req.RequestContext.HTTP.SourceIP)
	hdr := lowerHeaders(req.Headers)
	return h.Service.Accept(ctx, pipeline.IngestRequest{
		Source: src, Header: hdr, Headers: hdr, Body: body, SourceIP: ip,
		Method: req.RequestContext.HTTP.Method, Query: req.QueryStringParameters, RawPath: req.RawPath, RawQuery: req.RawQueryString,
	})
}

// logRequest writes the one line per request: never a header value, secret or signature.
func (h *IngestHandler) logRequest(ctx context.Context, src string, acc pipeline.Accepted, status int, start time.Time, err error, metrics []slog.Attr) {
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	} else if status >= 400 {
		level = slog.LevelWarn
	}
	if !h.Log.Enabled(ctx, level) {
		return
	}
	// Five attributes fit in slog.Record without an allocation; the Lambda log handler adds the
	// request id itself, and locally the gateway logs it. The metrics go in as one inline group
	// (slog writes its members as top-level keys), so they cost the record one more slot.
	var attrs [7]slog.Attr
	attrs[0] = slog.String("event_id", acc.ID)
	attrs[1] = slog.String("source", src)
	attrs[2] = slog.String("type", acc.Type)
	attrs[3] = slog.Int("status", status)
	attrs[4] = slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000)
	n := 5
	if err != nil {
		// Internal causes go to the log only; the client saw a generic detail.
		attrs[n] = slog.String("error", err.Error())
		n++
	}
	if len(metrics) > 0 {
		attrs[n] = slog.Attr{Value: slog.GroupValue(metrics...)}
		n++
	}
	// The record goes to the handler directly: Logger.LogAttrs would also walk the stack for the
	// caller's pc, which only a handler with AddSource reads (none of hookline's).
	r := slog.NewRecord(time.Now(), level, "ingest", 0)
	r.AddAttrs(attrs[:n]...)
	_ = h.Log.Handler().Handle(ctx, r) // as Logger.LogAttrs: a log write error is dropped
}
