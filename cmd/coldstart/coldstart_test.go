package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestEachBinaryIsALambda builds every function exactly as `make lambdas` does (host
// architecture) and runs each once under the fake Runtime API: each must start with its
// production wiring (config from the environment, the sources secret from Secrets Manager,
// real SDK clients pointed at the fake AWS) and post a correct answer to a real invocation.
// Building takes about a minute on the 2-core dev VM, hence skipped under -short.
func TestEachBinaryIsALambda(t *testing.T) {
	if testing.Short() {
		t.Skip("builds five binaries (~1 min); run without -short")
	}
	ctx := context.Background()
	ts := targets()
	bins, err := build(ctx, t.TempDir(), ts)
	if err != nil {
		t.Fatal(err)
	}
	samples := map[string][]sample{}
	zips := map[string]int64{}
	for _, tg := range ts {
		t.Run(tg.name, func(t *testing.T) {
			s, err := coldStart(ctx, tg, bins[tg.name], 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if s.firstPoll <= 0 || s.response < s.firstPoll {
				t.Errorf("timings out of order: first poll %v, response %v", s.firstPoll, s.response)
			}
			if s.cpu <= 0 {
				t.Errorf("CPU time to the first poll %v, want > 0 (read from /proc/<pid>/task/*/schedstat)", s.cpu)
			}
			if s.faults <= 0 {
				t.Errorf("page faults to the first poll %d, want > 0 (read from /proc/<pid>/stat)", s.faults)
			}
			// The zip column as the host build would have it (the arm64 build is make coldstart's).
			z, err := zipSize(bins[tg.name])
			if err != nil {
				t.Fatal(err)
			}
			if st, err := os.Stat(bins[tg.name]); err != nil || z <= 0 || z >= st.Size() {
				t.Errorf("zip of %s: %d bytes, want more than 0 and less than the binary (%v)", tg.name, z, err)
			}
			zips[tg.name] = z
			samples[tg.name] = []sample{s}
			t.Logf("exec → first poll %v (CPU %v, %d page faults), → response %v, peak RSS %.1f MiB", s.firstPoll, s.cpu, s.faults, s.response, float64(s.maxRSS)/(1<<20))
		})
	}
	if t.Failed() {
		return
	}
	var out bytes.Buffer
	if err := report(&out, ts, bins, zips, samples, 1); err != nil {
		t.Fatal(err)
	}
	for _, tg := range ts {
		if !strings.Contains(out.String(), "| "+tg.name+" |") {
			t.Errorf("report has no row for %s:\n%s", tg.name, out.String())
		}
	}
}

func TestRank(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if got := median(d); got != 5 {
		t.Errorf("median = %v, want 5", got)
	}
	if got := p90(d); got != 9 {
		t.Errorf("p90 = %v, want 9", got)
	}
	if got := p90(d[:1]); got != 1 {
		t.Errorf("p90 of one = %v, want 1", got)
	}
	if got := median(nil); got != 0 {
		t.Errorf("median of none = %v, want 0", got)
	}
}
