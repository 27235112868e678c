// Package localrun assembles `hookline local`: the same Lambda handlers as on AWS (ingest,
// subscriber, notifier, history) wired to the embedded engine (pkg/local/engine), driven by the
// event source mappings of pkg/local/runner, behind pkg/local/gateway, which speaks API
// Gateway's payload format. cmd/hookline only parses flags and calls Run.
package localrun

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
	"hookline/pkg/email"
	"hookline/pkg/emailpolicy"
	"hookline/pkg/lambdaio"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/gateway"
	"hookline/pkg/local/runner"
	"hookline/pkg/localmetrics"
	"hookline/pkg/pipeline"
	"hookline/pkg/ratelimit"
	"hookline/pkg/seal"
	"hookline/pkg/source"
	"hookline/pkg/webui"
	"hookline/pkg/wiring"
)

// Names of the local topology; the CDK stack creates the same pieces on AWS.
const (
	EventsTopic    = "events"
	EventsQueue    = "events"
	EventsDLQ      = "events-dlq"
	StreamConsumer = "notifier"
	DBFile         = "hookline.db"
	// DefaultDataDir is the data dir when none (or "") is given, the server's and the CLI's.
	DefaultDataDir = ".hookline"
	OutboxDir      = "outbox"
	// QuarantineKeyFile seals the secret-bearing headers of refused requests (pkg/seal); the
	// CLI's readmit opens them with it.
	QuarantineKeyFile = "quarantine.key"
	// LockFile is held (flock) by the `hookline local` serving the data dir, for its life.
	LockFile = "hookline.lock"
)

// Config is everything `hookline local` can be told.
type Config struct {
	Addr        string // listen address; default 127.0.0.1:8080
	DataDir     string // default .hookline
	SourcesFile string // "" = generate demo sources in DataDir
	SMTPAddr    string // "" = append to the mbox in DataDir/outbox
	MailFrom    string
	MailTo      string
	Templates   string        // email templates directory; "" = built-in
	Visibility  time.Duration // queue visibility timeout; 0 means the stack's (wiring.VisibilityTimeout)
	MaxReceives int           // maxReceiveCount before the DLQ; 0 means the stack's (wiring.MaxReceiveCount)
	Durability  engine.Durability
	// SMTP relay settings (email.SMTP): STARTTLS required; AUTH credentials.
	SMTPRequireTLS         bool
	SMTPUser, SMTPPassword string
	// Runner settings; zero values take runner.Runner's defaults, whose batch sizes and window
	// are the stack's (pkg/wiring).
	BatchSize      int
	BatchWindow    time.Duration
	Pollers        int
	BusyPollers    int // pollers that keep working while webhooks arrive (runner.Runner.BusyConcurrency)
	StreamBatch    int
	StreamParallel int
	Log            *slog.Logger
	// KeepPerMinute is how many refused requests per source the quarantine keeps each minute;
	// 0 means pipeline.DefaultKeepPerMinute.
	KeepPerMinute int
	// Clock is ingest's clock (receive times, signed-timestamp tolerance, rate limits); nil
	// means time.Now. Tests set it to replay provider-signed requests at their signing time.
	Clock func() time.Time
	// Access beyond this machine. A non-loopback Addr needs AllowRemote, which needs an
	// AdminToken: every route but /webhooks/ then requires it (see guard).
	AllowRemote bool
	AdminToken  string
	// TrustProxy takes the caller's address (for source allowlists) from the last
	// X-Forwarded-For hop instead of the TCP peer: only behind a reverse proxy that sets it.
	TrustProxy bool
	// EmailPolicy says which events get an email, and which a digest (emailpolicy, as the
	// stack's emailPolicy context sets it); the zero value emails every event.
	EmailPolicy emailpolicy.Policy
	// DigestEvery is how often the digests that are due go out; 0 means a minute, as the
	// stack's schedule.
	DigestEvery time.Duration
}

func (c *Config) defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Visibility <= 0 {
		c.Visibility = wiring.VisibilityTimeout
	}
	if c.MaxReceives <= 0 {
		c.MaxReceives = wiring.MaxReceiveCount
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
}

