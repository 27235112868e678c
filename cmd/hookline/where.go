package main

import (
	"time"

	"github.com/spf13/pflag"

	"hookline/pkg/localrun"
	"hookline/pkg/pipeline"
	"hookline/pkg/wiring"
)

// whereFlags select where a command works: a hookline local data dir (--data) or an AWS
// resource named by one flag (--table, --queue-url), with --region and --endpoint. events,
// notify, replay, rejected and dlq all choose this way.
type whereFlags struct {
	data, remote, region, endpoint string
	aws                            awsFlag
	fs                             *pflag.FlagSet
}

// awsFlag is the flag that names the AWS resource: its name, environment variable, what it
// names (for usage errors) and the help text of --endpoint.
type awsFlag struct{ name, env, kind, endpoint string }

var (
	tableFlag    = awsFlag{"table", wiring.EnvTable, "a DynamoDB table", "DynamoDB endpoint URL, for a DynamoDB-compatible server"}
	queueURLFlag = awsFlag{"queue-url", "HOOKLINE_DLQ_URL", "an SQS queue", "SQS endpoint URL, for an SQS-compatible server"}
)

func (w *whereFlags) register(fs *pflag.FlagSet, a awsFlag, dataUsage, awsUsage string) {
	w.fs, w.aws = fs, a
	fs.StringVar(&w.data, "data", localrun.DefaultDataDir, dataUsage)
	bindEnv(fs, "data", "HOOKLINE_DATA")
	fs.StringVar(&w.remote, a.name, "", awsUsage)
	bindEnv(fs, a.name, a.env)
	fs.StringVar(&w.region, "region", "", "AWS region of --"+a.name+" (default: the AWS config's)")
	fs.StringVar(&w.endpoint, "endpoint", "", a.endpoint)
}

// awsChosen reports whether the flags name the AWS resource: --data given on the command line
// wins over the AWS flag's environment variable.
func (w *whereFlags) awsChosen() bool { return w.remote != "" && !w.fs.Changed("data") }

// choose is awsChosen after checking that the flags do not name both places, and that
// --region and --endpoint come only with the AWS resource.
func (w *whereFlags) choose() (onAWS bool, err error) {
	switch {
	case w.fs.Changed("data") && w.fs.Changed(w.aws.name):
		return false, usageErrorf("--data and --%s: give one: a local data dir or %s", w.aws.name, w.aws.kind)
	case w.awsChosen():
		return true, nil
	case w.fs.Changed("region") || w.fs.Changed("endpoint"):
		return false, usageErrorf("--region and --endpoint: only with --%s", w.aws.name)
	}
	return false, nil
}

// timeBounds parses --since and --until (a duration before now or an RFC 3339 time; ""
// leaves a bound open) and checks their order.
func timeBounds(since, until string, now time.Time) (from, to time.Time, err error) {
	if from, err = pipeline.ParseTimeBound("--since", since, now); err != nil {
		return from, to, &usageError{err}
	}
	if to, err = pipeline.ParseTimeBound("--until", until, now); err != nil {
		return from, to, &usageError{err}
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, usageErrorf("--since must be before --until")
	}
	return from, to, nil
}
