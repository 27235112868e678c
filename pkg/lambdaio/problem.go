package lambdaio

import (
	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/pipeline"
	"hookline/pkg/problem"
)

// ProblemResponse renders err as an application/problem+json response for path; pkg/problem
// decides the status.
func ProblemResponse(err error, path string) events.APIGatewayV2HTTPResponse {
	p := problem.For(err, path)
	return events.APIGatewayV2HTTPResponse{StatusCode: p.Status, Headers: p.Headers(), Body: string(p.JSON())}
}

// MethodNotAllowed is the 405 response for a route that only takes allow.
func MethodNotAllowed(method, path, allow string) events.APIGatewayV2HTTPResponse {
	resp := ProblemResponse(pipeline.Errorf(pipeline.KindMethodNotAllowed, "%s is not allowed on %s; use %s", method, path, allow), path)
	resp.Headers["Allow"] = allow
	return resp
}
