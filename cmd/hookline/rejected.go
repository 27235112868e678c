package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hookline/pkg/awsjson"
	"hookline/pkg/ddbstore"
	"hookline/pkg/event"
	"hookline/pkg/kmsseal"
	"hookline/pkg/local/engine"
	"hookline/pkg/localrun"
	"hookline/pkg/pipeline"
	"hookline/pkg/rejectedcli"
	"hookline/pkg/s3blob"
	"hookline/pkg/seal"
	"hookline/pkg/snsbus"
	"hookline/pkg/source"
)

const rejectedLong = `Shows the requests hookline refused (the quarantine) and readmits them.

Each refused request is kept 7 days, at most a configured number per source per minute
(hookline local --keep-per-minute): its source, the reason (unauthorized, not_found,
forbidden, too_large, unsupported_media, invalid, rate_limited), when, the caller's address,
the headers with every signature and authorization value redacted, and the body (the first
256 KiB). The redacted values are sealed with the data dir's quarantine.key, so readmit can
verify them again and nobody reading the list can reuse them.

readmit re-verifies a kept request with the sources config as it is now (as of the time it
arrived: a signed timestamp must have been fresh then) and, where it passes, publishes it
exactly as ingest would: same event id rules, so readmitting twice publishes nothing new.

Where (one of):
  --data DIR     a hookline local data dir (default .hookline, env HOOKLINE_DATA)
  --table NAME   the stack's DynamoDB events table (TableName output, env HOOKLINE_TABLE):
                 the refused requests ingest kept there. readmit also needs --topic-arn
                 (EventsTopicArn), the sources config (--sources-secret SourcesSecretArn, or
                 --sources FILE) and kms:Decrypt on the quarantine key (QuarantineKeyArn).`

func (c *app) rejectedCmd() *cobra.Command {
	return c.groupCmd("rejected", "refused requests: list, show, readmit (local data dir or DynamoDB)", rejectedLong,
		c.rejectedListCmd(), c.rejectedGetCmd(), c.rejectedReadmitCmd())
}

// rejectedFilters are the filters list and readmit share.
type rejectedFilters struct {
	source, reason, since, until string
}

func (f *rejectedFilters) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.source, "source", "", "only requests to this source")
	fs.StringVar(&f.reason, "reason", "", "only this reason: "+strings.Join(pipeline.Reasons(), ", "))
	fs.StringVar(&f.since, "since", "", "received at or after: a duration before now (1h) or an RFC 3339 time")
	fs.StringVar(&f.until, "until", "", "received before: a duration before now or an RFC 3339 time")
}

func (f *rejectedFilters) query(now time.Time) (pipeline.RejectedQuery, error) {
	q := pipeline.RejectedQuery{Source: f.source, Reason: f.reason}
	if f.reason != "" && !slices.Contains(pipeline.Reasons(), f.reason) {
		return q, usageErrorf("--reason: %q is not one of %s", f.reason, strings.Join(pipeline.Reasons(), ", "))
	}
	var err error
	q.Since, q.Until, err = timeBounds(f.since, f.until, now)
	return q, err
}

// quarantineFlags select the quarantine: a local data dir or the DynamoDB events table.
type quarantineFlags struct{ whereFlags }

func (f *quarantineFlags) register(fs *pflag.FlagSet) {
	f.whereFlags.register(fs, tableFlag, "hookline local data dir", "the stack's DynamoDB events table, instead of --data")
}

// quarantine is an open quarantine: its store and, for readmit, what publishes and opens.
type quarantine struct {
	store  pipeline.RejectedStore
	eng    *engine.Engine // local only
	cfg    aws.Config     // AWS only
	onAWS  bool
	closed func()
}

// open opens the quarantine the flags name.
func (f *quarantineFlags) open(ctx context.Context) (*quarantine, error) {
	onAWS, err := f.choose()
	if err != nil {
		return nil, err
	}
	if !onAWS {
		eng, err := openLocal(f.data)
		if err != nil {
			return nil, err
		}
		return &quarantine{store: eng.Rejected(), eng: eng, closed: func() { eng.Close() }}, nil
	}
	cfg, err := awsConfig(ctx, f.region)
	if err != nil {
		return nil, err
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { endpointOption(&o.BaseEndpoint, f.endpoint) })
	store, err := ddbstore.NewRejected(client, f.remote)
	if err != nil {
		return nil, fmt.Errorf("--table: %w", err)
	}
	return &quarantine{store: store, cfg: cfg, onAWS: true, closed: func() {}}, nil
}

