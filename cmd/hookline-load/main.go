// Command hookline-load sends signed webhooks to a running `hookline local` at a fixed rate and
// reports time to 202, 202→stored and 202→emailed. See BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"hookline/internal/bench/loadgen"
	"hookline/internal/cli"
)

var command = cli.Command{Name: "hookline-load", Run: run}

func main() { command.Main() }

func run(ctx context.Context, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	var cfg loadgen.Config
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "hookline base URL (loopback only)")
	fs.StringVar(&cfg.Source, "source", "demo", "a github-scheme source")
	secretFile := fs.String("secret-file", ".hookline/demo-secret", "file holding the source's secret")
	fs.IntVar(&cfg.Rate, "rate", 500, "requests per second (0 = as fast as the workers go)")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to send")
	fs.IntVar(&cfg.Workers, "workers", 64, "concurrent connections")
	fs.IntVar(&cfg.BodySize, "body", 1024, "JSON body size in bytes")
	fs.DurationVar(&cfg.Settle, "settle", 60*time.Second, "how long to wait for processing to finish")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if !strings.HasPrefix(cfg.URL, "http://127.") && !strings.HasPrefix(cfg.URL, "http://localhost") {
		return cli.Usagef("--url must be a loopback address")
	}
	b, err := os.ReadFile(*secretFile)
	if err != nil {
		return cli.Usagef("%w", err)
	}
	cfg.Secret = strings.TrimSpace(string(b))
	res, err := loadgen.Run(ctx, cfg)
	fmt.Fprintln(stdout, res)
	return err
}
