// Command history is the history Lambda: GET /events and GET /events/{id} (IAM-authorized)
// over the DynamoDB events table's indexes.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"hookline/pkg/awsjson"
	"hookline/pkg/ddbhistory"
	"hookline/pkg/lambdaio"
	"hookline/pkg/lambdarun"
	"hookline/pkg/s3blob"
	"hookline/pkg/wiring"
)

func main() { lambdarun.Start(build) }

func build(ctx context.Context, env *lambdarun.Config, log *slog.Logger) (func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error), error) {
	table := env.Required(wiring.EnvTable)
	bucket := env.Required(wiring.EnvBodyBucket)
	// DynamoDB through awsjson, not the SDK's client: the function's reads (the registry's
	// GetItem, a Query per index partition, BatchGetItem, Get's GetItem) are ddbstore's
	// (ddbhistory's TestSameRequestsAsDDBStore), and the SDK's DynamoDB types package was two
	// thirds of its cold start over a hello world (README, "Cold start, and a trade we made").
	calls := env.Client(ctx, awsjson.DynamoDB)
	cfg, err := env.AWS()
	if err != nil {
		return nil, err
	}
	store, err := ddbhistory.New(calls, table)
	if err != nil {
		return nil, err
	}
	// Bodies stored by reference are read back from S3, or linked (a presigned GET) when the
	// answer would not fit Lambda's response.
	s3c := s3.NewFromConfig(cfg)
	blobs := &s3blob.Store{Client: s3c, Presign: s3.NewPresignClient(s3c), Bucket: bucket}
	h := &lambdaio.HistoryHandler{History: store, Log: log, Blobs: blobs}
	return h.Handle, nil
}
