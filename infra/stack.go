package main

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbstore"
	"hookline/pkg/wiring"
)

// HooklineProps configures NewHookline.
type HooklineProps struct {
	awscdk.StackProps
	Config
}

// Hookline is the stack and the constructs tests and alarms refer to.
type Hookline struct {
	awscdk.Stack
	Config Config

	API          awsapigatewayv2.HttpApi
	Stage        awsapigatewayv2.HttpStage
	WebhookRoute awsapigatewayv2.HttpRoute
	HealthRoute  awsapigatewayv2.HttpRoute
	Functions    map[string]awslambda.Function // by name: ingest, subscriber, notifier, history

	Table              awsdynamodb.Table
	EventsTopic        awssns.Topic
	NotificationsTopic awssns.Topic
	AlarmTopic         awssns.Topic
	TopicKey           awskms.Key
	QuarantineKey      awskms.Key // seals the signatures of refused requests (pkg/kmsseal)
	EventsQueue        awssqs.Queue
	EventsDLQ          awssqs.Queue
	SubscriptionDLQ    awssqs.Queue // what SNS could not deliver to the events queue
	NotifyFailures     awssqs.Queue // the notifier stream trigger's on-failure destination
	SourcesSecret      awssecretsmanager.Secret
	BodyBucket         awss3.Bucket   // bodies too large for an SNS message (the claim check)
	DigestSchedule     awsevents.Rule // nil unless the email policy digests a source
	NotifyEmail        awscdk.CfnParameter
	Alarms             []awscloudwatch.Alarm
}

