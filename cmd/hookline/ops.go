package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"hookline/pkg/local/engine"
	"hookline/pkg/localrun"
)

// openLocal opens the database of a `hookline local` data dir for the CLI. The server may be
// running and writing it: SQLite's WAL lets both work. The CLI never sweeps expired rows
// (that is the server's job) and never creates a database where there is none.
func openLocal(dir string) (*engine.Engine, error) {
	if dir == "" { // as `hookline local --data ""` takes it
		dir = localrun.DefaultDataDir
	}
	path := filepath.Join(dir, localrun.DBFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no hookline database in %s: run `hookline local` first", dir)
	} else if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	eng, err := engine.Open(path, engine.Options{SweepInterval: -1, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	return eng, nil
}

// awsConfig loads the default credential chain and region, with --region overriding.
func awsConfig(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, usageErrorf("--region: no AWS region: pass --region or set AWS_REGION")
	}
	return cfg, nil
}

// endpointOption points an SDK client at --endpoint (a DynamoDB- or SQS-compatible server).
// Without --endpoint the client keeps the AWS config's endpoint (AWS_ENDPOINT_URL, a profile's
// endpoint_url): setting nil there would send the request to AWS instead.
func endpointOption(dst **string, endpoint string) {
	if endpoint != "" {
		*dst = aws.String(endpoint)
	}
}
