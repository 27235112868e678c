package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hookline/pkg/ddbstore"
	"hookline/pkg/historycli"
	"hookline/pkg/pipeline"
)

const eventsLong = `Reads the event history: what arrived, whether it was stored, whether the email went out.

Where the history is (one of):
  --data DIR     a hookline local data dir (default .hookline, env HOOKLINE_DATA)
  --table NAME   a DynamoDB table (env HOOKLINE_TABLE), with --region, --endpoint`

func (c *app) eventsCmd() *cobra.Command {
	return c.groupCmd("events", "read the event history (local data dir or DynamoDB)", eventsLong,
		c.eventsListCmd(), c.eventsGetCmd(), c.eventsTailCmd())
}

// historyFlags selects the history: a local data dir or a DynamoDB table.
type historyFlags struct{ whereFlags }

func (h *historyFlags) register(fs *pflag.FlagSet) {
	h.whereFlags.register(fs, tableFlag, "hookline local data dir to read", "DynamoDB events table to read instead of --data")
}

// openQuery parses the query flags (a usage error opens nothing) and opens the history to run
// the query on, with a func that releases it.
func (h *historyFlags) openQuery(ctx context.Context, qf *queryFlags) (pipeline.History, pipeline.Query, func(), error) {
	q, err := qf.query(time.Now())
	if err != nil {
		return nil, q, nil, err
	}
	history, release, err := h.open(ctx)
	return history, q, release, err
}

// open returns the history and a func that releases it.
func (h *historyFlags) open(ctx context.Context) (pipeline.History, func(), error) {
	onAWS, err := h.choose()
	if err != nil {
		return nil, nil, err
	}
	if !onAWS {
		eng, err := openLocal(h.data)
		if err != nil {
			return nil, nil, err
		}
		return eng.Events(), func() { eng.Close() }, nil
	}
	cfg, err := awsConfig(ctx, h.region)
	if err != nil {
		return nil, nil, err
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { endpointOption(&o.BaseEndpoint, h.endpoint) })
	store, err := ddbstore.New(client, h.remote)
	if err != nil {
		return nil, nil, fmt.Errorf("--table: %w", err)
	}
	return store, func() {}, nil
}

// queryFlags are the filters list and tail share.
type queryFlags struct {
	source, typ, since, until string
	json                      bool
}

func (q *queryFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&q.source, "source", "", "only events from this source")
	fs.StringVar(&q.typ, "type", "", "only events of this type")
	fs.StringVar(&q.since, "since", "", "received at or after: a duration before now (1h) or an RFC 3339 time")
	fs.StringVar(&q.until, "until", "", "received before: a duration before now or an RFC 3339 time")
	fs.BoolVar(&q.json, "json", false, "one JSON object per line (the GET /events shape) instead of a table")
}

func (q *queryFlags) query(now time.Time) (pipeline.Query, error) {
	out := pipeline.Query{Source: q.source, Type: q.typ}
	if err := pipeline.CheckSourceFilter(q.source); err != nil {
		return out, usageErrorf("--%s", pipeline.DetailOf(err))
	}
	var err error
	out.Since, out.Until, err = timeBounds(q.since, q.until, now)
	return out, err
}

func (c *app) eventsListCmd() *cobra.Command {
	var hf historyFlags
	var qf queryFlags
	cmd := listCmd("newest first: an aligned table, or --json lines", pipeline.DefaultLimit, "how many events to show at most (paged under the hood)", func(cmd *cobra.Command, limit int) error {
		history, q, closeHistory, err := hf.openQuery(cmd.Context(), &qf)
		if err != nil {
			return err
		}
		defer closeHistory()
		return historycli.List(cmd.Context(), c.stdout, history, q, limit, qf.json)
	})
	hf.register(cmd.Flags())
	qf.register(cmd.Flags())
	return cmd
}

func (c *app) eventsGetCmd() *cobra.Command {
	var hf historyFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get ID [flags]",
		Short: "one event in full: status times and data",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("give exactly one event id")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			history, closeHistory, err := hf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeHistory()
			return historycli.Get(cmd.Context(), c.stdout, history, args[0], asJSON)
		},
	}
	hf.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "the event as JSON (the GET /events/{id} shape)")
	return cmd
}

func (c *app) eventsTailCmd() *cobra.Command {
	var hf historyFlags
	var qf queryFlags
	var interval, lag time.Duration
	cmd := leafCmd("tail [flags]", "follow new events (and status changes) until Ctrl-C", "", positional(0, 0, ""), func(cmd *cobra.Command, _ []string) error {
		switch {
		case interval < 10*time.Millisecond:
			return usageErrorf("--interval: %v is under 10ms", interval)
		case lag <= 0:
			return usageErrorf("--lag: %v is not a positive duration", lag)
		}
		history, q, closeHistory, err := hf.openQuery(cmd.Context(), &qf)
		if err != nil {
			return err
		}
		defer closeHistory()
		err = historycli.Tail(cmd.Context(), c.stdout, history, historycli.TailOptions{Query: q, Interval: interval, Lag: lag, JSON: qf.json})
		if errors.Is(err, context.Canceled) {
			return nil // Ctrl-C is how tail ends
		}
		return err
	})
	hf.register(cmd.Flags())
	qf.register(cmd.Flags())
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "how often to poll")
	cmd.Flags().DurationVar(&lag, "lag", 2*time.Minute, "how far back each poll looks again, to catch events stored or notified late")
	return cmd
}
