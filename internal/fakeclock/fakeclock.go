// Package fakeclock is the manual clock of tests: it stands still until a test (or the code
// under test, through Sleep and SleepUntil) moves it, so no real time passes and nothing
// depends on how busy the machine is. The local engine's queues, the email pacer and the
// load generator are tested with it.
package fakeclock

import (
	"context"
	"sync"
	"time"
)

// Clock is a manual clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New starts a clock at t.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// SleepUntil moves the clock to t, never backwards.
func (c *Clock) SleepUntil(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

// Sleep moves the clock forward by d at once (a sleeper's wait, with no real time passing).
func (c *Clock) Sleep(_ context.Context, d time.Duration) error {
	c.Advance(d)
	return nil
}
