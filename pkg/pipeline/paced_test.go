package pipeline

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"hookline/internal/fakeclock"
)

type recorder struct {
	mu    sync.Mutex
	clock *fakeclock.Clock // moves only when a Paced send sleeps
	at    []time.Time
}

func (r *recorder) Send(context.Context, Email) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.at = append(r.at, r.clock.Now())
	return nil
}

// maxInAnySecond is the most sends in any one-second window [t, t+1s).
func maxInAnySecond(at []time.Time) int {
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	best := 0
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < time.Second; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

// TestPacedNeverExceedsTheEmailRate: 300 emails asked for at once (a burst, as a notifier batch
// or a backlog makes) go out at most 10 in any second, without a real second passing.
func TestPacedNeverExceedsTheEmailRate(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	rec := &recorder{clock: clock}
	p := &Paced{Mailer: rec, Limiter: NewLimiter(), Now: clock.Now, Sleep: clock.Sleep}
	start := clock.Now()
	for range 300 {
		if err := p.Send(context.Background(), Email{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := maxInAnySecond(rec.at); n > EmailRate {
		t.Errorf("%d emails in one second, SNS allows %d", n, EmailRate)
	}
	// And it does not wait more than it must: 300 sends, one every EmailSpacing.
	if span, want := rec.at[len(rec.at)-1].Sub(start), 299*EmailSpacing; span < want-time.Millisecond || span > want+time.Millisecond {
		t.Errorf("300 sends span %v, want %v", span, want)
	}
}

// TestPacedConcurrentSenders: the notifier sends a batch's emails from concurrent goroutines;
// they share the slots, so the reserved send times are 100 ms apart whatever the interleaving.
func TestPacedConcurrentSenders(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	lim := NewLimiter()
	var mu sync.Mutex
	var slots []time.Time
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			// Every sender asks at the same fake instant; its slot is when it may send.
			r := lim.ReserveN(start, 1)
			mu.Lock()
			slots = append(slots, start.Add(r.DelayFrom(start)))
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := maxInAnySecond(slots); n > EmailRate {
		t.Errorf("%d sends reserved within one second", n)
	}
}

// TestPacedGivesBackItsSlot: a send whose context ends while it waits fails without sending.
func TestPacedGivesBackItsSlot(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	rec := &recorder{clock: clock}
	ctx, cancel := context.WithCancel(context.Background())
	slept := 0
	p := &Paced{Mailer: rec, Limiter: NewLimiter(), Now: clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error { slept++; cancel(); return ctx.Err() }}
	if err := p.Send(context.Background(), Email{}); err != nil || slept != 0 { // the first slot is free: no wait
		t.Fatalf("first send: %v after %d sleeps, want no error and no sleep", err, slept)
	}
	if err := p.Send(ctx, Email{}); err == nil {
		t.Error("a cancelled wait sent anyway")
	}
	if len(rec.at) != 1 {
		t.Errorf("%d sends, want 1", len(rec.at))
	}
}
