package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"hookline/pkg/dlq"
	"hookline/pkg/localrun"
)

const dlqUsage = `usage:
  hookline dlq list [flags]       the dead messages: receives, when they died, why, which event
  hookline dlq list --stream      (local) the stored events whose email the notifier gave up on
  hookline dlq redrive [flags]    send every dead message back to the queue it came from

where the DLQ is (one of):
  --data DIR                      a hookline local data dir (default .hookline, env HOOKLINE_DATA)
  --queue-url URL                 an SQS dead-letter queue (env HOOKLINE_DLQ_URL), with --region, --endpoint
`

func runDLQ(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, dlqUsage)
		return errors.New("dlq: no subcommand: list or redrive")
	}
	sub := args[0]
	switch sub {
	case "list", "redrive":
	case "-h", "--help", "help":
		fmt.Fprint(stdout, dlqUsage)
		return nil
	default:
		fmt.Fprint(stderr, dlqUsage)
		return fmt.Errorf("dlq: unknown subcommand %q: list or redrive", sub)
	}
	fs := flag.NewFlagSet("hookline dlq "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr(getenv, "HOOKLINE_DATA", ".hookline"), "hookline local data dir (env HOOKLINE_DATA)")
	queueURL := fs.String("queue-url", getenv("HOOKLINE_DLQ_URL"), "URL of the SQS dead-letter queue, instead of --data (env HOOKLINE_DLQ_URL)")
	region := fs.String("region", "", "AWS region of --queue-url (default: the AWS config's)")
	endpoint := fs.String("endpoint", "", "SQS endpoint URL, for an SQS-compatible server")
	limit, asJSON, stream := new(int), new(bool), new(bool)
	if sub == "list" {
		fs.IntVar(limit, "limit", 100, "how many messages to show at most")
		fs.BoolVar(asJSON, "json", false, "one JSON object per line")
		fs.BoolVar(stream, "stream", false, "list the notifier's given-up stream records instead (local only; on AWS they are in the NotifyFailuresUrl queue)")
	}
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("dlq %s: unexpected argument %q", sub, pos[0])
	case sub == "list" && *limit < 1:
		return fmt.Errorf("--limit: %d is not a positive number", *limit)
	case flagSet(fs, "data") && flagSet(fs, "queue-url"):
		return errors.New("--data and --queue-url: give one: a local data dir or an SQS queue")
	case *stream && flagSet(fs, "queue-url"):
		return errors.New("--stream: only with a local data dir; on AWS list the NotifyFailuresUrl queue with --queue-url")
	}
	if *stream {
		eng, err := openLocal(*data)
		if err != nil {
			return err
		}
		defer eng.Close()
		msgs, err := (&dlq.StreamFailures{Engine: eng, Consumer: localrun.StreamConsumer}).List(ctx, *limit)
		if err != nil {
			return err
		}
		return dlq.Print(stdout, msgs, *asJSON)
	}

	var q dlq.Queue
	if *queueURL != "" && !flagSet(fs, "data") {
		cfg, err := awsConfig(ctx, *region)
		if err != nil {
			return err
		}
		client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = endpointOption(*endpoint) })
		q = &dlq.SQS{Client: client, QueueURL: *queueURL}
	} else {
		if flagSet(fs, "region") || flagSet(fs, "endpoint") {
			return errors.New("--region and --endpoint: only with --queue-url")
		}
		eng, err := openLocal(*data)
		if err != nil {
			return err
		}
		defer eng.Close()
		q = &dlq.Local{Engine: eng, Name: localrun.EventsDLQ}
	}

	if sub == "redrive" {
		r, err := q.Redrive(ctx)
		if err != nil {
			return err
		}
		return dlq.PrintRedriven(stdout, r)
	}
	msgs, err := q.List(ctx, *limit)
	if err != nil {
		return err
	}
	return dlq.Print(stdout, msgs, *asJSON)
}