// Run serves until ctx is cancelled, then stops taking requests, drains in-flight work and
// closes the engine. ready, if not nil, receives the bound address once the server listens.
func Run(ctx context.Context, cfg Config, stdout io.Writer, ready chan<- string) error {
	cfg.defaults()
	log := cfg.Log
	if err := checkAccess(cfg.Addr, cfg.AllowRemote, cfg.AdminToken); err != nil {
		return err
	}
	if err := restrictDataDir(cfg.DataDir); err != nil {
		return err
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	sources, demo, err := loadSources(cfg)
	if err != nil {
		return err
	}
	composer, err := email.NewComposer(cfg.Templates, 0)
	if err != nil {
		return err
	}
	mailer, err := NewMailer(cfg)
	if err != nil {
		return err
	}

	eng, err := engine.Open(filepath.Join(cfg.DataDir, DBFile), engine.Options{Durability: cfg.Durability, Log: log, HandOff: engine.DefaultHandOff})
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := setupTopology(ctx, eng, cfg); err != nil {
		return err
	}
	store := eng.Events()
	// The counters the functions publish as EMF on AWS, served at GET /metrics.
	stats := localmetrics.New(pendingAge(store))

	sealKey, err := seal.LoadOrCreate(filepath.Join(cfg.DataDir, QuarantineKeyFile))
	if err != nil {
		return err
	}
	keeper := &pipeline.Keeper{Store: eng.Rejected(), Sealer: sealKey, PerMinute: cfg.KeepPerMinute, Log: log}
	// Bodies too large for a bus message stay in the engine's blob table (the claim check), up
	// to GitHub's 25 MB; nothing here has Lambda's response limit.
	blobs := eng.Blobs()
	// One process sees every request to a source, so here a per-source bucket is the source's
	// rate limit (on AWS it would only see one Lambda instance's share: API Gateway throttles).
	ingest := &lambdaio.IngestHandler{Service: &pipeline.Ingest{Sources: sources, Publisher: eng.Topic(EventsTopic), Limiter: &ratelimit.PerSource{}, Now: cfg.Clock, Quarantine: keeper, Blobs: blobs, MaxBody: pipeline.LocalMaxBodyBytes}, Log: log, Metrics: stats}
	history := &lambdaio.HistoryHandler{History: store, Log: log, Blobs: blobs, MaxResponse: math.MaxInt}
	subscriber := &lambdaio.SubscriberHandler{Service: &pipeline.Record{Events: store}, Log: log, Metrics: stats}
	policy := cfg.EmailPolicy
	if policy.Sources == nil {
		policy = emailpolicy.Default()
	}
	// Locally emails are not paced: an outbox or an SMTP relay has no 10-a-second limit.
	notifier := &lambdaio.NotifierHandler{DecodeImage: ddbitem.FromStreamImage, Log: log, Metrics: stats,
		Service: &pipeline.Notify{Store: store, Composer: composer, Mailer: mailer, Policy: policy.Decide, Digests: store}}
	if every := policy.Digests(); len(every) > 0 {
		notifier.Digest = &pipeline.Digest{Every: every, Store: store, Events: store, Marker: store, Composer: composer, Mailer: mailer}
	}

	arrived := newArrivals()
	gw := &gateway.Gateway{Log: log, TrustProxy: cfg.TrustProxy, MaxBodyBytes: pipeline.LocalMaxBodyBytes, Routes: []gateway.Route{
		{Method: "ANY", Pattern: "/webhooks/{source}", Handler: arrived.note(ingest.Handle)},
		{Method: http.MethodGet, Pattern: "/events", Handler: history.Handle},
		{Method: http.MethodGet, Pattern: "/events/{id}", Handler: history.Handle},
		{Method: http.MethodGet, Pattern: "/healthz", Handler: healthz(eng)},
	}}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another hookline running? use --addr)", cfg.Addr, err)
	}
	hosts, err := newHostSet(cfg.Addr)
	if err != nil {
		ln.Close()
		return err
	}
	if a, err := netip.ParseAddrPort(ln.Addr().String()); err == nil && !a.Addr().IsUnspecified() {
		hosts.ips[a.Addr().Unmap()] = true
	}
	// GET / and /ui/... are the web view for people; every other path is the API as before.
	ui := webui.New(store, filepath.Join(cfg.DataDir, OutboxDir), log).WithRejected(eng.Rejected()).WithRotation(store, sources)
	front := &guard{hosts: hosts, next: withMetrics(stats.Handler(), webui.Mount(ui, gw))}
	if cfg.AdminToken != "" {
		sum := sha256.Sum256([]byte(cfg.AdminToken))
		front.tokenSum = &sum
	}
	srv := &http.Server{Handler: front, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}

	runCtx, stopRunner := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRunner()
	runner := &runner.Runner{
		Engine: eng, Queue: EventsQueue, Subscriber: subscriber.Handle,
		StreamConsumer: StreamConsumer, Notifier: notifier.Handle, Log: log,
		BatchSize: cfg.BatchSize, BatchWindow: cfg.BatchWindow, Concurrency: cfg.Pollers, StreamBatchSize: cfg.StreamBatch,
		ParallelizationFactor: cfg.StreamParallel,
		// Ingest first: a burst is acknowledged at the front door's speed and processed
		// right after it, within the stack's own batch window (runner.Runner.Busy).
		Busy: arrived.busy, BusyConcurrency: cfg.BusyPollers,
	}
	runnerDone := make(chan error, 1)
	go func() { runnerDone <- runner.Run(runCtx) }()
	digestDone := make(chan struct{})
	go func() { defer close(digestDone); flushDigests(runCtx, notifier.Digest, cfg.DigestEvery, log) }()
	// The banner is complete before the first request is answered (the listener already
	// queues connections), so whoever sees /healthz answer also sees the whole banner.
	printBanner(stdout, "http://"+ln.Addr().String(), cfg, sources, demo)
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ln) }()
	if ready != nil {
		ready <- ln.Addr().String()
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-serveDone:
	}
	// Stop taking requests first (in-flight ones finish and get their 202), then let the
	// runner finish the batches it holds; whatever is still queued waits in the file.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("http shutdown", "error", err.Error())
	}
	stopRunner()
	if err := <-runnerDone; err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("runner stopped with an error", "error", err.Error())
	}
	<-digestDone
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	log.Info("stopped; queued work resumes on the next start", "data", cfg.DataDir)
	return nil
}

