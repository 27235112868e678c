// Package lambdaio adapts Lambda events to hookline's services and back: API Gateway HTTP API
// (payload v2) requests to Ingest and History, SQS batches to Record, DynamoDB Stream batches
// to Notify. The same handlers run in Lambda (functions/*) and in the local runner
// (pkg/local/runner), and answer errors from the one table in pkg/problem.
package lambdaio

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// The handlers' shapes by trigger, as the functions hand them to lambdarun.Start: an HTTP API
// request answered with a response (ingest, history), and a batch of queue messages answered
// with the ones that failed (subscriber).
type (
	HTTPHandler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	SQSHandler  = func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
)
