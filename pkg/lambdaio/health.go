package lambdaio

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/pipeline"
)

// HealthHandler serves GET /healthz on AWS, unauthenticated, from the ingest function. It
// answers 200 {"status":"ok"} when the function started (its environment and the sources
// secret were read and valid) and Check passes, else a 503 problem. It makes no AWS call of
// its own: Check is the sources config lookup, which refetches the secret at most once per
// HOOKLINE_SOURCES_TTL. It does not prove SNS accepts publishes (a failing publish is a 503
// to senders and the Api5xx alarm).
type HealthHandler struct {
	Check func(ctx context.Context) error
	Log   *slog.Logger
}

// Handle is the Lambda handler.
func (h *HealthHandler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if m := req.RequestContext.HTTP.Method; m != http.MethodGet && m != http.MethodHead {
		return MethodNotAllowed(m, req.RawPath, http.MethodGet), nil
	}
	if err := h.Check(ctx); err != nil {
		h.Log.LogAttrs(ctx, slog.LevelError, "healthz failed", slog.String("event_id", ""), slog.String("error", err.Error()))
		return ProblemResponse(&pipeline.Error{Kind: pipeline.KindUnavailable, Detail: "the sources config cannot be read", Err: err}, req.RawPath), nil
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}, Body: `{"status":"ok"}`}, nil
}

// ByRoute dispatches API Gateway requests by route key ("GET /healthz") to routes, and every
// other request to fallback: one function can serve several routes of the HTTP API.
func ByRoute(routes map[string]HTTPHandler, fallback HTTPHandler) HTTPHandler {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if h, ok := routes[req.RouteKey]; ok {
			return h(ctx, req)
		}
		return fallback(ctx, req)
	}
}
