package pipeline

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// EmailRate is what SNS allows an email subscription: more than 10 messages a second suspends
// it (the SNS developer guide, "Email notifications").
const EmailRate = 10

// Paced is a Mailer that starts at most Rate sends in any second: it spaces them 1/Rate apart
// (a token bucket holding one token, golang.org/x/time/rate), making a send wait for its slot
// when they come faster (EmailSpacing apart). Concurrent senders share the slots. The notifier wraps its mailer in
// one; the stack runs at most one notifier at a time (reserved concurrency 1), so the limit
// holds for the subscription, not per instance.
type Paced struct {
	Mailer  Mailer
	Limiter *rate.Limiter    // NewPacer's; tests pass their own
	Now     func() time.Time // nil means time.Now
	// Sleep waits d or until ctx ends; nil means a timer. Tests advance a fake clock instead.
	Sleep func(ctx context.Context, d time.Duration) error
}

var _ Mailer = (*Paced)(nil)

// EmailSpacing is the gap Paced leaves between sends: a tenth of a second and a millisecond,
// because the limiter computes slots in floating point and exactly 100 ms apart an eleventh slot
// can land a nanosecond inside the second.
const EmailSpacing = time.Second/EmailRate + time.Millisecond

// NewLimiter is the limiter NewPacer uses: one token, refilled every EmailSpacing.
func NewLimiter() *rate.Limiter { return rate.NewLimiter(rate.Every(EmailSpacing), 1) }

// NewPacer returns a Paced mailer at EmailRate.
func NewPacer(m Mailer) *Paced { return &Paced{Mailer: m, Limiter: NewLimiter()} }

// Send waits for the next free slot, then sends. A send whose wait outlives ctx gives its slot
// back and fails with ctx's error.
func (p *Paced) Send(ctx context.Context, m Email) error {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	t := now()
	r := p.Limiter.ReserveN(t, 1)
	if d := r.DelayFrom(t); d > 0 {
		sleep := p.Sleep
		if sleep == nil {
			sleep = Sleep
		}
		if err := sleep(ctx, d); err != nil {
			r.CancelAt(now())
			return err
		}
	}
	return p.Mailer.Send(ctx, m)
}

// Sleep waits d, or until ctx ends and then returns its error: Paced's default, and the wait
// of every retry loop that must stop with its context (ddbstore's unprocessed keys, the local
// runner's backoff).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