// NewHookline builds the whole pipeline (see doc.go for what each resource is for).
func NewHookline(scope constructs.Construct, id string, props *HooklineProps) *Hookline {
	cfg := props.Config.withDefaults()
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	h := &Hookline{Stack: stack, Config: cfg, Functions: map[string]awslambda.Function{}}

	// Stateful resources survive `cdk destroy` unless this is a dev stack.
	retain := awscdk.RemovalPolicy_RETAIN
	if cfg.Dev {
		retain = awscdk.RemovalPolicy_DESTROY
	}

	h.NotifyEmail = awscdk.NewCfnParameter(stack, jsii.String("NotifyEmail"), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Description:           jsii.String("Address that receives event notifications and alarms (confirm the subscription emails)."),
		AllowedPattern:        jsii.String(`[^@\s]+@[^@\s]+\.[^@\s]+`),
		ConstraintDescription: jsii.String("must be an email address"),
	})
	if cfg.Email != "" {
		h.NotifyEmail.SetDefault(jsii.String(cfg.Email))
	}

	// One customer-managed key for the three topics: the AWS-managed aws/sns key cannot be
	// opened to CloudWatch, which must publish alarms to an encrypted topic.
	h.TopicKey = awskms.NewKey(stack, jsii.String("TopicKey"), &awskms.KeyProps{
		Description:       jsii.String("hookline: encrypts the events, notifications and alarm topics at rest"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     retain,
	})
	// Its own key, so ingest can be allowed to make data keys with it and nothing else: only an
	// operator with kms:Decrypt opens the signatures ingest kept (hookline rejected readmit).
	h.QuarantineKey = awskms.NewKey(stack, jsii.String("QuarantineKey"), &awskms.KeyProps{
		Description:       jsii.String("hookline: seals the signature and authorization headers of refused requests (the quarantine)"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     retain,
	})
	newTopic := func(id, name string) awssns.Topic {
		return awssns.NewTopic(stack, jsii.String(id), &awssns.TopicProps{
			DisplayName: jsii.String(name),
			MasterKey:   h.TopicKey,
			EnforceSSL:  jsii.Bool(true),
		})
	}
	h.EventsTopic = newTopic("EventsTopic", "hookline events")
	h.NotificationsTopic = newTopic("NotificationsTopic", "hookline")
	h.AlarmTopic = newTopic("AlarmTopic", "hookline alarms")

	h.Table = newEventsTable(stack, cfg, retain)
	h.BodyBucket = newBodyBucket(stack, retain)
	h.newQueues(retain)

	h.SourcesSecret = awssecretsmanager.NewSecret(stack, jsii.String("SourcesSecret"), &awssecretsmanager.SecretProps{
		Description: jsii.String(`hookline sources config (JSON, {"sources": {...}}); put the real one with aws secretsmanager put-secret-value`),
		// A valid-JSON placeholder: until the operator puts the real config, ingest's cold start
		// fails with "no sources: add at least one" in its log (the API answers 500 and the
		// IngestErrors alarm says so). CloudFormation never writes it again after creation (the
		// property does not change), so the operator's value survives later deploys.
		SecretStringValue: awscdk.SecretValue_UnsafePlainText(jsii.String(`{"sources": {}}`)),
		RemovalPolicy:     retain,
	})

	h.newFunctions(retain)
	h.wireGrants()
	h.wireEventSources()
	h.newAPI(retain)
	h.subscribeEmail()
	h.scheduleDigests()
	h.newAlarms()
	h.newDashboard()
	h.outputs()
	addNagSuppressions(h)
	return h
}

func newEventsTable(stack awscdk.Stack, cfg Config, retain awscdk.RemovalPolicy) awsdynamodb.Table {
	// The schema comes from the store adapter so the keys and index names cannot drift.
	schema := ddbstore.TableSchema()
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	capacity := cfg.Capacity
	// On-demand by default: webhook traffic is bursty and mostly idle; no capacity to plan or
	// pay for. Provisioned (see TableCapacity) when a steady rate makes it the cheaper one.
	billing := awsdynamodb.BillingMode_PAY_PER_REQUEST
	if capacity.Provisioned {
		billing = awsdynamodb.BillingMode_PROVISIONED
	}
	// units is a provisioned capacity (at deploy, before auto scaling moves it); none on-demand.
	units := func(n float64) *float64 {
		if !capacity.Provisioned {
			return nil
		}
		return jsii.Number(n)
	}
	table := awsdynamodb.NewTable(stack, jsii.String("EventsTable"), &awsdynamodb.TableProps{
		PartitionKey:  str(schema.PartitionKey),
		BillingMode:   billing,
		WriteCapacity: units(capacity.TableWrite),
		ReadCapacity:  units(capacity.TableRead),
		// The notifier decodes the new image of each INSERT; old images are never needed.
		Stream:                           awsdynamodb.StreamViewType_NEW_IMAGE,
		TimeToLiveAttribute:              jsii.String(schema.TTLAttribute),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		DeletionProtection:               jsii.Bool(!cfg.Dev),
		RemovalPolicy:                    retain,
	})
	for _, ix := range schema.Indexes {
		table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   str(ix.PartitionKey),
			SortKey:        str(ix.SortKey),
			ProjectionType: awsdynamodb.ProjectionType(ix.Projection),
			NonKeyAttributes: func() *[]*string {
				if len(ix.NonKey) == 0 {
					return nil
				}
				return jsii.Strings(ix.NonKey...)
			}(),
			WriteCapacity: units(capacity.IndexWrite),
			ReadCapacity:  units(capacity.IndexRead),
		})
	}
	// The quarantine's sparse index: only kept rejections have its keys (see pkg/ddbstore).
	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:        jsii.String(schema.Rejected.Name),
		PartitionKey:     str(schema.Rejected.PartitionKey),
		SortKey:          str(schema.Rejected.SortKey),
		ProjectionType:   awsdynamodb.ProjectionType(schema.Rejected.Projection),
		NonKeyAttributes: jsii.Strings(schema.Rejected.NonKey...),
		WriteCapacity:    units(quarantineCapacity),
		ReadCapacity:     units(quarantineCapacity),
	})
	if capacity.Provisioned {
		autoScaleTable(table, capacity, schema)
	}
	return table
}

