package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"hookline/pkg/wiring"
)

// The functions, named as their directories under functions/ and build/.
const (
	fnIngest     = wiring.Ingest
	fnSubscriber = wiring.Subscriber
	fnNotifier   = wiring.Notifier
	fnHistory    = wiring.History
)

var functionNames = []string{fnIngest, fnSubscriber, fnNotifier, fnHistory}

// The functions' own defaults, set explicitly so the deployed configuration is visible in the
// console, and taken from pkg/wiring, where the functions take them too, so they cannot drift.
var (
	sourcesTTL = wiring.DefaultSourcesTTL.String() // ingest's cache of the sources secret: rotation reaches every instance within it
	retention  = wiring.Retention.String()         // until DynamoDB's TTL deletes a stored event
)

type functionSpec struct {
	description string
	memoryMB    float64
	timeout     time.Duration // from pkg/wiring, with the reasons
}

// seconds is a duration in whole seconds, as Lambda and SQS take them.
func seconds(d time.Duration) *float64 { return jsii.Number(d.Seconds()) }

// Memory buys CPU on Lambda (128 MB ≈ 1/14 vCPU, 256 MB twice that). The Go binaries are small
// and need little RAM; the question for each function is how much CPU its latency deserves.
//
// No function has reserved concurrency: reserving takes from the account's pool (and a deploy
// fails outright in a new account whose limit is 10, as Lambda keeps 10 unreserved). The
// downstreams are protected instead by the API stage throttle (ingest, history), the SQS event
// source's maximum concurrency (subscriber) and the stream's one batch per shard (notifier).
var specs = map[string]functionSpec{
	// A sender is waiting: 256 MB for faster cold starts and HMAC/JSON work.
	fnIngest: {"hookline: verifies a webhook, publishes its event, answers 202", 256, wiring.IngestTimeout},
	// Nobody waits: 128 MB does ≤ 10 conditional PutItems; the queue's visibility timeout is 6×
	// its timeout plus the batch window (wiring.VisibilityTimeout).
	fnSubscriber: {"hookline: stores queued events in DynamoDB (conditional put: effectively once)", 128, wiring.SubscriberTimeout},
	// Nobody waits: 128 MB for ≤ wiring.NotifierBatchSize (30) records, each one SNS publish and one UpdateItem.
	fnNotifier: {"hookline: emails each newly stored event and marks it notified", 128, wiring.NotifierTimeout},
	// An operator waits: 256 MB to page through Query results and encode JSON quickly.
	fnHistory: {"hookline: lists and reads stored events for operators", 256, wiring.HistoryTimeout},
}

func (h *Hookline) newFunctions(retain awscdk.RemovalPolicy) {
	env := map[string]map[string]*string{
		fnIngest: {
			wiring.EnvTopicARN:         h.EventsTopic.TopicArn(),
			wiring.EnvSourcesSecretARN: h.SourcesSecret.SecretArn(),
			wiring.EnvSourcesTTL:       jsii.String(sourcesTTL),
			wiring.EnvBodyBucket:       h.BodyBucket.BucketName(),
			wiring.EnvTable:            h.Table.TableName(),
			wiring.EnvQuarantineKey:    h.QuarantineKey.KeyArn(),
			wiring.EnvKeepPerMinute:    jsii.String(strconv.Itoa(wiring.DefaultKeepPerMinute)),
		},
		fnSubscriber: {
			wiring.EnvTable:     h.Table.TableName(),
			wiring.EnvRetention: jsii.String(retention),
		},
		fnNotifier: {
			wiring.EnvTable:          h.Table.TableName(),
			wiring.EnvNotifyTopicARN: h.NotificationsTopic.TopicArn(),
			wiring.EnvEmailPolicy:    jsii.String(h.Config.EmailPolicy.String()),
		},
		fnHistory: {
			wiring.EnvTable:      h.Table.TableName(),
			wiring.EnvBodyBucket: h.BodyBucket.BucketName(),
		},
	}
	for _, name := range functionNames {
		h.Functions[name] = h.newFunction(name, env[name], retain)
	}
}

// newFunction builds one Go function with its own log group and its own role. The role starts
// empty (no AWSLambdaBasicExecutionRole, whose log permissions cover every log group): it gets
// write access to this function's log group here and everything else from grants.
func (h *Hookline) newFunction(name string, env map[string]*string, retain awscdk.RemovalPolicy) awslambda.Function {
	spec := specs[name]
	id := jsii.String(titleCase(name))
	logs := awslogs.NewLogGroup(h.Stack, jsii.String(titleCase(name)+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: retain,
	})
	role := awsiam.NewRole(h.Stack, jsii.String(titleCase(name)+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("hookline " + name + " function"),
	})
	logs.GrantWrite(role)
	return awslambda.NewFunction(h.Stack, id, &awslambda.FunctionProps{
		Description:  jsii.String(spec.description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(), // cheaper per GB-second than x86 for Go
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(h.Config.AssetDir, name)), nil),
		MemorySize:   jsii.Number(spec.memoryMB),
		Timeout:      awscdk.Duration_Seconds(seconds(spec.timeout)),
		Environment:  &env,
		Role:         role,
		// JSON logs: Lambda's own lines and slog's share one format, queryable in Insights.
		LoggingFormat: awslambda.LoggingFormat_JSON,
		// WARN drops Lambda's platform.start/platform.report lines of every invocation (about
		// 650 bytes, more than the code logs for an event); CloudWatch still has the Duration,
		// Errors and Throttles metrics. INFO keeps the code's own lines and its EMF metric lines,
		// which carry no level and count as INFO.
		SystemLogLevelV2:      awslambda.SystemLogLevel_WARN,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel_INFO,
		LogGroup:              logs,
		Tracing:               h.tracing(),
		// Only the notifier reserves: one instance sends every email (see Config).
		ReservedConcurrentExecutions: h.reserved(name),
	})
}

// reserved is the notifier's reserved concurrency (Config.NotifierConcurrency); nil for the
// others, and for the notifier with -c notifierConcurrency=none.
func (h *Hookline) reserved(name string) *float64 {
	if name != fnNotifier || h.Config.NotifierConcurrency == noReservation {
		return nil
	}
	return jsii.Number(h.Config.NotifierConcurrency)
}

// tracing is X-Ray active tracing when the stack was asked for it (Config.Tracing), else none.
func (h *Hookline) tracing() awslambda.Tracing {
	if h.Config.Tracing {
		return awslambda.Tracing_ACTIVE
	}
	return awslambda.Tracing_DISABLED
}

// titleCase turns a function name into its construct id prefix: "ingest" → "Ingest".
func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
