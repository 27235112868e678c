// Command hookline-bench runs the bounded loopback load runs and prints the dated Markdown
// section of a run; `make bench` writes it to docs/benchmarks/ and as BENCHMARKS.md's latest run.
package main

import (
	"context"
	"flag"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"hookline/internal/bench/report"
	"hookline/internal/cli"
)

var command = cli.Command{Name: "hookline-bench", Run: run}

func main() { command.Main() }

func run(ctx context.Context, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	var cfg report.Config
	fs.StringVar(&cfg.Bin, "bin", "build/hookline", "the hookline binary to run")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "length of each load run")
	fs.IntVar(&cfg.Rate, "rate", 1000, "requests per second of the fixed-rate run")
	serveFloor := fs.String("serve-floor", "", "serve the floor (a bare net/http 202 server) on this address and nothing else; the load runs start it so")
	fs.BoolVar(&cfg.SkipLoad, "skip-load", false, "only the history query run")
	sizes := fs.String("history", "1000,100000", "comma-separated table sizes for history query latency")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *serveFloor != "" {
		return report.ServeFloor(*serveFloor)
	}
	for _, s := range strings.Split(*sizes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return cli.Usagef("--history: %q is not a positive count", s)
		}
		cfg.HistorySizes = append(cfg.HistorySizes, n)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.Floor = []string{self, "-serve-floor"}
	return report.Run(ctx, cfg, stdout)
}
