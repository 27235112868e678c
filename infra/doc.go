// Command infra is the AWS CDK app that deploys hookline: one CloudFormation stack, "Hookline",
// with every physical name chosen by CloudFormation. cdk.json runs it (`go run ./infra`); the
// Make targets wrap the pinned CDK CLI in .tools/:
//
//	make synth                         build the functions, print the template (offline, no credentials)
//	make diff                          what a deploy would change
//	make deploy EMAIL=you@example.com  deploy; EMAIL sets the NotifyEmail parameter (kept on later deploys)
//	make destroy                       delete the stack
//	make infra-test                    the assertion and cdk-nag tests (dummy binaries; no lambdas needed)
//
// # Context (cdk.json holds the defaults; override with CDK_ARGS='-c key=value')
//
//	dev=true          a disposable stack: every stateful resource (table, secret, key, log groups,
//	                  dead-letter queues) is DESTROYed with the stack and the table has no deletion
//	                  protection. Default false: they are RETAINed and the table is protected.
//	email=ADDR        default of the NotifyEmail parameter (otherwise the first deploy needs EMAIL=)
//	assetDir=DIR      where the bootstrap binaries are (default build, as `make lambdas` writes)
//	apiRateLimit=N    the stage's default throttle, requests per second (default 50)
//	apiBurstLimit=N   the stage's default burst (default 100)
//	webhookRateLimit=N, webhookBurstLimit=N
//	                  the webhook route's own throttle (default 100/s, burst 500: provider bursts)
//	historyRateLimit=N, historyBurstLimit=N
//	                  each history route's own throttle (default 10/s, burst 20), so history traffic
//	                  never uses up what deliveries need
//	sources=FILE      the sources JSON: a Silence-<source> alarm per source with "expect_every"
//	                  (only names and expect_every are read, never the secrets)
//	unauthorizedAlarmThreshold=N
//	                  401 rejections in 5 minutes that raise UnauthorizedRejections (default 10)
//	tracing=true      X-Ray active tracing in every function (default false: `hookline cost`)
//	emailPolicy=JSON  which sources and types get an email, which a digest (pkg/emailpolicy;
//	                  default every event): the email subscription's filter policy, the notifier's
//	                  stream filter and HOOKLINE_EMAIL_POLICY, plus a 1-minute schedule for digests
//	notifierConcurrency=N|none  the notifier's reserved concurrency (default 1: one sender, so
//	                  email stays under SNS's 10/s); none in accounts whose limit is 10
//	tableCapacity=on-demand|provisioned
//	                  the events table's billing mode (default on-demand, the cheaper one at a
//	                  million events a month). provisioned: the table and every GSI get provisioned
//	                  reads and writes under Application Auto Scaling target tracking, from a floor
//	                  up to 10× the floor; `hookline cost --template` prices it. Its settings:
//	tableWriteCapacity=N, tableReadCapacity=N   the table's floors (default 200 and 10)
//	indexWriteCapacity=N, indexReadCapacity=N   the history index's floors (default 100 and 10)
//	tableTargetUtilization=P  the utilization auto scaling keeps, 20–90 % (default 70)
//	                  The defaults are a sustained 100 events/s of 1 KB payloads; the quarantine's
//	                  index gets 1 and 1.
//
// # What each resource is for, in the order an event travels
//
//   - HTTP API (API Gateway v2), stage $default with a default throttle, a throttle per route
//     (route settings: webhooks apart from history) and JSON access logs (log group, 1 month).
//     A per-source limit would need a counter that sees every request to the source; API
//     Gateway counts per route, and a bucket in the ingest function would be one per Lambda
//     instance, so sources' "rate" settings apply in `hookline local` only. ANY /webhooks/{source} → ingest, unauthenticated at the gateway because each
//     source's signature is verified by ingest; ANY so that a browser's GET gets a 405 problem.
//     GET /events and GET /events/{id} → history, IAM (SigV4) authorization. GET /healthz → ingest,
//     no auth: 200 {"status":"ok"} once its cold start succeeded and the sources secret reads (no
//     AWS call of its own), else 503; about $1.21 per million checks (API request + 1 ms
//     invocation). Payload format 2.0. The access log carries integrationRequestId, the Lambda
//     request id every line of the function's log has as requestId (docs/operations.md has the Logs
//     Insights query that follows a request through both).
//   - ingest function: verifies the request against the source's config, publishes the
//     CloudEvents envelope to the events topic (message attributes type and source), answers 202.
//   - Sources secret (Secrets Manager): the sources config JSON, read by ingest and cached for
//     HOOKLINE_SOURCES_TTL (5m). Created with the placeholder {"sources": {}}: until the real
//     config is put, ingest's cold start fails with "no sources" in its log and webhooks get
//     500 (the IngestErrors alarm fires). Put it after the first deploy:
//     aws secretsmanager put-secret-value --secret-id <SourcesSecretArn> --secret-string file://sources.json
//     CloudFormation never overwrites it afterwards. Rotation without downtime: add the new
//     secret next to the old in the source's "secrets" list, put the config, switch the sender,
//     then remove the old one; each step reaches every ingest instance within 5 minutes.
//   - Events topic (SNS, KMS-encrypted, TLS-only): the fan-out point. The stack subscribes the
//     events queue; other teams may subscribe their own queues (filter on type/source).
//   - Events queue (SQS, SSE-SQS, TLS-only, raw delivery so the body is the envelope): buffers
//     events for the subscriber. Visibility 240 s (6 × the subscriber's 30 s timeout + its 60 s window),
//     4 days retention, redrive to the events DLQ after 5 receives.
//   - Events DLQ (SQS, 14 days): poison messages, to inspect and redrive (`hookline dlq`).
//   - Subscription DLQ (SQS, 14 days): the events subscription's redrive queue, for what SNS
//     cannot deliver to the events queue at all (a queue policy or key refusing it).
//   - subscriber function: SQS trigger, batches of 10 gathered up to 60 s, partial batch failures,
//     at most 10 concurrent instances; a conditional PutItem makes delivery effectively-once.
//   - Events table (DynamoDB, on demand, PITR, deletion protection): the stored events, keyed by
//     id, with the one by_group GSI from pkg/ddbstore.TableSchema (keys and type), TTL on
//     expires_at (90 days, HOOKLINE_RETENTION), and a NEW_IMAGE stream.
//   - notifier function: stream trigger filtered to INSERTs of events (one stored event → one email),
//     starting at TRIM_HORIZON, partial batch failures, bisect on error, 5 retries, records
//     older than 1 hour given up; what still fails goes to the notify-failures queue (SQS,
//     14 days) with the shard and sequence numbers to replay within the stream's 24 hours.
//   - Notifications topic (SNS, KMS): the notifier publishes one message per new event; the
//     NotifyEmail address is subscribed (confirm the email AWS sends after deploy).
//   - history function: GET /events queries the GSIs (never Scan); GET /events/{id} reads one.
//   - Alarm topic (SNS, KMS; CloudWatch may publish, from this account only), with NotifyEmail
//     subscribed, and the alarms: events DLQ not empty, notify failures not empty, subscription
//     DLQ not empty, oldest queued event ≥ 5 min, notifier iterator age ≥ 5 min, API 5xx ≥ 5 in
//     5 min, NumberOfNotificationsFailed ≥ 1 on the events and the notifications topic,
//     Rejected{Reason=unauthorized} ≥ unauthorizedAlarmThreshold in 5 min, an email pending
//     ≥ 15 min (PendingNotificationAgeMs), per function errors ≥ 1 and throttles ≥ 1 in 5 min,
//     and a Silence-<source> alarm per source with expect_every. Each notifies on ALARM and on
//     OK, and its description is its what-to-do line (the alarm table in docs/operations.md says more).
//   - Metrics: the functions write EMF lines (namespace Hookline, see pkg/metrics); no
//     PutMetricData permission is needed.
//   - Dashboard: alarm status, API traffic and latency, invocations/errors/duration per
//     function, queue depth and age, dead letters, iterator age, table capacity, and the
//     SignatureKeyMatch EMF metric (namespace Hookline, by Source and Key) the ingest function
//     logs for every accepted request: which secret of each source is still in use (rotation).
//   - Topic key (KMS, rotated yearly): encrypts the three topics; a customer-managed key because
//     CloudWatch cannot publish to a topic encrypted with the AWS-managed aws/sns key.
//   - Quarantine key (KMS, rotated yearly): seals the signature headers of the refused requests
//     ingest keeps in the events table (pkg/kmsseal); ingest may only make data keys with it.
//
// Each function (provided.al2023, arm64, handler bootstrap, code from assetDir/<fn>) has its
// own role, starting empty, and its own log group (JSON log format, 1 month retention, Lambda's
// own platform lines filtered at WARN). X-Ray active tracing is opt-in (-c tracing=true): at
// low rates Lambda samples nearly every invocation, which `hookline cost` shows cost more than
// the rest of an event's bill. Permissions come only from grants, on exact resources: see functions.go
// for memory and timeout reasoning and TestLeastPrivilege for the full list. cdk-nag's
// AwsSolutions pack runs in the tests; each suppression and its reason is in nag.go.
//
// TestAWSRehearsal (rehearsal_*_test.go) runs the real function binaries on this template: its
// environment, routes, event source mappings and role policies, against dynalite and the fakes
// in internal/fakeaws (see docs/development.md).
package main
