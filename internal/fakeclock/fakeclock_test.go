package fakeclock_test

import (
	"context"
	"testing"
	"time"

	"hookline/internal/fakeclock"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := fakeclock.New(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("Now = %v, want the start %v", got, t0)
	}
	if got := c.Advance(time.Second); !got.Equal(t0.Add(time.Second)) || !c.Now().Equal(got) {
		t.Fatalf("Advance(1s) = %v, Now %v; want %v", got, c.Now(), t0.Add(time.Second))
	}
	c.SleepUntil(t0) // in the past: no move backwards
	if got := c.Now(); !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("SleepUntil into the past moved the clock to %v", got)
	}
	c.SleepUntil(t0.Add(time.Minute))
	if got := c.Now(); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("SleepUntil(+1m): Now = %v", got)
	}
	if err := c.Sleep(context.Background(), time.Hour); err != nil || !c.Now().Equal(t0.Add(time.Minute+time.Hour)) {
		t.Fatalf("Sleep(1h) = %v, Now %v", err, c.Now())
	}
}
