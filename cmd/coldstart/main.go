// Command coldstart measures each Lambda function's cold start on this machine: it builds
// every function in functions/ and an aws-lambda-go hello world with `make lambdas`' flags for
// the host architecture, starts each binary -n times under the in-repo fake Lambda Runtime API
// (internal/runtimeapi) with its dependencies faked on 127.0.0.1, and prints a Markdown table:
// the size of the deployed zip (linux/arm64, as `make lambdas` builds it), exec → first GET
// invocation/next (median, p90, ratio to hello), the CPU time spent until then, exec → first
// response posted, and peak RSS. Every answer is checked, so a number is never that of a
// function that failed to start. -also DIR adds rows for the binaries of the same names in DIR
// (say, built from an older commit), timed in the same rounds.
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
	"path/filepath"
	"runtime"
	"slices"
	"strings"
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
	also := fs.String("also", "", "a directory of function binaries (built elsewhere) to time as well, as rows \"<fn> (<dir name>)\"")
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
	loadBefore := loadAverage()
	ts := targets()
	fmt.Fprintf(stderr, "building %d binaries for %s/%s …\n", len(ts), runtime.GOOS, runtime.GOARCH)
	bins, err := build(ctx, *dir, ts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "building them for linux/arm64 and zipping them, for the size deployed …\n")
	zips, err := deployedZips(ctx, filepath.Join(*dir, "linux-arm64"), ts)
	if err != nil {
		return err
	}
	if *also != "" {
		ts, err = alsoTargets(ts, bins, *also)
		if err != nil {
			return err
		}
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
	if err := report(stdout, ts, bins, zips, samples, *n); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nLoad average before: %s; after: %s.\n", loadBefore, loadAverage())
	return nil
}

// Goals (issue 13): the zip Lambda gets at most 4 MiB, exec → first poll at most 1.5× hello's.
const (
	maxZipMiB   = 4
	maxPollRate = 1.5
)

// report prints the table. zips holds the deployed zip's size by target name; a target without
// one (a row added by -also) shows its host binary's size only.
func report(w io.Writer, ts []target, bins map[string]string, zips map[string]int64, samples map[string][]sample, n int) error {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "%s, %s %s/%s, %d CPUs (%s), %d cold starts per binary\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), host, n)
	fmt.Fprintf(w, "| binary | zip, linux/arm64 (MiB) | ≤ %d MiB | binary, %s (MiB) | exec → first poll, median | p90 | × hello (≤ %.1f) | CPU to first poll, median | × hello | page faults to first poll, median | exec → response, median | p90 | peak RSS (MiB) |\n",
		maxZipMiB, runtime.GOARCH, maxPollRate)
	fmt.Fprintln(w, "| --- | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	firstPoll := func(s sample) time.Duration { return s.firstPoll }
	cpu := func(s sample) time.Duration { return s.cpu }
	helloPoll := median(durations(samples[baseline], firstPoll))
	helloCPU := median(durations(samples[baseline], cpu))
	for _, t := range ts {
		st, err := os.Stat(bins[t.name])
		if err != nil {
			return err
		}
		ss := samples[t.name]
		polls := durations(ss, firstPoll)
		cpus := durations(ss, cpu)
		resps := durations(ss, func(s sample) time.Duration { return s.response })
		faults := make([]int64, len(ss))
		for i, s := range ss {
			faults[i] = s.faults
		}
		slices.Sort(faults)
		var rss int64
		for _, s := range ss {
			rss = max(rss, s.maxRSS)
		}
		ratio := float64(median(polls)) / float64(helloPoll)
		zipCol, zipOK := "—", "—"
		if z, ok := zips[t.name]; ok {
			zipMiB := float64(z) / (1 << 20)
			zipCol, zipOK = fmt.Sprintf("%.2f", zipMiB), mark(zipMiB <= maxZipMiB)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.2f | %s | %s | %.2f %s | %s | %.2f | %d | %s | %s | %.1f |\n",
			t.name, zipCol, zipOK, float64(st.Size())/(1<<20), ms(median(polls)), ms(p90(polls)), ratio, mark(ratio <= maxPollRate),
			ms(median(cpus)), float64(median(cpus))/float64(helloCPU), rank(faults, 0.5),
			ms(median(resps)), ms(p90(resps)), float64(rss)/(1<<20))
	}
	return nil
}

// loadAverage is /proc/loadavg's first three fields ("?" where there is none): cold starts on a
// busy machine wait for a core, so the table says how busy it was.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
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

func rank[T time.Duration | int64](d []T, q float64) T {
	if len(d) == 0 {
		return 0
	}
	i := int(q*float64(len(d))+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
