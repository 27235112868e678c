// Package lambdarun is the start-up every hookline Lambda shares: build the handler once at
// cold start from the environment, with the Lambda log handler (slog JSON carrying the request
// id, written without encoding/json for plain records: NewLogHandler), and fail the cold start
// with every configuration problem in the log.
package lambdarun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"hookline/pkg/awsjson"
	"hookline/pkg/envconf"
	"hookline/pkg/wiring"
)

// Build makes a function's handler from its environment; it runs once per cold start.
type Build[In, Out any] func(ctx context.Context, env *Config, log *slog.Logger) (Handler[In, Out], error)

// Handler serves one invocation: its event in, its response out.
type Handler[In, Out any] = func(context.Context, In) (Out, error)

// Config is what a build reads its environment through: envconf's reads, which collect every
// problem, Client, and AWS, which ends the reading.
type Config struct {
	*envconf.Reader
	getenv func(string) string
	errs   []error // the clients' problems
}

// NewConfig reads through getenv (Env.Getenv in Start, a map in tests).
func NewConfig(getenv func(string) string) *Config {
	return &Config{Reader: envconf.New(getenv), getenv: getenv}
}

// Client returns an awsjson client of svc configured by AWSConfig (its endpoint
// AWS_ENDPOINT_URL_<SERVICE> when set). It is a read like the others: nil when there is a
// problem, which AWS reports with theirs, so a build uses it only after AWS returned no error.
func (c *Config) Client(ctx context.Context, svc awsjson.Service) *awsjson.Client {
	cfg, err := AWSConfig(c.getenv)
	if err != nil {
		return nil // AWS reports it, once
	}
	client, err := awsjson.New(ctx, cfg, svc)
	if err != nil {
		c.errs = append(c.errs, err)
		return nil
	}
	return client
}

// AWS returns the function's AWS configuration (AWSConfig), or every problem of the reads made
// so far (the clients' included) together with AWSConfig's, so a misconfigured deploy fails
// with the whole list before the handler is built. A build makes its reads first, then calls
// AWS.
func (c *Config) AWS() (aws.Config, error) {
	cfg, err := AWSConfig(c.getenv)
	if err = errors.Join(c.Err(), errors.Join(c.errs...), err); err != nil {
		return aws.Config{}, err
	}
	return cfg, nil
}

// Start builds the handler and serves invocations. A build error, or a hookline variable the
// build never read, is logged and exits the process, which Lambda reports as a failed init.
// Every line logged during the first invocation carries cold_start: true and init_ms (the
// time from process start to the handler being ready), so a slow request is told apart from a
// cold one without Lambda's REPORT lines.
func Start[In, Out any](build Build[In, Out]) {
	started := time.Now()
	log := slog.New(ColdStartHandler(NewLogHandler()))
	env := NewEnv(os.Environ())
	h, err := build(context.Background(), NewConfig(env.Getenv), log)
	if err = errors.Join(err, env.Unread()); err != nil {
		log.Error("cold start failed", "error", err.Error(), "init_ms", msSince(started))
		os.Exit(1)
	}
	lambda.StartHandlerFunc(FirstInvocation(h, msSince(started)))
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

type coldStartKey struct{}

// FirstInvocation returns h with the context of its first call marked cold (initMs: how long
// the process took to get ready), which ColdStartHandler turns into log attributes.
func FirstInvocation[In, Out any](h Handler[In, Out], initMs float64) Handler[In, Out] {
	var first atomic.Bool
	first.Store(true)
	return func(ctx context.Context, in In) (Out, error) {
		if first.CompareAndSwap(true, false) {
			ctx = context.WithValue(ctx, coldStartKey{}, initMs)
		}
		return h(ctx, in)
	}
}

// ColdStartHandler adds cold_start: true and init_ms to the records logged with the context of
// a first invocation (FirstInvocation), and nothing to any other.
func ColdStartHandler(h slog.Handler) slog.Handler { return coldStart{h} }

type coldStart struct{ slog.Handler }

func (c coldStart) Handle(ctx context.Context, r slog.Record) error {
	if initMs, ok := ctx.Value(coldStartKey{}).(float64); ok {
		r = r.Clone()
		r.AddAttrs(slog.Bool("cold_start", true), slog.Float64("init_ms", initMs))
	}
	return c.Handler.Handle(ctx, r)
}

func (c coldStart) WithAttrs(attrs []slog.Attr) slog.Handler {
	return coldStart{c.Handler.WithAttrs(attrs)}
}

func (c coldStart) WithGroup(name string) slog.Handler { return coldStart{c.Handler.WithGroup(name)} }

// Env is the process environment as a getenv that remembers what was read.
type Env struct {
	vars map[string]string
	read map[string]bool
}

// NewEnv reads environ ("NAME=value" entries, as os.Environ returns them).
func NewEnv(environ []string) *Env {
	e := &Env{vars: map[string]string{}, read: map[string]bool{}}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		e.vars[k] = v
	}
	return e
}

// Getenv returns the variable's value ("" when unset) and remembers that it was read.
func (e *Env) Getenv(name string) string {
	e.read[name] = true
	return e.vars[name]
}

// Unread names the hookline variables that are set but were never read. The stack and the
// function disagree on such a name (misspelt, renamed on one side only, or meant for another
// function), and the function would silently run on a default instead.
func (e *Env) Unread() error {
	var names []string
	for k := range e.vars {
		if strings.HasPrefix(k, wiring.EnvPrefix) && !e.read[k] {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	return fmt.Errorf("configuration: %s set but not read by this function (misspelt, or meant for another function?)", strings.Join(names, ", "))
}
