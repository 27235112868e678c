package localrun

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// TestArrivals: the front door is busy from a webhook's arrival until burstGap after it, and
// not before the first one.
func TestArrivals(t *testing.T) {
	t.Parallel()
	a := newArrivals()
	var now time.Duration
	a.since = func() time.Duration { return now }
	if a.busy() {
		t.Fatal("busy before any webhook arrived")
	}
	calls := 0
	h := a.note(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		calls++
		return events.APIGatewayV2HTTPResponse{StatusCode: 202}, nil
	})
	now = time.Hour
	if resp, err := h(context.Background(), events.APIGatewayV2HTTPRequest{}); err != nil || resp.StatusCode != 202 || calls != 1 {
		t.Fatalf("the wrapped handler answered %d, %v after %d calls; want its own 202 after 1", resp.StatusCode, err, calls)
	}
	for _, step := range []struct {
		after time.Duration
		want  bool
	}{{0, true}, {burstGap - time.Nanosecond, true}, {burstGap, false}, {time.Minute, false}} {
		now = time.Hour + step.after
		if got := a.busy(); got != step.want {
			t.Errorf("%v after a webhook: busy %v, want %v", step.after, got, step.want)
		}
	}
}
