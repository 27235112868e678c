// Command subscriber is the subscriber Lambda: SQS events queue → DynamoDB events table,
// exactly once per event id.
package main

import (
	"context"
	"log/slog"
	"os"

	"hookline/pkg/awsjson"
	"hookline/pkg/ddbput"
	"hookline/pkg/lambdaio"
	"hookline/pkg/lambdarun"
	"hookline/pkg/metrics"
	"hookline/pkg/pipeline"
	"hookline/pkg/wiring"
)

func main() { lambdarun.Start(build) }

func build(ctx context.Context, env *lambdarun.Config, log *slog.Logger) (lambdaio.SQSHandler, error) {
	table := env.Required(wiring.EnvTable)
	retention := env.Duration(wiring.EnvRetention, wiring.Retention)
	// DynamoDB through awsjson, not the SDK's client: the function's two calls (a conditional
	// PutItem per event, the registry's UpdateItem once per history partition) are ddbstore's
	// (ddbput's TestSameRequestsAsDDBStore), and the SDK's DynamoDB types package was all of its
	// cold start over a hello world (README, "Cold start, and a trade we made").
	calls := env.Client(ctx, awsjson.DynamoDB)
	if _, err := env.AWS(); err != nil {
		return nil, err
	}
	store, err := ddbput.New(calls, table, retention)
	if err != nil {
		return nil, err
	}
	// EMF lines on stdout become CloudWatch metrics: Stored, Duplicate, ReceiptToStoredMs.
	h := &lambdaio.SubscriberHandler{Service: &pipeline.Record{Events: store}, Log: log, Metrics: &metrics.EMF{W: os.Stdout}}
	return h.Handle, nil
}
