package main

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"hookline/pkg/awsjson"
	"hookline/pkg/ddbstore"
	"hookline/pkg/email"
	"hookline/pkg/event"
	"hookline/pkg/localrun"
	"hookline/pkg/pipeline"
	"hookline/pkg/snsbus"
)

const notifyLong = `Sends the completion emails the notifier did not send: for stored events whose notified_at is
empty (the stream gave up on them after its retries, the mailer was down), or for one event.
It sends through the notifier's own service, so it is idempotent with the notifier's mark:
an event already notified is skipped, and one sent here is marked notified.

  --pending [--older-than 15m] [--since 24h]   every event stored but not notified, stored longer
                                               ago than --older-than (younger ones are left to the
                                               notifier): locally all of them (the engine indexes
                                               them); on AWS those received within --since/--until
  --resend ID [--force]                        one event, unless it is already notified (--force:
                                               even then, for an email SNS could not deliver)

Where (one of):
  --data DIR                     a hookline local data dir; emails go where hookline local sends
                                 them (the outbox, or --smtp as for hookline local)
  --table NAME --topic-arn ARN   the DynamoDB events table and the SNS notifications topic (the
                                 stack's TableName and NotificationsTopicArn outputs)

Locally the notifier's given-up stream records are listed by hookline dlq list --stream; on
AWS they wait in the NotifyFailures queue (the NotifyFailuresNotEmpty alarm). Their events
are what --pending finds; send them, then empty that queue.`

func (c *app) notifyCmd() *cobra.Command {
	var hf historyFlags
	var qf queryFlags
	cfg := localrun.Config{}
	var pending, force bool
	var resend, topicARN string
	var olderThan time.Duration
	cmd := leafCmd("notify --pending [--older-than 15m] | --resend ID [flags]", "send the completion emails the notifier did not (idempotent with its mark)", notifyLong, positional(0, 0, ""), func(cmd *cobra.Command, _ []string) error {
		fs := cmd.Flags()
		aws := hf.awsChosen()
		switch {
		case !pending && resend == "":
			return usageErrorf("give --pending or --resend ID")
		case pending && resend != "":
			return usageErrorf("--pending and --resend: give one, not both")
		case force && resend == "":
			return usageErrorf("--force: only with --resend")
		case resend != "" && !event.ValidID(resend):
			return usageErrorf("--resend: %q is not an event id (a lower-case UUID)", resend)
		case olderThan < 0:
			return usageErrorf("--older-than: %v is negative", olderThan)
		case fs.Changed("topic-arn") && !aws:
			return usageErrorf("--topic-arn: only with --table")
		case aws && topicARN == "":
			return usageErrorf("--topic-arn: required with --table (the stack's NotificationsTopicArn output)")
		case aws && (fs.Changed("smtp") || fs.Changed("smtp-tls")):
			return usageErrorf("--smtp and --smtp-tls: only with a local data dir")
		}
		ctx := cmd.Context()
		composer, err := email.NewComposer(cfg.Templates, 0)
		if err != nil {
			return err
		}
		r := &pipeline.Renotifier{Notify: &pipeline.Notify{Composer: composer}}
		if aws {
			awsCfg, err := awsConfig(ctx, hf.region)
			if err != nil {
				return err
			}
			store, err := ddbstore.New(dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { endpointOption(&o.BaseEndpoint, hf.endpoint) }),
				hf.remote)
			if err != nil {
				return fmt.Errorf("--table: %w", err)
			}
			r.History, r.Notify.Store = store, store
			notifications, err := awsjson.New(ctx, awsCfg, awsjson.SNS)
			if err != nil {
				return err
			}
			r.Notify.Mailer = &snsbus.Mailer{Client: notifications, TopicARN: topicARN}
		} else {
			if fs.Changed("region") || fs.Changed("endpoint") {
				return usageErrorf("--region and --endpoint: only with --table")
			}
			if err := checkMailAddresses(cfg); err != nil {
				return err
			}
			cfg.DataDir = hf.data
			cfg.SMTPUser, cfg.SMTPPassword = c.env("HOOKLINE_SMTP_USER"), c.env("HOOKLINE_SMTP_PASSWORD")
			mailer, err := localrun.NewMailer(cfg)
			if err != nil {
				return usageErrorf("%v", err)
			}
			eng, err := openLocal(hf.data)
			if err != nil {
				return err
			}
			defer eng.Close()
			r.History, r.Notify.Store, r.Notify.Mailer = eng.Events(), eng.Events(), mailer
		}
		if resend != "" {
			at, err := r.Resend(ctx, resend, force)
			switch {
			case err != nil:
				return fmt.Errorf("email for %s: %w", resend, err)
			case !at.IsZero():
				fmt.Fprintf(c.stdout, "%s  already notified at %s; nothing sent (--force sends it again)\n", resend, at.UTC().Format(time.RFC3339Nano))
			default:
				fmt.Fprintf(c.stdout, "%s  sent\n", resend)
			}
			return nil
		}
		q, err := qf.query(time.Now())
		if err != nil {
			return err
		}
		res, err := r.Pending(ctx, q, olderThan, func(id string, sent bool, err error) {
			switch {
			case err != nil:
				fmt.Fprintf(c.stdout, "%s  failed: %v\n", id, err)
			case sent:
				fmt.Fprintf(c.stdout, "%s  sent\n", id)
			default:
				fmt.Fprintf(c.stdout, "%s  already notified meanwhile; nothing sent\n", id)
			}
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "sent %d of %d pending (%d notified meanwhile, %d failed)\n", res.Sent, res.Pending, res.Skipped, len(res.Failed))
		if len(res.Failed) > 0 {
			return fmt.Errorf("%d emails failed again; run it again once the mailer works", len(res.Failed))
		}
		return nil
	})
	fs := cmd.Flags()
	hf.register(fs)
	qf.register(fs)
	fs.Lookup("json").Hidden = true
	fs.Lookup("since").DefValue = "24h"
	qf.since = "24h"
	fs.BoolVar(&pending, "pending", false, "email every stored event without its email (see --older-than; on AWS --since)")
	fs.DurationVar(&olderThan, "older-than", 15*time.Minute, "only events stored longer ago than this")
	fs.StringVar(&resend, "resend", "", "email this one event, unless it is already notified")
	fs.BoolVar(&force, "force", false, "with --resend: send even if the event is notified (an email the inbox never got); the first notified time stays")
	fs.StringVar(&topicARN, "topic-arn", "", "SNS notifications topic, with --table")
	registerMailer(fs, &cfg)
	return cmd
}
