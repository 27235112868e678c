package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hookline/pkg/dlq"
	"hookline/pkg/dlq/sqsdlq"
	"hookline/pkg/local/localdlq"
	"hookline/pkg/localrun"
)

const dlqLong = `Inspects and redrives the dead-letter queue: messages that failed every delivery.

Where the DLQ is (one of):
  --data DIR        a hookline local data dir (default .hookline, env HOOKLINE_DATA)
  --queue-url URL   an SQS dead-letter queue (env HOOKLINE_DLQ_URL), with --region, --endpoint`

func (c *app) dlqCmd() *cobra.Command {
	return c.groupCmd("dlq", "inspect and redrive the dead-letter queue (local or SQS)", dlqLong,
		c.dlqListCmd(), c.dlqRedriveCmd())
}

// queueFlags selects the DLQ: a local data dir or an SQS queue.
type queueFlags struct{ whereFlags }

func (q *queueFlags) register(fs *pflag.FlagSet) {
	q.whereFlags.register(fs, queueURLFlag, "hookline local data dir", "URL of the SQS dead-letter queue, instead of --data")
}

// open returns the queue and a func that releases it.
func (q *queueFlags) open(ctx context.Context) (dlq.Queue, func(), error) {
	onAWS, err := q.choose()
	if err != nil {
		return nil, nil, err
	}
	if onAWS {
		cfg, err := awsConfig(ctx, q.region)
		if err != nil {
			return nil, nil, err
		}
		client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { endpointOption(&o.BaseEndpoint, q.endpoint) })
		return &sqsdlq.Queue{Client: client, QueueURL: q.remote}, func() {}, nil
	}
	eng, err := openLocal(q.data)
	if err != nil {
		return nil, nil, err
	}
	return &localdlq.Queue{Engine: eng, Name: localrun.EventsDLQ}, func() { eng.Close() }, nil
}

func (c *app) dlqListCmd() *cobra.Command {
	var qf queueFlags
	var asJSON, stream bool
	cmd := listCmd("the dead messages: receives, when they died, why, which event", 100, "how many messages to show at most", func(cmd *cobra.Command, limit int) error {
		ctx := cmd.Context()
		if stream && qf.fs.Changed("queue-url") {
			return usageErrorf("--stream: only with a local data dir; on AWS list the NotifyFailuresUrl queue with --queue-url")
		}
		if stream {
			eng, err := openLocal(qf.data)
			if err != nil {
				return err
			}
			defer eng.Close()
			msgs, err := (&localdlq.StreamFailures{Engine: eng, Consumer: localrun.StreamConsumer}).List(ctx, limit)
			if err != nil {
				return err
			}
			return printDLQ(c.stdout, msgs, asJSON)
		}
		q, closeQueue, err := qf.open(ctx)
		if err != nil {
			return err
		}
		defer closeQueue()
		msgs, err := q.List(ctx, limit)
		if err != nil {
			return err
		}
		return printDLQ(c.stdout, msgs, asJSON)
	})
	qf.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	cmd.Flags().BoolVar(&stream, "stream", false, "list the notifier's given-up stream records instead (local only; on AWS they are in the NotifyFailuresUrl queue)")
	return cmd
}

func (c *app) dlqRedriveCmd() *cobra.Command {
	var qf queueFlags
	cmd := leafCmd("redrive [flags]", "send every dead message back to the queue it came from", "", positional(0, 0, ""), func(cmd *cobra.Command, _ []string) error {
		q, closeQueue, err := qf.open(cmd.Context())
		if err != nil {
			return err
		}
		defer closeQueue()
		r, err := q.Redrive(cmd.Context())
		if err != nil {
			return err
		}
		return printRedriven(c.stdout, r)
	})
	qf.register(cmd.Flags())
	return cmd
}