// autoScaleTable puts the table's and every GSI's reads and writes under target tracking:
// between the floor and maxCapacityFactor × the floor, aiming at the target utilization.
// Bursts above what is provisioned use DynamoDB's burst capacity, then throttle: the SDK
// retries, the subscriber leaves the message for SQS to redeliver, the notifier's stream
// batch is retried (see docs/operations.md).
func autoScaleTable(table awsdynamodb.Table, c TableCapacity, schema ddbstore.Schema) {
	target := &awsdynamodb.UtilizationScalingProps{TargetUtilizationPercent: jsii.Number(c.TargetUtilization)}
	limits := func(floor float64) *awsdynamodb.EnableScalingProps {
		return &awsdynamodb.EnableScalingProps{MinCapacity: jsii.Number(floor), MaxCapacity: jsii.Number(floor * maxCapacityFactor)}
	}
	table.AutoScaleWriteCapacity(limits(c.TableWrite)).ScaleOnUtilization(target)
	table.AutoScaleReadCapacity(limits(c.TableRead)).ScaleOnUtilization(target)
	for _, ix := range schema.Indexes {
		table.AutoScaleGlobalSecondaryIndexWriteCapacity(jsii.String(ix.Name), limits(c.IndexWrite)).ScaleOnUtilization(target)
		table.AutoScaleGlobalSecondaryIndexReadCapacity(jsii.String(ix.Name), limits(c.IndexRead)).ScaleOnUtilization(target)
	}
	q := jsii.String(schema.Rejected.Name)
	table.AutoScaleGlobalSecondaryIndexWriteCapacity(q, limits(quarantineCapacity)).ScaleOnUtilization(target)
	table.AutoScaleGlobalSecondaryIndexReadCapacity(q, limits(quarantineCapacity)).ScaleOnUtilization(target)
}

func (h *Hookline) newQueues(retain awscdk.RemovalPolicy) {
	// SQS-managed encryption: free, and SNS can deliver to it without a key policy.
	queue := func(id string, props awssqs.QueueProps) awssqs.Queue {
		props.Encryption = awssqs.QueueEncryption_SQS_MANAGED
		props.EnforceSSL = jsii.Bool(true)
		return awssqs.NewQueue(h.Stack, jsii.String(id), &props)
	}
	// Dead letters are evidence to inspect and redrive, so they live as long as SQS allows.
	fortnight := awscdk.Duration_Days(jsii.Number(14))
	h.EventsDLQ = queue("EventsDLQ", awssqs.QueueProps{RetentionPeriod: fortnight, RemovalPolicy: retain})
	h.EventsQueue = queue("EventsQueue", awssqs.QueueProps{
		// 6× the subscriber's timeout (AWS's rule for Lambda consumers; pkg/wiring says why).
		VisibilityTimeout: awscdk.Duration_Seconds(seconds(wiring.VisibilityTimeout)),
		// 4 days (the SQS default), well under the DLQ's 14: a standard queue keeps a message's
		// original enqueue time when it moves to the DLQ, so the DLQ must outlive the source.
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{Queue: h.EventsDLQ, MaxReceiveCount: jsii.Number(wiring.MaxReceiveCount)},
	})
	h.NotifyFailures = queue("NotifyFailures", awssqs.QueueProps{RetentionPeriod: fortnight, RemovalPolicy: retain})
	// SNS retries a delivery to SQS for about 23 days only if the queue is reachable at all; a
	// client-side error (the queue policy or key refuses SNS) is dropped at once unless the
	// subscription has a dead-letter queue. Accepted events then wait here (SubscriptionDLQNotEmpty).
	h.SubscriptionDLQ = queue("SubscriptionDLQ", awssqs.QueueProps{RetentionPeriod: fortnight, RemovalPolicy: retain})

	// Raw delivery: the SQS body is the CloudEvents JSON itself, not an SNS envelope around it.
	h.EventsTopic.AddSubscription(awssnssubscriptions.NewSqsSubscription(h.EventsQueue, &awssnssubscriptions.SqsSubscriptionProps{
		RawMessageDelivery: jsii.Bool(true),
		DeadLetterQueue:    h.SubscriptionDLQ,
	}))
}

