package pipeline_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"hookline/pkg/pipeline"
)

func TestErrorKindsThroughWrapping(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial tcp 10.0.0.9:443: refused")
	throttled := &pipeline.Error{Kind: pipeline.KindThrottled, Detail: "slow down", Err: cause, RetryAfter: 3 * time.Second}
	wrapped := fmt.Errorf("publish event x: %w", throttled)
	if pipeline.KindOf(wrapped) != pipeline.KindThrottled || pipeline.RetryAfterOf(wrapped) != 3*time.Second ||
		pipeline.DetailOf(wrapped) != "slow down" || !errors.Is(wrapped, cause) {
		t.Errorf("through wrapping: kind %v, retry %v, detail %q", pipeline.KindOf(wrapped), pipeline.RetryAfterOf(wrapped), pipeline.DetailOf(wrapped))
	}
	if got := throttled.Error(); got != "slow down: dial tcp 10.0.0.9:443: refused" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&pipeline.Error{Kind: pipeline.KindInvalid, Detail: "bad"}).Error(); got != "bad" {
		t.Errorf("Error() without a cause = %q", got)
	}
	// A plain error is internal: no detail for the client, no wait.
	if pipeline.KindOf(cause) != pipeline.KindInternal || pipeline.DetailOf(cause) != "" || pipeline.RetryAfterOf(cause) != 0 {
		t.Errorf("plain error: kind %v, detail %q, retry %v", pipeline.KindOf(cause), pipeline.DetailOf(cause), pipeline.RetryAfterOf(cause))
	}
	// An internal *Error keeps its detail for the log only.
	internal := &pipeline.Error{Kind: pipeline.KindInternal, Detail: "table hookline-events in eu-west-1"}
	if pipeline.DetailOf(internal) != "" {
		t.Errorf("an internal error's detail reached DetailOf: %q", pipeline.DetailOf(internal))
	}
	// Errorf: the message is the detail, a %w operand the cause.
	e := pipeline.Errorf(pipeline.KindNotFound, "no event %q: %w", "x", pipeline.ErrNotFound)
	if e.Kind != pipeline.KindNotFound || e.Detail != `no event "x": event not found` || !errors.Is(e, pipeline.ErrNotFound) || !pipeline.IsNotFound(e) {
		t.Errorf("Errorf = %+v", e)
	}
	// The log says a cause once, also when the detail already says it (ingest's refusals log
	// Error(): "missing signature: … header absent: missing signature: … header absent" before).
	if got := e.Error(); got != `no event "x": event not found` {
		t.Errorf("Errorf's Error() = %q", got)
	}
	refused := errors.New("missing signature: x-hub-signature-256 header absent")
	if got := (&pipeline.Error{Kind: pipeline.KindUnauthorized, Detail: refused.Error(), Err: refused}).Error(); got != refused.Error() {
		t.Errorf("Error() with the cause's text as the detail = %q", got)
	}
	if e := pipeline.Errorf(pipeline.KindInvalid, "limit %d", 0); e.Err != nil || e.Detail != "limit 0" {
		t.Errorf("Errorf without %%w = %+v", e)
	}
	if pipeline.IsNotFound(cause) {
		t.Error("IsNotFound of an unrelated error")
	}
}
