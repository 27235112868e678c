// Command history is the history Lambda: GET /events and GET /events/{id} (IAM-authorized)
// over the DynamoDB events table's indexes.
package main

import (
	"context"
	"log/slog"

	"hookline/pkg/awsjson"
	"hookline/pkg/ddbhistory"
	"hookline/pkg/lambdaio"
	"hookline/pkg/lambdarun"
	"hookline/pkg/s3blob"
	"hookline/pkg/wiring"
)

func main() { lambdarun.Start(build) }

func build(ctx context.Context, env *lambdarun.Config, log *slog.Logger) (lambdaio.HTTPHandler, error) {
	table := env.Required(wiring.EnvTable)
	bucket := env.Required(wiring.EnvBodyBucket)
	// DynamoDB through awsjson, not the SDK's client: the function's reads (the registry's
	// GetItem, a Query per index partition, BatchGetItem, Get's GetItem) are ddbstore's
	// (ddbhistory's TestSameRequestsAsDDBStore), and the SDK's DynamoDB types package was two
	// thirds of its cold start over a hello world (README, "Cold start, and a trade we made").
	calls := env.Client(ctx, awsjson.DynamoDB)
	// Bodies stored by reference are read back from S3, or linked (a presigned GET) when the
	// answer would not fit Lambda's response; through awsjson too (pkg/s3blob says why).
	bodies := env.Client(ctx, awsjson.S3)
	if _, err := env.AWS(); err != nil {
		return nil, err
	}
	store, err := ddbhistory.New(calls, table)
	if err != nil {
		return nil, err
	}
	h := &lambdaio.HistoryHandler{History: store, Log: log, Blobs: &s3blob.Store{Client: bodies, Bucket: bucket}}
	return h.Handle, nil
}
