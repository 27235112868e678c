package problem_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hookline/pkg/pipeline"
	"hookline/pkg/problem"
)

func TestEveryKindHasItsStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind       pipeline.Kind
		status     int
		retryAfter string
	}{
		{pipeline.KindInternal, 500, ""},
		{pipeline.KindInvalid, 400, ""},
		{pipeline.KindUnauthorized, 401, ""},
		{pipeline.KindForbidden, 403, ""},
		{pipeline.KindNotFound, 404, ""},
		{pipeline.KindMethodNotAllowed, 405, ""},
		{pipeline.KindTooLarge, 413, ""},
		{pipeline.KindUnsupportedMedia, 415, ""},
		{pipeline.KindThrottled, 429, "5"},
		{pipeline.KindUnavailable, 503, "5"},
	}
	for _, tc := range tests {
		err := fmt.Errorf("wrapped: %w", &pipeline.Error{Kind: tc.kind, Detail: "the detail"})
		if got := problem.Status(err); got != tc.status {
			t.Errorf("Status(kind %d) = %d, want %d", tc.kind, got, tc.status)
		}
		p := problem.For(err, "/x")
		if p.Status != tc.status || p.Title != http.StatusText(tc.status) || p.RetryAfter != tc.retryAfter || p.Type != "about:blank" || p.Instance != "/x" {
			t.Errorf("For(kind %d) = %+v", tc.kind, p)
		}
		if h := p.Headers(); h["Retry-After"] != tc.retryAfter || h["Content-Type"] != "application/problem+json" {
			t.Errorf("Headers(kind %d) = %v", tc.kind, h)
		}
	}
}

// A throttled caller is told the wait its limiter named, in whole seconds rounded up.
func TestRetryAfterFromTheError(t *testing.T) {
	t.Parallel()
	for wait, want := range map[time.Duration]string{0: "5", time.Millisecond: "1", 1500 * time.Millisecond: "2", 3 * time.Second: "3"} {
		err := &pipeline.Error{Kind: pipeline.KindThrottled, Detail: "slow down", RetryAfter: wait}
		if got := problem.For(err, "").RetryAfter; got != want {
			t.Errorf("RetryAfter for a %v wait = %q, want %q", wait, got, want)
		}
	}
}

// An internal error's text may name hosts, files or secrets: it never reaches the document.
func TestInternalDetailIsGeneric(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		errors.New("dial tcp 10.0.0.7:5432: secret-host refused"),
		&pipeline.Error{Kind: pipeline.KindInternal, Detail: "secret-host", Err: errors.New("secret-host")},
	} {
		p := problem.For(err, "")
		if p.Status != 500 || p.Detail != "an internal error occurred; it has been logged" {
			t.Errorf("For(%v) = %+v", err, p)
		}
	}
}

func TestWrite(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	status := problem.Write(w, problem.For(pipeline.Errorf(pipeline.KindUnavailable, "the bus is down"), "/webhooks/github"))
	if status != 503 || w.Code != 503 || w.Header().Get("Retry-After") != "5" || w.Header().Get("Content-Type") != problem.MediaType {
		t.Fatalf("status %d/%d, headers %v", status, w.Code, w.Header())
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "about:blank", "title": "Service Unavailable", "status": 503.0,
		"detail": "the bus is down", "instance": "/webhooks/github"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("document (-want +got):\n%s", diff)
	}
}