func (c *app) rejectedListCmd() *cobra.Command {
	var where quarantineFlags
	var f rejectedFilters
	var asJSON bool
	cmd := listCmd("refused requests, newest first: a table, or --json lines", pipeline.DefaultLimit, "how many to show at most", func(cmd *cobra.Command, limit int) error {
		q, err := f.query(time.Now())
		if err != nil {
			return err
		}
		qr, err := where.open(cmd.Context())
		if err != nil {
			return err
		}
		defer qr.closed()
		return rejectedcli.List(cmd.Context(), c.stdout, qr.store, q, limit, asJSON)
	})
	fs := cmd.Flags()
	where.register(fs)
	f.register(fs)
	fs.BoolVar(&asJSON, "json", false, "one JSON object per line")
	completeWords(cmd, "reason", pipeline.Reasons()...)
	return cmd
}

func (c *app) rejectedGetCmd() *cobra.Command {
	var where quarantineFlags
	var asJSON bool
	cmd := leafCmd("get ID [flags]", "one refused request in full: why, headers (redacted), body", "", positional(1, 1, "rejection id"), func(cmd *cobra.Command, args []string) error {
		if !event.ValidID(args[0]) {
			return usageErrorf("%q is not a rejection id (a lower-case UUID)", args[0])
		}
		qr, err := where.open(cmd.Context())
		if err != nil {
			return err
		}
		defer qr.closed()
		return rejectedcli.Get(cmd.Context(), c.stdout, qr.store, args[0], asJSON)
	})
	where.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "the rejection as JSON, with its body")
	return cmd
}

func (c *app) rejectedReadmitCmd() *cobra.Command {
	var where quarantineFlags
	var sourcesFile, sourcesSecret, topicARN, bucket string
	var f rejectedFilters
	cmd := leafCmd("readmit ID | --source S --since 1h [flags]", "re-verify refused requests with the current sources config; publish those that pass", "", positional(0, 1, "rejection id"), func(cmd *cobra.Command, args []string) error {
		fs := cmd.Flags()
		filtered := fs.Changed("source") || fs.Changed("since") || fs.Changed("until") || fs.Changed("reason")
		switch {
		case len(args) == 1 && filtered:
			return usageErrorf("give a rejection id or --source/--since/--until/--reason, not both")
		case len(args) == 0 && !filtered:
			return usageErrorf("give a rejection id, or select with --source S --since 1h")
		case len(args) == 1 && !event.ValidID(args[0]):
			return usageErrorf("%q is not a rejection id (a lower-case UUID)", args[0])
		}
		onAWS, err := where.choose()
		if err != nil {
			return err
		}
		switch {
		case !onAWS && (fs.Changed("topic-arn") || fs.Changed("sources-secret") || fs.Changed("bucket")):
			return usageErrorf("--topic-arn, --sources-secret and --bucket: only with --table")
		case onAWS && topicARN == "":
			return usageErrorf("--topic-arn: required with --table (the stack's EventsTopicArn output)")
		case onAWS && sourcesSecret != "" && fs.Changed("sources"):
			return usageErrorf("--sources-secret and --sources: give one")
		case onAWS && sourcesSecret == "" && sourcesFile == "":
			return usageErrorf("--sources-secret: required with --table (the stack's SourcesSecretArn output; or a file with --sources)")
		}
		q, err := f.query(time.Now())
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		qr, err := where.open(ctx)
		if err != nil {
			return err
		}
		defer qr.closed()
		var r *pipeline.Readmitter
		if onAWS {
			r, err = awsReadmitter(ctx, qr, sourcesFile, sourcesSecret, topicARN, bucket)
		} else {
			r, err = localReadmitter(qr.eng, where.data, sourcesFile)
		}
		if err != nil {
			return err
		}
		if len(args) == 1 {
			res, err := r.Readmit(ctx, args[0])
			if pipeline.KindOf(err) == pipeline.KindNotFound && res.Rejection == nil {
				return err
			}
			rejectedcli.PrintReadmission(c.stdout, res, err, args[0])
			if err != nil {
				return fmt.Errorf("%s was not readmitted", args[0])
			}
			return nil
		}
		var published, already, refused int
		err = r.ReadmitAll(ctx, q, func(res pipeline.Readmission, err error) {
			rejectedcli.PrintReadmission(c.stdout, res, err, res.Rejection.ID)
			switch {
			case err != nil:
				refused++
			case res.Already:
				already++
			default:
				published++
			}
		})
		fmt.Fprintf(c.stdout, "readmitted %d, already readmitted %d, still refused %d\n", published, already, refused)
		return err
	})
	fs := cmd.Flags()
	where.register(fs)
	fs.StringVar(&sourcesFile, "sources", "", "the sources config to verify with (as hookline local runs with it); none = the data dir's demo sources")
	bindEnv(fs, "sources", "HOOKLINE_SOURCES")
	fs.StringVar(&sourcesSecret, "sources-secret", "", "with --table: the Secrets Manager secret ingest reads the sources config from")
	fs.StringVar(&topicARN, "topic-arn", "", "with --table: the SNS events topic to publish to")
	fs.StringVar(&bucket, "bucket", "", "with --table: the S3 body bucket, for a body too large for an SNS message (BodyBucketName)")
	f.register(fs)
	completeWords(cmd, "reason", pipeline.Reasons()...)
	return cmd
}

