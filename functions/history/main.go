// Command history is the history Lambda: GET /events and GET /events/{id} (IAM-authorized)
// over the DynamoDB events table's indexes.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbstore"
	"hookline/pkg/envconf"
	"hookline/pkg/lambdaio"
)

func main() {
	log := lambdacontext.NewLogger()
	h, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.StartHandlerFunc(h.Handle)
}

func build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*lambdaio.HistoryHandler, error) {
	env := envconf.New(getenv)
	table := env.Required("HOOKLINE_TABLE")
	shards := env.Int("HOOKLINE_TIME_SHARDS", ddbitem.DefaultTimeShards, 1, 64)
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
	return &lambdaio.HistoryHandler{History: store, Log: log}, nil
}
