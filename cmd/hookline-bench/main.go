// Command hookline-bench runs the bounded loopback load runs and prints the dated Markdown
// section of a run; `make bench` writes it to docs/benchmarks/ and as BENCHMARKS.md's latest run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"hookline/internal/bench/report"
)

func main() {
	var cfg report.Config
	flag.StringVar(&cfg.Bin, "bin", "build/hookline", "the hookline binary to run")
	flag.DurationVar(&cfg.Duration, "duration", 30*time.Second, "length of each load run")
	flag.IntVar(&cfg.Rate, "rate", 1000, "requests per second of the fixed-rate run")
	serveFloor := flag.String("serve-floor", "", "serve the floor (a bare net/http 202 server) on this address and nothing else; the load runs start it so")
	flag.BoolVar(&cfg.SkipLoad, "skip-load", false, "only the history query run")
	sizes := flag.String("history", "1000,100000", "comma-separated table sizes for history query latency")
	flag.Parse()
	if *serveFloor != "" {
		if err := report.ServeFloor(*serveFloor); err != nil {
			fmt.Fprintln(os.Stderr, "hookline-bench:", err)
			os.Exit(1)
		}
		return
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hookline-bench:", err)
		os.Exit(1)
	}
	cfg.Floor = []string{self, "-serve-floor"}
	for _, s := range strings.Split(*sizes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "hookline-bench: --history: %q is not a positive count\n", s)
			os.Exit(2)
		}
		cfg.HistorySizes = append(cfg.HistorySizes, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := report.Run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hookline-bench:", err)
		os.Exit(1)
	}
}
