package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hookline/pkg/email"
	"hookline/pkg/emailpolicy"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/runner"
	"hookline/pkg/localrun"
	"hookline/pkg/pipeline"
	"hookline/pkg/wiring"
)

const localLong = `Runs the whole pipeline in one process on 127.0.0.1: the HTTP routes of API Gateway, the
ingest, subscriber and notifier handlers, a durable SQLite engine for the topic, queues, DLQ,
events table and its change stream, and a mailer that appends to an mbox outbox (or sends SMTP).
Stop it with Ctrl-C: queued work resumes on the next start. Unless GOMAXPROCS is set, it runs
Go with at least 4 Ps: a request then waits less for the pipeline's own work to let it in.`

func (c *app) localCmd() *cobra.Command {
	cfg := localrun.Config{}
	var durability, level, logFormat, cpuprofile, emailPolicy string
	cmd := &cobra.Command{
		Use:   "local [flags]",
		Short: "run the whole pipeline in one process on 127.0.0.1",
		Long:  localLong,
		Args:  positional(0, 0, ""),
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen address")
	bindEnv(fs, "addr", "HOOKLINE_ADDR")
	fs.StringVar(&cfg.DataDir, "data", localrun.DefaultDataDir, "state directory: database, outbox, demo secrets")
	bindEnv(fs, "data", "HOOKLINE_DATA")
	fs.StringVar(&cfg.SourcesFile, "sources", "", "sources config JSON file; none = a generated demo source")
	bindEnv(fs, "sources", "HOOKLINE_SOURCES")
	registerMailer(fs, &cfg)
	fs.StringVar(&emailPolicy, "email-policy", "", `which events get an email, and which a digest: JSON or @FILE, as the stack's emailPolicy context, e.g. {"sources": {"github": {"types": ["issues."]}, "stripe": {"digest": "5m"}}}; default every event`)
	bindEnv(fs, "email-policy", wiring.EnvEmailPolicy)
	// Defaults: the stack's own settings (pkg/wiring) and the runner's local tuning.
	fs.DurationVar(&cfg.Visibility, "visibility-timeout", wiring.VisibilityTimeout, "queue visibility timeout before a failed message is retried (6 × the subscriber's timeout + its batch window, as on AWS)")
	fs.IntVar(&cfg.MaxReceives, "max-receives", wiring.MaxReceiveCount, "deliveries of a message before it moves to the DLQ")
	fs.IntVar(&cfg.BatchSize, "batch-size", wiring.SubscriberBatchSize, "messages per subscriber batch (SQS event source BatchSize)")
	fs.DurationVar(&cfg.BatchWindow, "batch-window", wiring.SubscriberBatchWindow, "longest wait to fill a subscriber batch; never delays messages already waiting")
	fs.IntVar(&cfg.Pollers, "pollers", runner.DefaultConcurrency, "concurrent subscriber batches")
	fs.IntVar(&cfg.BusyPollers, "busy-pollers", runner.DefaultBusyConcurrency, "subscriber batches while webhooks arrive: the other pollers wait for the burst to end, or for an event to wait "+wiring.SubscriberBatchWindow.String()+" (--busy-pollers ≥ --pollers: never wait)")
	fs.IntVar(&cfg.StreamBatch, "stream-batch-size", wiring.NotifierBatchSize, "records per notifier batch (stream event source BatchSize)")
	fs.IntVar(&cfg.StreamParallel, "stream-parallel", runner.DefaultParallelizationFactor, "notifier batches in flight at once (Lambda's ParallelizationFactor)")
	fs.IntVar(&cfg.KeepPerMinute, "keep-per-minute", pipeline.DefaultKeepPerMinute, "refused requests kept per source per minute, 7 days each (hookline rejected)")
	fs.StringVar(&durability, "durability", "process", `"process": every 202 survives kill -9 of hookline; "full": also power loss (fsync per commit, slower)`)
	fs.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&logFormat, "log-format", "", "text or json (default text when stderr is a terminal, else json)")
	fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile to this file until shutdown (for load runs)")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow a non-loopback --addr; every route but /webhooks/ then requires the admin token")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "bearer token for the history, the web view and every read route (at least 16 bytes)")
	bindEnv(fs, "admin-token", "HOOKLINE_ADMIN_TOKEN")
	fs.BoolVar(&cfg.TrustProxy, "trust-proxy", false, "take the caller's address (for source allowlists) from the last X-Forwarded-For hop: only behind a reverse proxy that sets it")
	completeWords(cmd, "durability", "process", "full")
	completeWords(cmd, "log-level", "debug", "info", "warn", "error")
	completeWords(cmd, "log-format", "text", "json")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		switch durability {
		case "full":
			cfg.Durability = engine.DurabilityPowerLoss
		case "process":
			cfg.Durability = engine.DurabilityProcess
		default:
			return usageErrorf(`--durability: %q is neither "full" nor "process"`, durability)
		}
		if err := checkMailAddresses(cfg); err != nil {
			return err
		}
		cfg.SMTPUser, cfg.SMTPPassword = c.env("HOOKLINE_SMTP_USER"), c.env("HOOKLINE_SMTP_PASSWORD")
		switch {
		case (cfg.SMTPUser == "") != (cfg.SMTPPassword == ""):
			return usageErrorf("HOOKLINE_SMTP_USER and HOOKLINE_SMTP_PASSWORD: set both or neither")
		case cfg.SMTPAddr == "" && (cfg.SMTPRequireTLS || cfg.SMTPUser != ""):
			return usageErrorf("--smtp-tls and HOOKLINE_SMTP_USER need --smtp HOST:PORT (without it, emails go to the outbox file)")
		}
		if cfg.SMTPAddr != "" {
			if err := (&email.SMTP{Addr: cfg.SMTPAddr}).Check(); err != nil {
				return usageErrorf("--smtp: %w", err)
			}
		}
		if emailPolicy != "" {
			text := emailPolicy
			if name, ok := strings.CutPrefix(emailPolicy, "@"); ok {
				b, err := os.ReadFile(name)
				if err != nil {
					return usageErrorf("--email-policy: %w", err)
				}
				text = string(b)
			}
			p, err := emailpolicy.Parse(text)
			if err != nil {
				return usageErrorf("--email-policy: %w", err)
			}
			cfg.EmailPolicy = p
		}
		log, err := newLogger(c.stderr, level, logFormat)
		if err != nil {
			return err
		}
		cfg.Log = log
		switch {
		case cfg.BatchSize < 1 || cfg.BatchSize > 10:
			return usageErrorf("--batch-size: %d is not from 1 to 10 (SQS's limit)", cfg.BatchSize)
		// The runner's knobs stay within what the event source mappings they stand for take
		// on AWS: a typo such as --pollers 40000 would otherwise start an idle server that
		// burns a core (100,000 pollers: 100 % CPU and 500 MB with no traffic).
		case cfg.Pollers < 1 || cfg.Pollers > 1000:
			return usageErrorf("--pollers: %d is not from 1 to 1000 (an SQS event source's maximum concurrency)", cfg.Pollers)
		case cfg.BusyPollers < 1 || cfg.BusyPollers > 1000:
			return usageErrorf("--busy-pollers: %d is not from 1 to 1000", cfg.BusyPollers)
		case cfg.StreamBatch < 1 || cfg.StreamBatch > 10000:
			return usageErrorf("--stream-batch-size: %d is not from 1 to 10000 (a DynamoDB stream event source's BatchSize)", cfg.StreamBatch)
		case cfg.StreamParallel < 1 || cfg.StreamParallel > 10:
			return usageErrorf("--stream-parallel: %d is not from 1 to 10 (Lambda's ParallelizationFactor)", cfg.StreamParallel)
		case cfg.BatchWindow < 0 || cfg.BatchWindow > 5*time.Minute:
			return usageErrorf("--batch-window: %v is not from 0s to 5m0s (an SQS event source's MaximumBatchingWindowInSeconds)", cfg.BatchWindow)
		case cfg.MaxReceives < 1 || cfg.MaxReceives > 1000:
			return usageErrorf("--max-receives: %d is not from 1 to 1000 (SQS's maxReceiveCount)", cfg.MaxReceives)
		case cfg.KeepPerMinute < 1:
			return usageErrorf("--keep-per-minute: %d is not a positive number", cfg.KeepPerMinute)
		case cfg.Visibility < time.Second:
			return usageErrorf("--visibility-timeout: %v is under 1s", cfg.Visibility)
		}
		localProcs(c.getenv)
		if cpuprofile != "" {
			f, err := os.Create(cpuprofile)
			if err != nil {
				return fmt.Errorf("--cpuprofile: %w", err)
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return fmt.Errorf("--cpuprofile: %w", err)
			}
			defer pprof.StopCPUProfile()
		}
		return localrun.Run(cmd.Context(), cfg, c.stdout, nil)
	}
	return cmd
}

