package loadgen

import (
	"context"
	"testing"
	"time"

	"hookline/internal/fakeclock"
)

func TestScheduleDueTimes(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		rate int
		i    int
		want time.Duration // after start
	}{
		{1000, 0, 0},
		{1000, 1, time.Millisecond},
		{1000, 999, 999 * time.Millisecond},
		{1000, 30000, 30 * time.Second},
		// 1/3 s is not a whole number of nanoseconds: an accumulated interval would drift by
		// 1 ns per request; computed from i, request 3 is due at exactly one second.
		{3, 1, 333333333},
		{3, 3, time.Second},
		{3, 3_000_000, 1_000_000 * time.Second},
		{7, 10, 1428571428},
	} {
		s := schedule{start: t0, rate: tc.rate, duration: time.Hour}
		if got := s.due(tc.i).Sub(t0); got != tc.want {
			t.Errorf("rate %d: request %d due at +%v, want +%v", tc.rate, tc.i, got, tc.want)
		}
	}
}

func TestScheduleCount(t *testing.T) {
	for _, tc := range []struct {
		rate     int
		duration time.Duration
		want     int
	}{
		{1000, 30 * time.Second, 30000},                 // due at 0 … 29.999 s
		{1000, 30*time.Second + time.Nanosecond, 30001}, // the one due at exactly 30 s is before the end
		{3, time.Second, 3},                             // 0, 1/3, 2/3
		{3, 1001 * time.Millisecond, 4},
		{500, 0, 0},
	} {
		s := schedule{rate: tc.rate, duration: tc.duration}
		if got := s.count(); got != tc.want {
			t.Errorf("rate %d for %v: %d requests, want %d", tc.rate, tc.duration, got, tc.want)
		}
		// count agrees with due: the last request is due before the end, the next is not.
		if n := s.count(); n > 0 && !s.due(n-1).Before(s.start.Add(tc.duration)) || s.due(n).Before(s.start.Add(tc.duration)) {
			t.Errorf("rate %d for %v: count %d disagrees with due", tc.rate, tc.duration, n)
		}
	}
}

// A server that takes 10 ms per request, one connection, 1,000 requests/s due: every request
// queues behind the ones before it, and its latency must say so (10 ms + 9 ms per request
// ahead of it). Timing each from when the worker picked it up would report 10 ms for all.
func TestLatencyCountsFromDueTime(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := fakeclock.New(t0)
	var lat []time.Duration
	free := t0 // when the one connection is free again; only the one worker touches it
	drive(context.Background(), c, schedule{start: t0, rate: 1000, duration: 20 * time.Millisecond}, 1, func(due time.Time) {
		// The answer comes 10 ms after the server starts on it, computed rather than read off
		// the shared clock: drive's own SleepUntil towards the next due time may run before or
		// after this send, and reading the clock made the result depend on that order.
		start := due
		if free.After(start) {
			start = free
		}
		free = start.Add(10 * time.Millisecond)
		c.SleepUntil(free)
		lat = append(lat, free.Sub(due))
	})
	if len(lat) != 20 {
		t.Fatalf("sent %d requests, want 20", len(lat))
	}
	for i, d := range lat {
		if want := 10*time.Millisecond + time.Duration(i)*9*time.Millisecond; d != want {
			t.Errorf("request %d: latency %v, want %v", i, d, want)
		}
	}
}

// A server faster than the schedule: drive hands out the schedule's due times, one by one.
func TestDriveHandsOutDueTimes(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := fakeclock.New(t0)
	var dues []time.Time
	drive(context.Background(), c, schedule{start: t0, rate: 100, duration: 100 * time.Millisecond}, 1, func(due time.Time) {
		c.Advance(time.Millisecond)
		dues = append(dues, due)
	})
	if len(dues) != 10 {
		t.Fatalf("sent %d requests, want 10", len(dues))
	}
	for i, d := range dues {
		if want := t0.Add(time.Duration(i) * 10 * time.Millisecond); !d.Equal(want) {
			t.Errorf("request %d due at %v, want %v", i, d.Sub(t0), want.Sub(t0))
		}
	}
}

// Closed loop: each request is due when its worker starts it, so latency is service time.
func TestClosedLoopDueWhenWorkerStarts(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := fakeclock.New(t0)
	n := 0
	drive(context.Background(), c, schedule{start: t0, duration: 50 * time.Millisecond}, 1, func(due time.Time) {
		if done := c.Advance(5 * time.Millisecond); done.Sub(due) != 5*time.Millisecond {
			t.Errorf("request %d: latency %v, want the 5ms it took", n, done.Sub(due))
		}
		n++
	})
	// The dispatcher may hand over one request before it sees the clock pass the end.
	if n < 10 || n > 11 {
		t.Errorf("closed loop sent %d requests in 50ms of 5ms each, want 10 (or 11)", n)
	}
}
