package ratelimit_test

import (
	"sync"
	"testing"
	"time"

	"hookline/pkg/ratelimit"
	"hookline/pkg/source"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestBurstThenRate(t *testing.T) {
	t.Parallel()
	var p ratelimit.PerSource
	src := &source.Source{Name: "github", Rate: &source.Rate{PerSecond: 2, Burst: 3}}
	for i := range 3 {
		if wait, ok := p.Allow(src, t0); !ok {
			t.Fatalf("request %d of the burst refused (wait %v)", i+1, wait)
		}
	}
	wait, ok := p.Allow(src, t0)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("past the burst: ok=%v wait=%v, want refused with 500ms (2 per second)", ok, wait)
	}
	// Refusals take no token: after the wait exactly one more request fits.
	for range 5 {
		p.Allow(src, t0.Add(100*time.Millisecond))
	}
	if _, ok := p.Allow(src, t0.Add(500*time.Millisecond)); !ok {
		t.Error("refused after the announced wait")
	}
	if _, ok := p.Allow(src, t0.Add(500*time.Millisecond)); ok {
		t.Error("a second request in the same instant passed")
	}
}

func TestSourcesAreIndependent(t *testing.T) {
	t.Parallel()
	var p ratelimit.PerSource
	slow := &source.Source{Name: "slow", Rate: &source.Rate{PerSecond: 1, Burst: 1}}
	free := &source.Source{Name: "free"}
	p.Allow(slow, t0)
	if _, ok := p.Allow(slow, t0); ok {
		t.Error("slow: second request passed")
	}
	for i := range 1000 {
		if _, ok := p.Allow(free, t0); !ok {
			t.Fatalf("a source without a rate was refused at request %d", i)
		}
	}
	// A changed rate (a refreshed config) starts a new, full bucket.
	faster := &source.Source{Name: "slow", Rate: &source.Rate{PerSecond: 10, Burst: 5}}
	if _, ok := p.Allow(faster, t0); !ok {
		t.Error("new rate: refused")
	}
}

func TestConcurrentAllowCountsEveryToken(t *testing.T) {
	t.Parallel()
	var p ratelimit.PerSource
	src := &source.Source{Name: "s", Rate: &source.Rate{PerSecond: 1, Burst: 100}}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		passed int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if _, ok := p.Allow(src, t0); ok {
					mu.Lock()
					passed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if passed != 100 {
		t.Errorf("%d of 400 concurrent requests passed, want the burst of 100", passed)
	}
}
