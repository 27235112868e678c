// Command hookline-load sends signed webhooks to a running `hookline local` at a fixed rate and
// reports time to 202, 202→stored and 202→emailed. See BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"hookline/internal/bench/loadgen"
)

func main() {
	var cfg loadgen.Config
	flag.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "hookline base URL (loopback only)")
	flag.StringVar(&cfg.Source, "source", "demo", "a github-scheme source")
	secretFile := flag.String("secret-file", ".hookline/demo-secret", "file holding the source's secret")
	flag.IntVar(&cfg.Rate, "rate", 500, "requests per second (0 = as fast as the workers go)")
	flag.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to send")
	flag.IntVar(&cfg.Workers, "workers", 64, "concurrent connections")
	flag.IntVar(&cfg.BodySize, "body", 1024, "JSON body size in bytes")
	flag.DurationVar(&cfg.Settle, "settle", 60*time.Second, "how long to wait for processing to finish")
	flag.Parse()
	if !strings.HasPrefix(cfg.URL, "http://127.") && !strings.HasPrefix(cfg.URL, "http://localhost") {
		fmt.Fprintln(os.Stderr, "hookline-load: --url must be a loopback address")
		os.Exit(2)
	}
	b, err := os.ReadFile(*secretFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hookline-load:", err)
		os.Exit(2)
	}
	cfg.Secret = strings.TrimSpace(string(b))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := loadgen.Run(ctx, cfg)
	fmt.Println(res)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hookline-load:", err)
		os.Exit(1)
	}
}
