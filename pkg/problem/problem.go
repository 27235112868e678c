// Package problem is the one place where hookline's error kinds (pipeline.Kind) become HTTP
// answers: the status, its title and Retry-After, and the RFC 9457 problem details document.
// The Lambda handlers (pkg/lambdaio), the local API gateway (pkg/local/gateway) and the web
// view (pkg/webui) all answer from this table, so a kind means the same status everywhere.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"hookline/pkg/pipeline"
)

// MediaType is the Content-Type of a problem details document.
const MediaType = "application/problem+json"

// defaultRetryAfter is what a client is asked to wait after a 429 or 503 whose error names no
// wait of its own (pipeline.Error.RetryAfter).
const defaultRetryAfter = 5 * time.Second

// answer is how one kind of error is answered.
type answer struct {
	status int
	retry  bool // a Retry-After goes with it
}

// table is the one mapping from error kinds to HTTP answers.
var table = map[pipeline.Kind]answer{
	pipeline.KindInternal:         {status: http.StatusInternalServerError},
	pipeline.KindInvalid:          {status: http.StatusBadRequest},
	pipeline.KindUnauthorized:     {status: http.StatusUnauthorized},
	pipeline.KindForbidden:        {status: http.StatusForbidden},
	pipeline.KindNotFound:         {status: http.StatusNotFound},
	pipeline.KindMethodNotAllowed: {status: http.StatusMethodNotAllowed},
	pipeline.KindTooLarge:         {status: http.StatusRequestEntityTooLarge},
	pipeline.KindUnsupportedMedia: {status: http.StatusUnsupportedMediaType},
	pipeline.KindThrottled:        {status: http.StatusTooManyRequests, retry: true},
	pipeline.KindUnavailable:      {status: http.StatusServiceUnavailable, retry: true},
	pipeline.KindMisdirected:      {status: http.StatusMisdirectedRequest},
}

// Details is an RFC 9457 problem details document. Type is always "about:blank": the status
// says what kind of problem it is and Detail says exactly what was wrong.
type Details struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
	// RetryAfter is the Retry-After header's value in seconds, "" for none.
	RetryAfter string `json:"-"`
}

// Status maps err to its HTTP status.
func Status(err error) int {
	return table[pipeline.KindOf(err)].status
}

// internalDetail is what a client is told of any internal error.
const internalDetail = "an internal error occurred; it has been logged"

// For builds the problem document for err. Internal errors get a generic detail: their text
// may name hosts, tables or secrets and never reaches a client.
func For(err error, instance string) Details {
	a := table[pipeline.KindOf(err)]
	detail := pipeline.DetailOf(err)
	if detail == "" {
		detail = internalDetail
	}
	d := Details{Type: "about:blank", Title: http.StatusText(a.status), Status: a.status, Detail: detail, Instance: instance}
	if a.retry {
		d.RetryAfter = retryAfter(pipeline.RetryAfterOf(err))
	}
	return d
}

// retryAfter is the Retry-After value for a wait: whole seconds, rounded up, at least 1;
// defaultRetryAfter when the error names no wait.
func retryAfter(d time.Duration) string {
	if d <= 0 {
		d = defaultRetryAfter
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// Headers are the response headers that go with d.
func (d Details) Headers() map[string]string {
	h := map[string]string{"Content-Type": MediaType}
	if d.RetryAfter != "" {
		h["Retry-After"] = d.RetryAfter
	}
	return h
}

// JSON is the document's body.
func (d Details) JSON() []byte {
	b, _ := json.Marshal(d) // strings and an int always encode
	return b
}

// Write answers w with d and returns the status written.
func Write(w http.ResponseWriter, d Details) int {
	for k, v := range d.Headers() {
		w.Header().Set(k, v)
	}
	w.WriteHeader(d.Status)
	_, _ = w.Write(d.JSON())
	return d.Status
}