// flushDigests is the stack's digest schedule: every every (a minute by default) it sends the
// digests that are due, until ctx ends. A failed flush is logged and retried on the next tick.
func flushDigests(ctx context.Context, d *pipeline.Digest, every time.Duration, log *slog.Logger) {
	if d == nil {
		return
	}
	if every <= 0 {
		every = time.Minute
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if sent, err := d.Flush(ctx); err != nil {
				log.Warn("digest flush failed; the next tick retries", "sent", sent, "error", err.Error())
			} else if sent > 0 {
				log.Info("digests sent", "sent", sent)
			}
		}
	}
}

// withMetrics serves GET /metrics (Prometheus text format) from metrics and everything else
// from next. The route exists only locally: on AWS the same counters are CloudWatch metrics.
func withMetrics(metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			metrics.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// pendingAge is how long the oldest stored event without its email has waited.
func pendingAge(store *engine.Store) localmetrics.PendingAge {
	return func(ctx context.Context) (time.Duration, error) {
		at, ok, err := store.OldestPending(ctx)
		if err != nil || !ok {
			return 0, err
		}
		return time.Since(at), nil
	}
}

// NewMailer is the mailer cfg describes: the mbox in the data dir's outbox, or SMTP when
// SMTPAddr is set. `hookline notify` sends with the same one.
func NewMailer(cfg Config) (pipeline.Mailer, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.SMTPAddr == "" {
		if cfg.SMTPRequireTLS || cfg.SMTPUser != "" || cfg.SMTPPassword != "" {
			return nil, errors.New("smtp: TLS and credentials settings need an SMTP address")
		}
		return &email.Outbox{
			Dir: filepath.Join(cfg.DataDir, OutboxDir), From: cfg.MailFrom, To: cfg.MailTo,
			Sync: cfg.Durability == engine.DurabilityPowerLoss,
		}, nil
	}
	m := &email.SMTP{Addr: cfg.SMTPAddr, From: cfg.MailFrom, To: cfg.MailTo,
		RequireTLS: cfg.SMTPRequireTLS, Username: cfg.SMTPUser, Password: cfg.SMTPPassword}
	if err := m.Check(); err != nil {
		return nil, err
	}
	return m, nil
}

// restrictDataDir makes the data dir and the outbox 0700, and the database and emails 0600,
// also when an earlier version (or a person) created them with looser modes: they hold every
// event's data. The database file is created private before SQLite opens it, because SQLite
// gives its -wal and -shm files the database file's mode.
func restrictDataDir(dir string) error {
	outbox := filepath.Join(dir, OutboxDir)
	for _, d := range []string{dir, outbox} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
	}
	db := filepath.Join(dir, DBFile)
	f, err := os.OpenFile(db, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	f.Close()
	files := []string{db, db + "-wal", db + "-shm", db + "-journal"}
	emails, err := os.ReadDir(outbox)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	for _, e := range emails {
		if e.Type().IsRegular() {
			files = append(files, filepath.Join(outbox, e.Name()))
		}
	}
	for _, p := range files {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("data dir: %w", err)
		}
	}
	return nil
}

