package lambdaio

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/pipeline"
)

// statusOf is the one table from error kinds to HTTP statuses.
var statusOf = map[pipeline.Kind]int{
	pipeline.KindInternal:         http.StatusInternalServerError,
	pipeline.KindInvalid:          http.StatusBadRequest,
	pipeline.KindUnauthorized:     http.StatusUnauthorized,
	pipeline.KindForbidden:        http.StatusForbidden,
	pipeline.KindNotFound:         http.StatusNotFound,
	pipeline.KindMethodNotAllowed: http.StatusMethodNotAllowed,
	pipeline.KindTooLarge:         http.StatusRequestEntityTooLarge,
	pipeline.KindUnsupportedMedia: http.StatusUnsupportedMediaType,
	pipeline.KindThrottled:        http.StatusTooManyRequests,
	pipeline.KindUnavailable:      http.StatusServiceUnavailable,
}

// Problem is an RFC 9457 problem details document. Type is always "about:blank": the status
// says what kind of problem it is and Detail says exactly what was wrong.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
}

// Status maps err to its HTTP status.
func Status(err error) int {
	return statusOf[pipeline.KindOf(err)]
}

// ProblemFor builds the problem document for err. Internal errors get a generic detail: their
// text may name hosts, tables or secrets and never reaches a client.
func ProblemFor(err error, instance string) Problem {
	status := Status(err)
	detail := pipeline.DetailOf(err)
	if detail == "" {
		detail = "an internal error occurred; it has been logged"
	}
	return Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Instance: instance}
}

// ProblemResponse renders err as an application/problem+json response for path.
func ProblemResponse(err error, path string) events.APIGatewayV2HTTPResponse {
	p := ProblemFor(err, path)
	b, _ := json.Marshal(p) // strings and an int always encode
	resp := events.APIGatewayV2HTTPResponse{
		StatusCode: p.Status,
		Headers:    map[string]string{"Content-Type": "application/problem+json"},
		Body:       string(b),
	}
	if p.Status == http.StatusServiceUnavailable || p.Status == http.StatusTooManyRequests {
		resp.Headers["Retry-After"] = retryAfter(pipeline.RetryAfterOf(err))
	}
	return resp
}

// retryAfter is the Retry-After value for a wait: whole seconds, rounded up, at least 1; 5 when
// the error names no wait.
func retryAfter(d time.Duration) string {
	if d <= 0 {
		return "5"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// MethodNotAllowed is the 405 response for a route that only takes allow.
func MethodNotAllowed(method, path, allow string) events.APIGatewayV2HTTPResponse {
	resp := ProblemResponse(pipeline.Errorf(pipeline.KindMethodNotAllowed, "%s is not allowed on %s; use %s", method, path, allow), path)
	resp.Headers["Allow"] = allow
	return resp
}
