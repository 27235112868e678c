package lambdaio

import (
	"errors"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/pipeline"
	"hookline/pkg/problem"
)

// ProblemResponse renders err as an application/problem+json response for path; pkg/problem
// decides the status.
func ProblemResponse(err error, path string) events.APIGatewayV2HTTPResponse {
	p := problem.For(err, path)
	resp := events.APIGatewayV2HTTPResponse{StatusCode: p.Status, Headers: p.Headers(), Body: string(p.JSON())}
	if pipeline.KindOf(err) == pipeline.KindMethodNotAllowed {
		allow := "POST"
		var pe *pipeline.Error
		if errors.As(err, &pe) && pe.Allow != "" {
			allow = pe.Allow
		}
		resp.Headers["Allow"] = allow
	}
	return resp
}

// MethodNotAllowed is the 405 response for a route that only takes allow.
func MethodNotAllowed(method, path, allow string) events.APIGatewayV2HTTPResponse {
	resp := ProblemResponse(pipeline.Errorf(pipeline.KindMethodNotAllowed, "%s is not allowed on %s; use %s", method, path, allow), path)
	resp.Headers["Allow"] = allow
	return resp
}
