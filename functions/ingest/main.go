// Command ingest is the ingest Lambda: API Gateway (HTTP API) → verify → SNS events topic;
// what it refuses goes to the quarantine in the events table.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"hookline/pkg/awsjson"
	"hookline/pkg/ddbkeep"
	"hookline/pkg/kmsseal"
	"hookline/pkg/lambdaio"
	"hookline/pkg/lambdarun"
	"hookline/pkg/metrics"
	"hookline/pkg/pipeline"
	"hookline/pkg/s3blob"
	"hookline/pkg/snsbus"
	"hookline/pkg/source"
	"hookline/pkg/wiring"
)

func main() { lambdarun.Start(build) }

// build reads the configuration once and wires the handler: clients are built here, never per
// request.
func build(ctx context.Context, env *lambdarun.Config, log *slog.Logger) (lambdaio.HTTPHandler, error) {
	topic := env.Required(wiring.EnvTopicARN)
	secretARN := env.Required(wiring.EnvSourcesSecretARN)
	ttl := env.Duration(wiring.EnvSourcesTTL, wiring.DefaultSourcesTTL)
	bucket := env.Required(wiring.EnvBodyBucket)
	table := env.Required(wiring.EnvTable)
	quarantineKey := env.Required(wiring.EnvQuarantineKey)
	keepPerMinute := env.Int(wiring.EnvKeepPerMinute, wiring.DefaultKeepPerMinute, 1, wiring.MaxKeepPerMinute)
	// Secrets Manager, DynamoDB, KMS, SNS and S3 through awsjson, not their SDK clients: this
	// function makes one or two calls of each, and their SDK packages' initialisation took about
	// a third of its cold start (README, "Cold start, and a trade we made").
	sm, tableCalls := env.Client(ctx, awsjson.SecretsManager), env.Client(ctx, awsjson.DynamoDB)
	keys, topicCalls := env.Client(ctx, awsjson.KMS), env.Client(ctx, awsjson.SNS)
	bodies := env.Client(ctx, awsjson.S3)
	if _, err := env.AWS(); err != nil {
		return nil, err
	}
	sources := &source.Refresher{
		TTL: ttl,
		Log: log,
		Fetch: func(ctx context.Context) ([]byte, error) {
			var out struct{ SecretString *string }
			if err := sm.Call(ctx, "GetSecretValue", struct{ SecretId string }{secretARN}, &out); err != nil {
				return nil, fmt.Errorf("get secret %s: %w", secretARN, err)
			}
			if out.SecretString == nil {
				return nil, errors.New("secret " + secretARN + " has no string value: put the sources JSON in it")
			}
			return []byte(*out.SecretString), nil
		},
	}
	if err := sources.Load(ctx); err != nil {
		return nil, err
	}
	// Refused requests are kept in the events table under their own prefix (ddbstore.Rejected),
	// at most keepPerMinute per source and minute across every instance (its counter items),
	// their signatures sealed under the quarantine key (ingest may only make data keys).
	quarantine, err := ddbkeep.New(tableCalls, table)
	if err != nil {
		return nil, err
	}
	keeper := &pipeline.Keeper{
		Store: quarantine, Quota: quarantine, PerMinute: keepPerMinute, Log: log,
		Sealer: &kmsseal.Sealer{Client: keys, KeyID: quarantineKey},
	}
	h := &lambdaio.IngestHandler{
		Service: &pipeline.Ingest{
			Sources:   sources,
			Publisher: &snsbus.Publisher{Client: topicCalls, TopicARN: topic},
			// Bodies whose envelope would not fit an SNS message go to S3 first (claim check),
			// up to what a Lambda invocation carries.
			Blobs:      &s3blob.Store{Client: bodies, Bucket: bucket},
			MaxBody:    pipeline.LambdaPayloadBytes,
			Quarantine: keeper,
		},
		Log: log,
		// EMF lines on stdout become CloudWatch metrics: Accepted, Rejected by Reason, and
		// SignatureKeyMatch (rotation tracking: which secret matched).
		Metrics: &metrics.EMF{W: os.Stdout},
	}
	// GET /healthz: the function started and the sources config is readable (see HealthHandler).
	health := &lambdaio.HealthHandler{Log: log, Check: func(ctx context.Context) error {
		_, _, err := sources.Lookup(ctx, "")
		return err
	}}
	return lambdaio.ByRoute(map[string]lambdaio.HTTPHandler{
		"GET /healthz": health.Handle,
	}, h.Handle), nil
}
