package lambdaio_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/lambdaio"
)

func TestHealthByRoute(t *testing.T) {
	t.Parallel()
	var checkErr error
	health := &lambdaio.HealthHandler{Check: func(context.Context) error { return checkErr }, Log: quiet()}
	webhooks := 0
	h := lambdaio.ByRoute(map[string]lambdaio.HTTPHandler{
		"GET /healthz": health.Handle,
	}, func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		webhooks++
		return events.APIGatewayV2HTTPResponse{StatusCode: 202}, nil
	})
	get := events.APIGatewayV2HTTPRequest{RouteKey: "GET /healthz", RawPath: "/healthz"}
	get.RequestContext.HTTP.Method = http.MethodGet
	resp, _ := h(context.Background(), get)
	if resp.StatusCode != 200 || resp.Body != `{"status":"ok"}` {
		t.Errorf("healthy: %d %s", resp.StatusCode, resp.Body)
	}
	checkErr = errors.New("secret unreadable")
	resp, _ = h(context.Background(), get)
	checkProblem(t, resp, http.StatusServiceUnavailable, "the sources config cannot be read")
	if resp, _ := h(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: "ANY /webhooks/{source}"}); resp.StatusCode != 202 || webhooks != 1 {
		t.Errorf("webhook route: %d, %d calls", resp.StatusCode, webhooks)
	}
}
