// Package lambdarun is the start-up every hookline Lambda shares: build the handler once at
// cold start from the environment, with the Lambda log handler (slog JSON carrying the request
// id), and fail the cold start with every configuration problem in the log.
package lambdarun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"hookline/pkg/wiring"
)

// Build makes a function's handler from its environment; it runs once per cold start.
type Build[In, Out any] func(ctx context.Context, getenv func(string) string, log *slog.Logger) (func(context.Context, In) (Out, error), error)

// Start builds the handler and serves invocations. A build error, or a hookline variable the
// build never read, is logged and exits the process, which Lambda reports as a failed init.
func Start[In, Out any](build Build[In, Out]) {
	log := lambdacontext.NewLogger()
	env := NewEnv(os.Environ())
	h, err := build(context.Background(), env.Getenv, log)
	if err = errors.Join(err, env.Unread()); err != nil {
		log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.StartHandlerFunc(h)
}

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
