// Package wiring is the one home of the facts both sides of a deployment must agree on: the
// environment variables the stack (infra/) sets and the functions (functions/*) read, with
// their defaults and ranges; the functions' names and timeouts; the event source settings
// (batch sizes, windows, retries, maxReceiveCount, the visibility timeout they imply); how long
// events are kept; how the history index is sharded. `hookline local` (pkg/localrun,
// cmd/hookline) takes its defaults from the same constants, so a laptop behaves like the stack.
//
// Constants only, no AWS or CDK imports: the stack, the Lambda binaries, the local engine and
// the CLI all import it. Renaming a variable here renames it on both sides at once; the
// environment contract itself is pinned by infra's TestFunctionEnvironment.
package wiring

import "time"

// The functions: their directories under functions/ and build/, and their names in the stack.
const (
	Ingest     = "ingest"
	Subscriber = "subscriber"
	Notifier   = "notifier"
	History    = "history"
)

// EnvPrefix starts the name of every variable the functions read.
const EnvPrefix = "HOOKLINE_"

// The functions' environment: which function reads each variable, and what it holds.
const (
	EnvTopicARN         = "HOOKLINE_TOPIC_ARN"          // ingest: the SNS events topic
	EnvSourcesSecretARN = "HOOKLINE_SOURCES_SECRET_ARN" // ingest: the sources config secret
	EnvSourcesTTL       = "HOOKLINE_SOURCES_TTL"        // ingest: DefaultSourcesTTL
	EnvTable            = "HOOKLINE_TABLE"              // ingest (the quarantine), subscriber, notifier, history (and `hookline events --table`)
	EnvRetention        = "HOOKLINE_RETENTION"          // subscriber: Retention
	EnvNotifyTopicARN   = "HOOKLINE_NOTIFY_TOPIC_ARN"   // notifier: the SNS notifications topic
	EnvEmailTemplates   = "HOOKLINE_EMAIL_TEMPLATES"    // notifier: a template directory in the bundle; unset = built-in
	EnvEmailMaxData     = "HOOKLINE_EMAIL_MAX_DATA"     // notifier: DefaultEmailMaxData
	EnvBodyBucket       = "HOOKLINE_BODY_BUCKET"        // ingest (writes), history (reads): the S3 bucket of bodies too large for SNS
	EnvQuarantineKey    = "HOOKLINE_QUARANTINE_KEY"     // ingest: the KMS key (ARN) refused requests' signatures are sealed with
	EnvKeepPerMinute    = "HOOKLINE_KEEP_PER_MINUTE"    // ingest: refused requests kept per source per minute, DefaultKeepPerMinute
	EnvEmailPolicy      = "HOOKLINE_EMAIL_POLICY"       // notifier (and `hookline local`): emailpolicy JSON; unset = every event emailed
)

// Refused requests kept per source and minute, across all ingest instances (the quarantine;
// `hookline local --keep-per-minute` locally). Enough to diagnose a broken sender, too few for a
// flood to fill the table or the bill.
const (
	DefaultKeepPerMinute = 10
	MaxKeepPerMinute     = 1000
)

// DefaultSourcesTTL is how long ingest uses a fetched sources config before it fetches it
// again: a rotated secret reaches every instance within it, without a redeploy.
const DefaultSourcesTTL = 5 * time.Minute

// Retention is how long a stored event is kept: DynamoDB's TTL on AWS, the sweep locally.
const Retention = 90 * 24 * time.Hour

// Email data: how many bytes of an event's data an email shows.
const (
	DefaultEmailMaxData = 16 * 1024
	MinEmailMaxData     = 256
	MaxEmailMaxData     = 200 * 1024 // an SNS message is at most 256 KiB
)

// Function timeouts.
const (
	// A sender is waiting: 10 s covers a cold start's Secrets Manager read plus the SDK's
	// retries of one SNS publish, well inside API Gateway's 30 s integration limit.
	IngestTimeout = 10 * time.Second
	// Nobody waits: 30 s leaves room for SDK backoff when DynamoDB throttles.
	SubscriberTimeout = 30 * time.Second
	// Nobody waits: 30 s for SDK backoff; a timeout is retried by the stream trigger, bisected.
	NotifierTimeout = 30 * time.Second
	// An operator waits.
	HistoryTimeout = 10 * time.Second
)

// The events queue and the subscriber's event source.
const (
	// Up to 10 messages per invocation: enough to amortise an invocation under load, few
	// enough that one batch of conditional puts stays far inside the subscriber's timeout.
	SubscriberBatchSize = 10
	// Gather messages up to 60 s before invoking (AWS; locally a window never delays messages
	// already waiting). At low rates this is what makes an invocation and a DeleteMessageBatch
	// serve several events: `hookline cost` prices it (batches of ~5.6 at a million events a
	// month) against ≤ 60 s more before an event is stored and emailed. Under load a batch
	// fills, and leaves, long before the window ends.
	SubscriberBatchWindow = 60 * time.Second
	// At most 10 subscriber instances poll the queue (AWS only): it caps DynamoDB write
	// concurrency and the account's Lambda concurrency without reserved concurrency.
	SubscriberMaxConcurrency = 10
	// A message that fails 5 receives is poison, not bad luck: off to the DLQ.
	MaxReceiveCount = 5
	// AWS's rule for Lambda consumers: at least 6× the function timeout plus the batch window,
	// so a message is not redelivered to a second instance while the first one is still
	// gathering its batch or (retrying) on it.
	VisibilityTimeout = 6*SubscriberTimeout + SubscriberBatchWindow
)

// The notifier's stream event source (INSERT records of the events table).
const (
	// Up to 30 records per invocation. The one notifier instance paces its emails at 10 a
	// second (SNS's email limit), so a full batch is 3 s of sending, a tenth of its timeout;
	// under load it takes a third of the invocations 10 would. `hookline local` mirrors it, and
	// there a batch of 30 cut CPU per event from 263 to 249 µs (three flat-out runs each,
	// docs/benchmarks/2026-12-03-issue-13-round-14-ingest-first.md).
	NotifierBatchSize = 30
	// Gather stream records up to 10 s before invoking: at low rates several emails share an
	// invocation (`hookline cost` prices it), ≤ 10 s later than without.
	NotifierBatchWindow = 10 * time.Second
	// The notifier retries a failing stream batch (bisected each time) this often; records that
	// exhaust the retries or outlive NotifierMaxRecordAge go to the on-failure queue. An hour
	// leaves 23 of the stream's 24 hours to replay from the shard/sequence the failure names.
	NotifierRetryAttempts = 5
	NotifierMaxRecordAge  = time.Hour
)