// newBodyBucket is the claim check's bucket: ingest puts a body whose envelope would not fit
// an SNS message here before it answers 202, and the event carries the s3:// reference. SSE
// (S3-managed keys), TLS only, no public access, and objects expire with the events that name
// them (the table's retention). S3 counts from the put (after the receipt) and rounds up to
// the next midnight UTC, so a body never expires before its event's TTL and outlives it by at
// most a day; but TTL deletes an expired item within days, so history may still find an
// event whose body is gone, and answers it as expired (404).
func newBodyBucket(stack awscdk.Stack, retain awscdk.RemovalPolicy) awss3.Bucket {
	return awss3.NewBucket(stack, jsii.String("BodyBucket"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-with-the-events"),
			Expiration:                          awscdk.Duration_Days(jsii.Number(wiring.Retention.Hours() / 24)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
		RemovalPolicy: retain,
	})
}

func (h *Hookline) wireGrants() {
	ingest, subscriber, notifier, history := h.Functions[fnIngest], h.Functions[fnSubscriber], h.Functions[fnNotifier], h.Functions[fnHistory]

	// The claim check (pkg/s3blob): ingest only writes bodies, history only reads them, both
	// under the events/ prefix the keys use; nobody deletes (the lifecycle does).
	bodies := []*string{h.BodyBucket.ArnForObjects(jsii.String("events/*"))}
	grant(ingest, bodies, "s3:PutObject")
	grant(history, bodies, "s3:GetObject")
	// S3 answers a GetObject of a missing key with 404 NoSuchKey only to a caller that may list
	// the bucket, else with 403 AccessDenied. The lifecycle can remove a body days before
	// DynamoDB's TTL deletes its event, and history must tell that (a 404) from a refusal.
	grant(history, []*string{h.BodyBucket.BucketArn()}, "s3:ListBucket")

	h.EventsTopic.GrantPublish(ingest)
	h.SourcesSecret.GrantRead(ingest, nil)
	// The quarantine (ddbstore.Rejected): PutItem keeps a refused request, UpdateItem counts it
	// against the per-source, per-minute cap; data keys seal its signature headers. Only on
	// the quarantine's own items: ingest faces the internet, and with a plain grant on the
	// table a compromised ingest could write any item, a forged event included.
	grantIf(ingest, []*string{h.Table.TableArn()}, quarantineKeysOnly(), "dynamodb:PutItem", "dynamodb:UpdateItem")
	grant(ingest, []*string{h.QuarantineKey.KeyArn()}, "kms:GenerateDataKey")

	// Each function gets the table actions its store calls make, on exactly the resources they
	// touch (pkg/ddbstore): a conditional PutItem, and UpdateItem to add a new history partition
	// to the registry item; UpdateItem to mark notified plus GetItem to tell "already marked"
	// from "missing"; Query on the named GSI, GetItem (an event, the registry) and BatchGetItem
	// (a page's items) for history. Table.Grant would add "<table>/index/*" to every one of them.
	tableOnly := []*string{h.Table.TableArn()}
	grant(subscriber, tableOnly, "dynamodb:PutItem", "dynamodb:UpdateItem")
	grant(notifier, tableOnly, "dynamodb:UpdateItem", "dynamodb:GetItem")
	withIndexes := []*string{h.Table.TableArn()}
	for _, ix := range ddbstore.TableSchema().Indexes {
		withIndexes = append(withIndexes, awscdk.Fn_Join(jsii.String(""), &[]*string{h.Table.TableArn(), jsii.String("/index/" + ix.Name)}))
	}
	grant(history, withIndexes, "dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem")
	h.NotificationsTopic.GrantPublish(notifier)

	// CloudWatch publishes alarm state changes to the encrypted alarm topic. On the topic, the
	// condition keeps other accounts' alarms out (confused deputy). The key grant has none:
	// AWS documents it unconditioned, and the key alone lets nobody publish.
	cloudwatch := "cloudwatch.amazonaws.com"
	awsiam.Grant_AddToPrincipalOrResource(&awsiam.GrantWithResourceOptions{
		Grantee: awsiam.NewServicePrincipal(jsii.String(cloudwatch), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": h.Stack.Account()}},
		}),
		Actions:      jsii.Strings("sns:Publish"),
		ResourceArns: &[]*string{h.AlarmTopic.TopicArn()},
		Resource:     h.AlarmTopic,
	})
	h.TopicKey.Grant(awsiam.NewServicePrincipal(jsii.String(cloudwatch), nil), jsii.String("kms:Decrypt"), jsii.String("kms:GenerateDataKey*"))
}

