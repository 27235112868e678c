package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hookline/pkg/event"
	"hookline/pkg/local/engine"
	"hookline/pkg/localrun"
	"hookline/pkg/pipeline"
	"hookline/pkg/rejectedcli"
	"hookline/pkg/seal"
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
exactly as ingest would: same event id rules, so readmitting twice publishes nothing new.`

func (c *app) rejectedCmd() *cobra.Command {
	return c.groupCmd("rejected", "refused requests: list, show, readmit (local data dir)", rejectedLong,
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
	if q.Since, err = pipeline.ParseTimeBound("--since", f.since, now); err != nil {
		return q, &usageError{err}
	}
	if q.Until, err = pipeline.ParseTimeBound("--until", f.until, now); err != nil {
		return q, &usageError{err}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return q, usageErrorf("--since must be before --until")
	}
	return q, nil
}

func dataFlag(fs *pflag.FlagSet, data *string) {
	fs.StringVar(data, "data", ".hookline", "hookline local data dir")
	bindEnv(fs, "data", "HOOKLINE_DATA")
}

func (c *app) rejectedListCmd() *cobra.Command {
	var data string
	var f rejectedFilters
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [flags]",
		Short: "refused requests, newest first: a table, or --json lines",
		Args:  positional(0, 0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return usageErrorf("--limit: %d is not a positive number", limit)
			}
			q, err := f.query(time.Now())
			if err != nil {
				return err
			}
			eng, err := openLocal(data)
			if err != nil {
				return err
			}
			defer eng.Close()
			return rejectedcli.List(cmd.Context(), c.stdout, eng.Rejected(), q, limit, asJSON)
		},
	}
	fs := cmd.Flags()
	dataFlag(fs, &data)
	f.register(fs)
	fs.IntVar(&limit, "limit", pipeline.DefaultLimit, "how many to show at most")
	fs.BoolVar(&asJSON, "json", false, "one JSON object per line")
	completeWords(cmd, "reason", pipeline.Reasons()...)
	return cmd
}

func (c *app) rejectedGetCmd() *cobra.Command {
	var data string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get ID [flags]",
		Short: "one refused request in full: why, headers (redacted), body",
		Args:  positional(1, 1, "rejection id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !event.ValidID(args[0]) {
				return usageErrorf("%q is not a rejection id (a lower-case UUID)", args[0])
			}
			eng, err := openLocal(data)
			if err != nil {
				return err
			}
			defer eng.Close()
			return rejectedcli.Get(cmd.Context(), c.stdout, eng.Rejected(), args[0], asJSON)
		},
	}
	dataFlag(cmd.Flags(), &data)
	cmd.Flags().BoolVar(&asJSON, "json", false, "the rejection as JSON, with its body")
	return cmd
}

func (c *app) rejectedReadmitCmd() *cobra.Command {
	var data, sourcesFile string
	var f rejectedFilters
	cmd := &cobra.Command{
		Use:   "readmit ID | --source S --since 1h [flags]",
		Short: "re-verify refused requests with the current sources config; publish those that pass",
		Args:  positional(0, 1, "rejection id"),
		RunE: func(cmd *cobra.Command, args []string) error {
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
			q, err := f.query(time.Now())
			if err != nil {
				return err
			}
			eng, err := openLocal(data)
			if err != nil {
				return err
			}
			defer eng.Close()
			r, err := localReadmitter(eng, data, sourcesFile)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
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
		},
	}
	fs := cmd.Flags()
	dataFlag(fs, &data)
	fs.StringVar(&sourcesFile, "sources", "", "the sources config to verify with (as hookline local runs with it); none = the data dir's demo sources")
	bindEnv(fs, "sources", "HOOKLINE_SOURCES")
	f.register(fs)
	completeWords(cmd, "reason", pipeline.Reasons()...)
	return cmd
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
