// Command coldstart measures each Lambda function's cold start on this machine: it builds
// every function in functions/ and an aws-lambda-go hello world with `make lambdas`' flags for
// the host architecture, starts each binary -n times under the in-repo fake Lambda Runtime API
// (internal/runtimeapi) with its dependencies faked on 127.0.0.1, and prints a Markdown table:
// binary size, exec → first GET invocation/next (median, p90, ratio to hello), exec → first
// response posted, and peak RSS. Every answer is checked, so a number is never that of a
// function that failed to start.
//
//	go run ./cmd/coldstart -n 20        (make coldstart)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coldstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 20, "cold starts per binary (after one unmeasured warm-up that loads the page cache)")
	dir := fs.String("dir", "", "where to build the binaries (default: a temporary directory, removed after)")
	timeout := fs.Duration("timeout", 10*time.Second, "longest wait for one binary's answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 {
		return fmt.Errorf("-n must be at least 1")
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "coldstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	ts := targets()
	fmt.Fprintf(stderr, "building %d binaries for %s/%s …\n", len(ts), runtime.GOOS, runtime.GOARCH)
	bins, err := build(ctx, *dir, ts)
	if err != nil {
		return err
	}
	samples := map[string][]sample{}
	// One warm-up each, then round-robin, so drift on a shared machine hits every binary alike.
	for round := 0; round <= *n; round++ {
		for _, t := range ts {
			s, err := coldStart(ctx, t, bins[t.name], *timeout)
			if err != nil {
				return err
			}
			if round > 0 {
				samples[t.name] = append(samples[t.name], s)
			}
		}
	}
	return report(stdout, ts, bins, samples, *n)
}

func report(w io.Writer, ts []target, bins map[string]string, samples map[string][]sample, n int) error {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "%s, %s %s/%s, %d CPUs (%s), %d cold starts per binary\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), host, n)
	fmt.Fprintln(w, "| binary | size (MiB) | ≤ 10 MiB | exec → first poll, median | p90 | × hello (≤ 2) | exec → response, median | p90 | peak RSS (MiB) |")
	fmt.Fprintln(w, "| --- | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	helloPoll := median(durations(samples[baseline], func(s sample) time.Duration { return s.firstPoll }))
	for _, t := range ts {
		st, err := os.Stat(bins[t.name])
		if err != nil {
			return err
		}
		ss := samples[t.name]
		polls := durations(ss, func(s sample) time.Duration { return s.firstPoll })
		resps := durations(ss, func(s sample) time.Duration { return s.response })
		var rss int64
		for _, s := range ss {
			rss = max(rss, s.maxRSS)
		}
		ratio := float64(median(polls)) / float64(helloPoll)
		mib := float64(st.Size()) / (1 << 20)
		fmt.Fprintf(w, "| %s | %.2f | %s | %s | %s | %.2f %s | %s | %s | %.1f |\n",
			t.name, mib, mark(mib <= 10), ms(median(polls)), ms(p90(polls)), ratio, mark(ratio <= 2),
			ms(median(resps)), ms(p90(resps)), float64(rss)/(1<<20))
	}
	return nil
}

func mark(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func durations(ss []sample, f func(sample) time.Duration) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	slices.Sort(out)
	return out
}

// median and p90 use the nearest rank of sorted samples.
func median(d []time.Duration) time.Duration { return rank(d, 0.5) }
func p90(d []time.Duration) time.Duration    { return rank(d, 0.9) }

func rank(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(q*float64(len(d))+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
