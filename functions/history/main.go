// Command history is the history Lambda: GET /events and GET /events/{id} (IAM-authorized)
// over the DynamoDB events table's indexes.
package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hookline/pkg/ddbstore"
	"hookline/pkg/envconf"
	"hookline/pkg/lambdaio"
	"hookline/pkg/lambdarun"
	"hookline/pkg/wiring"
)

func main() { lambdarun.Start(build) }

func build(ctx context.Context, getenv func(string) string, log *slog.Logger) (func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error), error) {
	env := envconf.New(getenv)
	table := env.Required(wiring.EnvTable)
	shards := env.Int(wiring.EnvTimeShards, wiring.DefaultTimeShards, wiring.MinTimeShards, wiring.MaxTimeShards)
	if err := env.Err(); err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	store, err := ddbstore.New(dynamodb.NewFromConfig(cfg), table, ddbstore.WithTimeShards(shards))
	if err != nil {
		return nil, err
	}
	h := &lambdaio.HistoryHandler{History: store, Log: log}
	return h.Handle, nil
}