// grant allows a function's role exactly these actions on exactly these resources.
func grant(fn awslambda.Function, resources []*string, actions ...string) {
	grantIf(fn, resources, nil, actions...)
}

// grantIf is grant under IAM conditions (operator → condition key → values); nil for none.
func grantIf(fn awslambda.Function, resources []*string, conditions map[string]*map[string]any, actions ...string) {
	opts := &awsiam.GrantOnPrincipalOptions{
		Grantee:      fn,
		Actions:      jsii.Strings(actions...),
		ResourceArns: &resources,
	}
	if conditions != nil {
		opts.Conditions = &conditions
	}
	awsiam.Grant_AddToPrincipal(opts)
}

// quarantineKeysOnly limits DynamoDB item actions to the quarantine's items: every partition
// key the call touches starts with one of ddbstore's quarantine prefixes. ForAllValues holds
// for a call without keys, but PutItem and UpdateItem always carry one.
func quarantineKeysOnly() map[string]*map[string]any {
	return map[string]*map[string]any{
		"ForAllValues:StringLike": {
			"dynamodb:LeadingKeys": []string{ddbstore.RejectedPrefix + "*", ddbstore.KeptCounterPrefix + "*"},
		},
	}
}

func (h *Hookline) wireEventSources() {
	h.Functions[fnSubscriber].AddEventSource(awslambdaeventsources.NewSqsEventSource(h.EventsQueue, &awslambdaeventsources.SqsEventSourceProps{
		// Batch size, window and concurrency: pkg/wiring says why.
		BatchSize:               jsii.Number(wiring.SubscriberBatchSize),
		MaxBatchingWindow:       awscdk.Duration_Seconds(seconds(wiring.SubscriberBatchWindow)),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(wiring.SubscriberMaxConcurrency),
	}))

	h.Functions[fnNotifier].AddEventSource(awslambdaeventsources.NewDynamoEventSource(h.Table, &awslambdaeventsources.DynamoEventSourceProps{
		// TRIM_HORIZON, not LATEST: when the mapping is first created (or replaced) it starts at
		// the oldest record still in the stream, so events stored meanwhile still get their
		// email. Re-reading an already notified record is harmless: MarkNotified is idempotent.
		StartingPosition:  awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:         jsii.Number(wiring.NotifierBatchSize),
		MaxBatchingWindow: awscdk.Duration_Seconds(seconds(wiring.NotifierBatchWindow)),
		// Only new events the email policy gives an email or a digest reach the notifier;
		// MODIFY (marking notified), REMOVE (TTL), events that get no email and the table's
		// control items — the history registry's item, the quarantine's rejections and counters
		// (no source_group, see pkg/ddbstore) — are filtered out by Lambda before they cost an
		// invocation.
		Filters:                 h.notifierFilters(),
		ReportBatchItemFailures: jsii.Bool(true),
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(wiring.NotifierRetryAttempts),
		MaxRecordAge:            awscdk.Duration_Seconds(seconds(wiring.NotifierMaxRecordAge)),
		OnFailure:               awslambdaeventsources.NewSqsDlq(h.NotifyFailures),
	}))
}

