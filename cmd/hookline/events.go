package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbstore"
	"hookline/pkg/historycli"
	"hookline/pkg/pipeline"
)

const eventsUsage = `usage:
  hookline events list [flags]      newest first: an aligned table, or --json lines
  hookline events get ID [flags]    one event in full: status times and data
  hookline events tail [flags]      follow new events (and status changes) until Ctrl-C

where the history is (one of):
  --data DIR                        a hookline local data dir (default .hookline, env HOOKLINE_DATA)
  --table NAME                      a DynamoDB table (env HOOKLINE_TABLE), with --region, --endpoint

run "hookline events list --help" for every flag.
`

// historyFlags selects the history: a local data dir or a DynamoDB table.
type historyFlags struct {
	data, table, region, endpoint string
	shards                        int
	fs                            *flag.FlagSet
}

func (h *historyFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	h.fs = fs
	fs.StringVar(&h.data, "data", envOr(getenv, "HOOKLINE_DATA", ".hookline"), "hookline local data dir to read (env HOOKLINE_DATA)")
	fs.StringVar(&h.table, "table", getenv("HOOKLINE_TABLE"), "DynamoDB events table to read instead of --data (env HOOKLINE_TABLE)")
	fs.StringVar(&h.region, "region", "", "AWS region of --table (default: the AWS config's)")
	fs.StringVar(&h.endpoint, "endpoint", "", "DynamoDB endpoint URL, for a DynamoDB-compatible server")
	fs.IntVar(&h.shards, "time-shards", ddbitem.DefaultTimeShards, "time shards the writers use (the stack's HOOKLINE_TIME_SHARDS)")
}

// open returns the history and a func that releases it.
func (h *historyFlags) open(ctx context.Context) (pipeline.History, func(), error) {
	dataSet, tableSet := flagSet(h.fs, "data"), flagSet(h.fs, "table")
	switch {
	case dataSet && tableSet:
		return nil, nil, errors.New("--data and --table: give one: a local data dir or a DynamoDB table")
	case h.table != "" && !dataSet:
		if h.shards < 1 || h.shards > 64 {
			return nil, nil, fmt.Errorf("--time-shards: %d is not from 1 to 64", h.shards)
		}
		cfg, err := awsConfig(ctx, h.region)
		if err != nil {
			return nil, nil, err
		}
		client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = endpointOption(h.endpoint) })
		store, err := ddbstore.New(client, h.table, ddbstore.WithTimeShards(h.shards))
		if err != nil {
			return nil, nil, fmt.Errorf("--table: %w", err)
		}
		return store, func() {}, nil
	default:
		if flagSet(h.fs, "region") || flagSet(h.fs, "endpoint") {
			return nil, nil, errors.New("--region and --endpoint: only with --table")
		}
		eng, err := openLocal(h.data)
		if err != nil {
			return nil, nil, err
		}
		return eng.Events(), func() { eng.Close() }, nil
	}
}

// queryFlags are the filters list and tail share.
type queryFlags struct {
	source, typ, since, until string
	json                      bool
}

func (q *queryFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&q.source, "source", "", "only events from this source")
	fs.StringVar(&q.typ, "type", "", "only events of this type")
	fs.StringVar(&q.since, "since", "", "received at or after: a duration before now (1h) or an RFC 3339 time")
	fs.StringVar(&q.until, "until", "", "received before: a duration before now or an RFC 3339 time")
	fs.BoolVar(&q.json, "json", false, "one JSON object per line (the GET /events shape) instead of a table")
}

func (q *queryFlags) query(now time.Time) (pipeline.Query, error) {
	out := pipeline.Query{Source: q.source, Type: q.typ}
	var err error
	if out.Since, err = pipeline.ParseTimeBound("--since", q.since, now); err != nil {
		return out, err
	}
	if out.Until, err = pipeline.ParseTimeBound("--until", q.until, now); err != nil {
		return out, err
	}
	if !out.Since.IsZero() && !out.Until.IsZero() && !out.Since.Before(out.Until) {
		return out, errors.New("--since must be before --until")
	}
	return out, nil
}

func runEvents(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, eventsUsage)
		return errors.New("events: no subcommand: list, get or tail")
	}
	sub := args[0]
	fs := flag.NewFlagSet("hookline events "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var hf historyFlags
	hf.register(fs, getenv)
	var qf queryFlags
	var limit int
	var interval, lag time.Duration
	switch sub {
	case "list":
		qf.register(fs)
		fs.IntVar(&limit, "limit", pipeline.DefaultLimit, "how many events to show at most (paged under the hood)")
	case "tail":
		qf.register(fs)
		fs.DurationVar(&interval, "interval", time.Second, "how often to poll")
		fs.DurationVar(&lag, "lag", 2*time.Minute, "how far back each poll looks again, to catch events stored or notified late")
	case "get":
		fs.BoolVar(&qf.json, "json", false, "the event as JSON (the GET /events/{id} shape)")
	case "-h", "--help", "help":
		fmt.Fprint(stdout, eventsUsage)
		return nil
	default:
		fmt.Fprint(stderr, eventsUsage)
		return fmt.Errorf("events: unknown subcommand %q: list, get or tail", sub)
	}
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case sub == "get" && len(pos) != 1:
		return errors.New("events get: give exactly one event id")
	case sub != "get" && len(pos) > 0:
		return fmt.Errorf("events %s: unexpected argument %q", sub, pos[0])
	case sub == "list" && limit < 1:
		return fmt.Errorf("--limit: %d is not a positive number", limit)
	case sub == "tail" && interval < 10*time.Millisecond:
		return fmt.Errorf("--interval: %v is under 10ms", interval)
	case sub == "tail" && lag <= 0:
		return fmt.Errorf("--lag: %v is not a positive duration", lag)
	}
	q, err := qf.query(time.Now())
	if err != nil {
		return err
	}
	history, closeHistory, err := hf.open(ctx)
	if err != nil {
		return err
	}
	defer closeHistory()
	switch sub {
	case "list":
		return historycli.List(ctx, stdout, history, q, limit, qf.json)
	case "get":
		return historycli.Get(ctx, stdout, history, pos[0], qf.json)
	default:
		return historycli.Tail(ctx, stdout, history, historycli.TailOptions{Query: q, Interval: interval, Lag: lag, JSON: qf.json})
	}
}