// localMinProcs is the fewest Ps (GOMAXPROCS) hookline local runs with unless GOMAXPROCS is
// set. Go's scheduler looks for requests that have arrived only when a P runs out of goroutines
// (or every 10 ms); with one P per core of a 2-core machine the pipeline's own goroutines (the
// writer, the pollers, the notifier's batches) often keep both busy, and a request waited up to
// ~10 ms to be read. With more Ps than cores one is free more often and the kernel shares the
// cores: fewer requests over 7 ms at 1,000 req/s in 5 of 7 pairs at load 2-18, and flat out
// more events accepted and processed per second at the same CPU per event
// (docs/benchmarks/2026-12-02-issue-13-round-11-p99.md).
const localMinProcs = 4

// localProcs raises GOMAXPROCS to localMinProcs unless the environment's GOMAXPROCS chose it.
func localProcs(getenv func(string) string) {
	if getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < localMinProcs {
		runtime.GOMAXPROCS(localMinProcs)
	}
}

// newLogger builds the slog logger of `hookline local`: text for a person at a terminal,
// JSON (one object a line, for tools) otherwise or when asked.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, usageErrorf("--log-level: %q is not debug, info, warn or error", level)
	}
	if format == "" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, usageErrorf(`--log-format: %q is neither "text" nor "json"`, format)
	}
}

