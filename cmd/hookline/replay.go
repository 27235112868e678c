package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"hookline/pkg/awsjson"
	"hookline/pkg/localrun"
	"hookline/pkg/pipeline"
	"hookline/pkg/snsbus"
)

const replayLong = `Publishes stored events again to the events topic, with the message attribute replay=true,
so another subscriber of the topic (a new consumer backfilling) receives them. hookline's own
subscriber counts them as duplicates: no new item, no email.

Where (one of):
  --data DIR                       a hookline local data dir: its topic, read by the running
                                   (or next) hookline local and every queue subscribed to it
  --table NAME --topic-arn ARN     the DynamoDB events table and the SNS events topic (the
                                   stack's TableName and EventsTopicArn outputs)

A progress bar is drawn on a terminal; a summary is printed at the end.`

func (c *app) replayCmd() *cobra.Command {
	var hf historyFlags
	var qf queryFlags
	var topicARN string
	var dryRun bool
	var concurrency int
	cmd := leafCmd("replay --since 24h [--source S] [--type T] [--until …] [--dry-run] [flags]", "publish stored events to the events topic again (replay=true), for a new subscriber", replayLong, positional(0, 0, ""), func(cmd *cobra.Command, _ []string) error {
		fs := cmd.Flags()
		switch {
		case qf.since == "":
			return usageErrorf("--since: required (a duration before now such as 24h, or an RFC 3339 time)")
		case concurrency < 1 || concurrency > 64:
			return usageErrorf("--concurrency: %d is not from 1 to 64", concurrency)
		case fs.Changed("topic-arn") && !hf.awsChosen():
			return usageErrorf("--topic-arn: only with --table")
		case hf.awsChosen() && topicARN == "" && !dryRun:
			return usageErrorf("--topic-arn: required with --table (the stack's EventsTopicArn output)")
		}
		q, err := qf.query(time.Now())
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		history, closeHistory, err := hf.open(ctx)
		if err != nil {
			return err
		}
		defer closeHistory()
		r := &pipeline.Replayer{History: history, Concurrency: concurrency}
		target := "the events topic of " + hf.data
		if hf.awsChosen() {
			cfg, err := awsConfig(ctx, hf.region)
			if err != nil {
				return err
			}
			events, err := awsjson.New(ctx, cfg, awsjson.SNS)
			if err != nil {
				return err
			}
			r.Publisher = &snsbus.Publisher{Client: events, TopicARN: topicARN}
			target = topicARN
		} else {
			eng, err := openLocal(hf.data)
			if err != nil {
				return err
			}
			defer eng.Close()
			r.Publisher = eng.Topic(localrun.EventsTopic)
		}
		start := time.Now()
		var progress func()
		if !dryRun && isTerminal(c.stderr) {
			total, err := r.Count(ctx, q)
			if err != nil {
				return err
			}
			bar := newProgressBar(c.stderr, total)
			defer bar.Close()
			progress = func() { _ = bar.Add(1) }
		}
		res, err := r.Replay(ctx, q, dryRun, progress)
		ms := float64(time.Since(start).Microseconds()) / 1000
		if dryRun {
			fmt.Fprintf(c.stdout, "would replay %d events to %s (dry run: nothing published)\n", res.Matched, target)
			return err
		}
		fmt.Fprintf(c.stdout, "replayed %d of %d events to %s with replay=true in %.0fms\n", res.Published, res.Matched, target, ms)
		return err
	})
	fs := cmd.Flags()
	hf.register(fs)
	qf.register(fs)
	fs.Lookup("json").Hidden = true // list's --json: replay prints a summary only
	fs.StringVar(&topicARN, "topic-arn", "", "SNS events topic to publish to, with --table")
	fs.BoolVar(&dryRun, "dry-run", false, "only count the events that would be replayed")
	fs.IntVar(&concurrency, "concurrency", 8, "publishes in flight at once")
	return cmd
}

// newProgressBar draws a bar of total steps on w (a terminal).
func newProgressBar(w io.Writer, total int) *progressbar.ProgressBar {
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("replaying"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}