func setupTopology(ctx context.Context, eng *engine.Engine, cfg Config) error {
	if err := eng.CreateQueue(ctx, EventsDLQ, engine.QueueConfig{VisibilityTimeout: cfg.Visibility}); err != nil {
		return err
	}
	if err := eng.CreateQueue(ctx, EventsQueue, engine.QueueConfig{VisibilityTimeout: cfg.Visibility, MaxReceiveCount: cfg.MaxReceives, DeadLetterQueue: EventsDLQ}); err != nil {
		return err
	}
	return eng.Subscribe(ctx, EventsTopic, EventsQueue)
}

func healthz(eng *engine.Engine) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		visible, inflight, err := eng.Depth(ctx, EventsQueue)
		var dead int
		if err == nil {
			dead, _, err = eng.Depth(ctx, EventsDLQ)
		}
		if err != nil {
			return lambdaio.ProblemResponse(&pipeline.Error{Kind: pipeline.KindUnavailable, Detail: "the local engine cannot be read", Err: err}, "/healthz"), nil
		}
		body := fmt.Sprintf(`{"status":"ok","queue":{"visible":%d,"in_flight":%d},"dlq":%d}`, visible, inflight, dead)
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: body}, nil
	}
}

// demoSecrets are generated once per data dir, so printed curl commands keep working across
// restarts.
type demoSecrets struct{ GitHub, Token string }

// LoadSources is the sources config `hookline local` runs with: the file, or the demo sources
// of dataDir (generated on first use). The CLI's readmit verifies with it.
func LoadSources(dataDir, sourcesFile string) (*source.Set, error) {
	set, _, err := loadSources(Config{DataDir: dataDir, SourcesFile: sourcesFile})
	return set, err
}

func loadSources(cfg Config) (*source.Set, *demoSecrets, error) {
	if cfg.SourcesFile != "" {
		set, err := source.Load(cfg.SourcesFile)
		return set, nil, err
	}
	d := &demoSecrets{}
	var err error
	if d.GitHub, err = persistentSecret(filepath.Join(cfg.DataDir, "demo-secret")); err != nil {
		return nil, nil, err
	}
	if d.Token, err = persistentSecret(filepath.Join(cfg.DataDir, "postman-token")); err != nil {
		return nil, nil, err
	}
	set, err := source.New(source.File{Sources: map[string]source.Config{
		"demo":    {Scheme: source.SchemeGitHub, Secrets: []string{d.GitHub}},
		"postman": {Scheme: source.SchemeToken, Secrets: []string{d.Token}},
	}})
	return set, d, err
}

func persistentSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate a dev secret: %w", err)
	}
	s := "dev-" + hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}
