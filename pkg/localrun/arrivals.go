package localrun

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/local/gateway"
)

// burstGap is how recently a webhook must have arrived for the front door to count as busy
// (runner.Runner.Busy): at 50 requests a second or more the subscriber's extra pollers stand
// aside, and they are back within this (plus a pause of milliseconds) of a burst's end.
const burstGap = 20 * time.Millisecond

// arrivals notes when the latest webhook request arrived, on the monotonic clock, so the
// runner can leave the cores to the front door during a burst.
type arrivals struct {
	since func() time.Duration // time since an origin; tests set it
	last  atomic.Int64         // since() at the latest arrival
}

func newArrivals() *arrivals {
	origin := time.Now()
	a := &arrivals{since: func() time.Duration { return time.Since(origin) }}
	a.last.Store(-int64(burstGap)) // none yet
	return a
}

// note wraps a route's handler so that every request it gets counts as an arrival.
func (a *arrivals) note(h gateway.Handler) gateway.Handler {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		a.last.Store(int64(a.since()))
		return h(ctx, req)
	}
}

// busy reports whether a webhook arrived within burstGap.
func (a *arrivals) busy() bool {
	return a.since()-time.Duration(a.last.Load()) < burstGap
}
