// Command hookline is the command line of the hookline webhook pipeline.
//
//	hookline local [flags]   run the whole pipeline in one process (see --help)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"hookline/pkg/local"
	"hookline/pkg/localrun"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hookline:", err)
		}
		os.Exit(2)
	}
}

const usage = `hookline — receive webhooks, verify them, store them once, email when done.

usage:
  hookline local [flags]              run the whole pipeline in one process on 127.0.0.1
  hookline events list|get|tail ...   read the event history (local data dir or DynamoDB)
  hookline send [flags] BODY          sign a webhook as a provider would and post it
  hookline dlq list|redrive ...       inspect and redrive the dead-letter queue (local or SQS)

run "hookline <command> --help" for its flags.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "local":
		return runLocal(ctx, args[1:], getenv, stdout, stderr)
	case "events":
		return runEvents(ctx, args[1:], getenv, stdout, stderr)
	case "send":
		return runSend(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "dlq":
		return runDLQ(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

func runLocal(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookline local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := localrun.Config{}
	fs.StringVar(&cfg.Addr, "addr", envOr(getenv, "HOOKLINE_ADDR", "127.0.0.1:8080"), "listen address (env HOOKLINE_ADDR)")
	fs.StringVar(&cfg.DataDir, "data", envOr(getenv, "HOOKLINE_DATA", ".hookline"), "state directory: database, outbox, demo secrets (env HOOKLINE_DATA)")
	fs.StringVar(&cfg.SourcesFile, "sources", getenv("HOOKLINE_SOURCES"), "sources config JSON file; none = a generated demo source (env HOOKLINE_SOURCES)")
	fs.StringVar(&cfg.SMTPAddr, "smtp", getenv("HOOKLINE_SMTP"), "send emails to this SMTP host:port instead of writing .eml files (env HOOKLINE_SMTP)")
	fs.StringVar(&cfg.MailFrom, "mail-from", "", "From address of completion emails (default hookline <hookline@localhost>)")
	fs.StringVar(&cfg.MailTo, "mail-to", "", "To address of completion emails (default ops <ops@localhost>)")
	fs.StringVar(&cfg.Templates, "templates", "", "directory of email templates (<type>.tmpl, default.tmpl)")
	fs.DurationVar(&cfg.Visibility, "visibility-timeout", localrun.DefaultVisibilityTimeout, "queue visibility timeout before a failed message is retried")
	fs.IntVar(&cfg.MaxReceives, "max-receives", localrun.DefaultMaxReceiveCount, "deliveries of a message before it moves to the DLQ")
	fs.IntVar(&cfg.BatchSize, "batch-size", 10, "messages per subscriber batch (SQS event source BatchSize)")
	fs.DurationVar(&cfg.BatchWindow, "batch-window", time.Second, "longest wait to fill a subscriber batch; never delays messages already waiting")
	fs.IntVar(&cfg.Pollers, "pollers", 4, "concurrent subscriber batches")
	fs.IntVar(&cfg.StreamBatch, "stream-batch-size", 10, "records per notifier batch (stream event source BatchSize)")
	fs.IntVar(&cfg.StreamParallel, "stream-parallel", 10, "notifier batches in flight at once (Lambda's ParallelizationFactor)")
	durability := fs.String("durability", "process", `"process": every 202 survives kill -9 of hookline; "full": also power loss (fsync per commit, slower)`)
	level := fs.String("log-level", "info", "debug, info, warn or error")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file until shutdown (for load runs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("local: unexpected argument %q", fs.Arg(0))
	}
	switch *durability {
	case "full":
		cfg.Durability = local.DurabilityPowerLoss
	case "process":
		cfg.Durability = local.DurabilityProcess
	default:
		return fmt.Errorf(`--durability: %q is neither "full" nor "process"`, *durability)
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(*level))); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	cfg.Log = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lv}))
	if cfg.BatchSize < 1 || cfg.BatchSize > 10 {
		return fmt.Errorf("--batch-size: %d is not from 1 to 10 (SQS's limit)", cfg.BatchSize)
	}
	if cfg.Pollers < 1 || cfg.StreamBatch < 1 || cfg.StreamParallel < 1 || cfg.BatchWindow < 0 {
		return errors.New("--pollers, --stream-batch-size and --stream-parallel must be at least 1, --batch-window not negative")
	}
	if cfg.Visibility < time.Second {
		return fmt.Errorf("--visibility-timeout: %v is under 1s", cfg.Visibility)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	return localrun.Run(ctx, cfg, stdout, nil)
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
