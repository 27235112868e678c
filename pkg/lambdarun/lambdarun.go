// Package lambdarun is the start-up every hookline Lambda shares: build the handler once at
// cold start from the environment, with the Lambda log handler (slog JSON carrying the request
// id), and fail the cold start with every configuration problem in the log.
package lambdarun

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Build makes a function's handler from its environment; it runs once per cold start.
type Build[In, Out any] func(ctx context.Context, getenv func(string) string, log *slog.Logger) (func(context.Context, In) (Out, error), error)

// Start builds the handler and serves invocations. A build error is logged and exits the
// process, which Lambda reports as a failed init.
func Start[In, Out any](build Build[In, Out]) {
	log := lambdacontext.NewLogger()
	h, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.StartHandlerFunc(h)
}
