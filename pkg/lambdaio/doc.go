// Package lambdaio adapts Lambda events to hookline's services and back: API Gateway HTTP API
// (payload v2) requests to Ingest and History, SQS batches to Record, DynamoDB Stream batches
// to Notify. The same handlers run in Lambda (functions/*) and in the local runner
// (pkg/local/runner), and answer errors from the one table in pkg/problem.
package lambdaio