// isTerminal reports whether w is a terminal (a person reads it).
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// completeWords offers a flag's fixed values to shell completion.
func completeWords(cmd *cobra.Command, flag string, words ...string) {
	if err := cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(words, cobra.ShellCompDirectiveNoFileComp)); err != nil {
		panic(err)
	}
}

// checkMailAddresses refuses a --mail-from or --mail-to that is not an email address before
// anything runs: the mailer would refuse every email, and the notifier retry each until its
// stream gave up.
func checkMailAddresses(cfg localrun.Config) error {
	for _, f := range [...]struct{ flag, addr string }{{"--mail-from", cfg.MailFrom}, {"--mail-to", cfg.MailTo}} {
		if f.addr == "" {
			continue
		}
		if _, err := mail.ParseAddress(f.addr); err != nil {
			return usageErrorf("%s: %q is not an email address (%v)", f.flag, f.addr, err)
		}
	}
	return nil
}

// registerMailer adds the flags that choose and address the mailer: hookline local's, and
// hookline notify's, which sends the emails local's notifier did not.
func registerMailer(fs *pflag.FlagSet, cfg *localrun.Config) {
	fs.StringVar(&cfg.SMTPAddr, "smtp", "", "send emails to this SMTP host:port instead of appending them to <data>/outbox/outbox.mbox")
	bindEnv(fs, "smtp", "HOOKLINE_SMTP")
	fs.BoolVar(&cfg.SMTPRequireTLS, "smtp-tls", false, "require STARTTLS from the SMTP server (it is used whenever offered); AUTH from HOOKLINE_SMTP_USER and HOOKLINE_SMTP_PASSWORD")
	bindEnv(fs, "smtp-tls", "HOOKLINE_SMTP_TLS")
	fs.StringVar(&cfg.MailFrom, "mail-from", "", "From address of completion emails (default hookline <hookline@localhost>)")
	fs.StringVar(&cfg.MailTo, "mail-to", "", "To address of completion emails (default ops <ops@localhost>)")
	fs.StringVar(&cfg.Templates, "templates", "", "directory of email templates (<type>.tmpl, default.tmpl)")
}