func (h *Hookline) newAPI(retain awscdk.RemovalPolicy) {
	h.API = awsapigatewayv2.NewHttpApi(h.Stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		Description: jsii.String("hookline: webhooks in (signature-verified by ingest), history out (IAM)"),
		// The stage is made below, with throttling and access logs.
		CreateDefaultStage: jsii.Bool(false),
	})
	h.Stage = h.API.AddStage(jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageOptions{
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(h.Config.RateLimit),
			BurstLimit: jsii.Number(h.Config.BurstLimit),
		},
	})
	accessLogs := awslogs.NewLogGroup(h.Stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: retain,
	})
	// The L2 stage takes access log settings only as a jsii interface; setting them on the L1
	// is simpler. JSON, one line per request, keyed by the request id the functions log too.
	cfnStage := h.Stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(accessLogFormat),
	})

	v2 := &awsapigatewayv2integrations.HttpLambdaIntegrationProps{
		PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
	}
	ingest := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Ingest"), h.Functions[fnIngest], v2)
	history := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("History"), h.Functions[fnHistory], v2)

	// ANY, not POST: a browser's GET then reaches ingest and gets a 405 problem naming POST,
	// instead of API Gateway's bare 404. No authorizer: senders cannot sign with SigV4; ingest
	// verifies each source's own signature scheme over the raw body.
	h.WebhookRoute = (*h.API.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String("/webhooks/{source}"),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_ANY},
		Integration: ingest,
	}))[0]
	// Health is for uptime checkers: no auth, answered by ingest without any AWS call (see
	// lambdaio.Health for what it checks and doc.go for what it costs).
	h.HealthRoute = (*h.API.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String("/healthz"),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
		Integration: ingest,
	}))[0]
	// History is for operators: SigV4-signed requests from principals allowed execute-api:Invoke.
	iam := awsapigatewayv2authorizers.NewHttpIamAuthorizer()
	throttled := []routeThrottle{{"ANY /webhooks/{source}", h.WebhookRoute, h.Config.WebhookRateLimit, h.Config.WebhookBurstLimit}}
	for _, path := range []string{"/events", "/events/{id}"} {
		r := (*h.API.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
			Integration: history,
			Authorizer:  iam,
		}))[0]
		throttled = append(throttled, routeThrottle{"GET " + path, r, h.Config.HistoryRateLimit, h.Config.HistoryBurstLimit})
	}
	throttleRoutes(cfnStage, throttled)
}

// routeThrottle is one route's own throttle.
type routeThrottle struct {
	key         string // the route key, as API Gateway names it
	route       awsapigatewayv2.HttpRoute
	rate, burst float64
}

// throttleRoutes gives the webhook route and the history routes their own throttles (route
// settings on the stage), so history traffic never uses up what deliveries need. The stage
// must come after the routes it names: CloudFormation refuses settings for a route key that
// does not exist yet.
func throttleRoutes(stage awsapigatewayv2.CfnStage, routes []routeThrottle) {
	settings := map[string]any{}
	for _, r := range routes {
		// RouteSettings is free-form JSON in CloudFormation: its members keep their own names.
		settings[r.key] = map[string]any{"ThrottlingRateLimit": r.rate, "ThrottlingBurstLimit": r.burst}
		stage.Node().AddDependency(r.route)
	}
	stage.SetRouteSettings(settings)
}

// accessLogFormat is one JSON object per request. integrationErrorMessage explains 5xx that
// never reached a function's own log (permissions, timeouts). integrationRequestId is the
// Lambda request id of the invocation, which every line of the function's log carries as
// requestId: the key that joins the two logs (the Logs Insights query is in doc.go).
// Not logged, as they repeat what a line already has or answer no operator's question:
// requestTime (the log event's own timestamp), routeKey (method and path name the route),
// protocol, responseLength (status and integrationError say what the answer was). Each byte of
// this line is paid once per request (see pkg/cost).
const accessLogFormat = `{"requestId":"$context.requestId","integrationRequestId":"$context.integration.requestId",` +
	`"ip":"$context.identity.sourceIp","method":"$context.httpMethod",` +
	`"path":"$context.path","status":"$context.status","latencyMs":"$context.responseLatency",` +
	`"integrationLatencyMs":"$context.integrationLatency","integrationError":"$context.integrationErrorMessage",` +
	`"user":"$context.identity.userArn"}`