// awsReadmitter readmits from the events table into the SNS events topic, as ingest publishes:
// the sources config from its secret (or a file), bodies too large for SNS to the body bucket,
// the sealed header values opened with kms:Decrypt.
func awsReadmitter(ctx context.Context, qr *quarantine, sourcesFile, sourcesSecret, topicARN, bucket string) (*pipeline.Readmitter, error) {
	var raw []byte
	var err error
	if sourcesSecret != "" {
		out, err := secretsmanager.NewFromConfig(qr.cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(sourcesSecret)})
		if err != nil {
			return nil, fmt.Errorf("--sources-secret: %w", err)
		}
		raw = []byte(aws.ToString(out.SecretString))
	} else if raw, err = os.ReadFile(sourcesFile); err != nil {
		return nil, fmt.Errorf("--sources: %w", err)
	}
	sources, err := source.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the sources config: %w", err)
	}
	events, err := awsjson.New(ctx, qr.cfg, awsjson.SNS)
	if err != nil {
		return nil, err
	}
	in := &pipeline.Ingest{Sources: sources, Publisher: &snsbus.Publisher{Client: events, TopicARN: topicARN}}
	if bucket != "" {
		bodies, err := awsjson.New(ctx, qr.cfg, awsjson.S3)
		if err != nil {
			return nil, err
		}
		in.Blobs, in.MaxBody = &s3blob.Store{Client: bodies, Bucket: bucket}, pipeline.LambdaPayloadBytes
	}
	keys, err := awsjson.New(ctx, qr.cfg, awsjson.KMS)
	if err != nil {
		return nil, err
	}
	return &pipeline.Readmitter{Ingest: in, Store: qr.store, Opener: &kmsseal.Opener{Client: keys}}, nil
}

// localReadmitter readmits from a local data dir into its events topic: the running hookline
// local (or the next one) stores and emails what it publishes.
func localReadmitter(eng *engine.Engine, data, sourcesFile string) (*pipeline.Readmitter, error) {
	sources, err := localrun.LoadSources(data, sourcesFile)
	if err != nil {
		return nil, err
	}
	key, err := seal.Load(filepath.Join(data, localrun.QuarantineKeyFile))
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	return &pipeline.Readmitter{
		Ingest: &pipeline.Ingest{Sources: sources, Publisher: eng.Topic(localrun.EventsTopic)},
		Store:  eng.Rejected(),
		Opener: key,
	}, nil
}