// notifierFilters renders the email policy as the stream trigger's filter patterns (the JSON is
// written here, with sorted keys, so the template is the same at every synth).
func (h *Hookline) notifierFilters() *[]*map[string]any {
	filters, err := h.Config.EmailPolicy.StreamFilters(ddbitem.AttrSourceGroup)
	if err != nil {
		panic(err) // Config was validated; a policy Lambda cannot filter is caught by the tests
	}
	out := make([]*map[string]any, len(filters))
	for i, f := range filters {
		b, err := json.Marshal(f)
		if err != nil {
			panic(err)
		}
		out[i] = &map[string]any{"pattern": string(b)}
	}
	return &out
}

func (h *Hookline) subscribeEmail() {
	email := h.NotifyEmail.ValueAsString()
	sub := h.NotificationsTopic.AddSubscription(awssnssubscriptions.NewEmailSubscription(email, nil))
	// The email policy, on the message attributes every email carries (source, type): the
	// outer guard, so a mistaken publish cannot flood the inbox. The typed L2 filter has no $or,
	// hence the L1 property.
	if fp := h.Config.EmailPolicy.SNSFilterPolicy(); fp != nil {
		sub.Node().DefaultChild().(awssns.CfnSubscription).SetFilterPolicy(fp)
	}
	h.AlarmTopic.AddSubscription(awssnssubscriptions.NewEmailSubscription(email, nil))
}

// scheduleDigests invokes the notifier every minute when the email policy digests a source: the
// tick sends the digests that are due (lambdaio.NotifierHandler.Invoke).
func (h *Hookline) scheduleDigests() {
	if len(h.Config.EmailPolicy.Digests()) == 0 {
		return
	}
	h.DigestSchedule = awsevents.NewRule(h.Stack, jsii.String("DigestSchedule"), &awsevents.RuleProps{
		Description: jsii.String("hookline: send the email digests that are due"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(h.Functions[fnNotifier], nil)},
	})
}

func (h *Hookline) outputs() {
	out := func(id string, value *string, desc string) {
		awscdk.NewCfnOutput(h.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	out("ApiUrl", h.Stage.Url(), "Base URL: POST {ApiUrl}webhooks/{source}; GET {ApiUrl}events (SigV4)")
	out("TableName", h.Table.TableName(), "DynamoDB events table")
	out("EventsTopicArn", h.EventsTopic.TopicArn(), "SNS topic every accepted event is published to (subscribe your own queues)")
	out("NotificationsTopicArn", h.NotificationsTopic.TopicArn(), "SNS topic of the notification emails")
	out("AlarmTopicArn", h.AlarmTopic.TopicArn(), "SNS topic of the CloudWatch alarms")
	out("EventsDLQUrl", h.EventsDLQ.QueueUrl(), "events that failed every delivery: hookline dlq list|redrive --queue-url {EventsDLQUrl}")
	out("NotifyFailuresUrl", h.NotifyFailures.QueueUrl(), "stream records whose email failed every retry: their events are sent by hookline notify --pending")
	out("SubscriptionDLQUrl", h.SubscriptionDLQ.QueueUrl(), "events SNS could not deliver to the events queue")
	out("BodyBucketName", h.BodyBucket.BucketName(), "S3 bucket of bodies too large for an SNS message (events carry s3:// references)")
	out("SourcesSecretArn", h.SourcesSecret.SecretArn(), "Secrets Manager secret holding the sources config JSON")
	out("QuarantineKeyArn", h.QuarantineKey.KeyArn(), "KMS key sealing refused requests' signatures: hookline rejected readmit --table needs kms:Decrypt on it")
}
