package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"hookline/pkg/ddbstore"
	"hookline/pkg/emailpolicy"
	"hookline/pkg/wiring"
)

func TestHTTPAPIRoutes(t *testing.T) {
	f := prod(t)
	ingest, history := f.logicalID(f.h.Functions[fnIngest]), f.logicalID(f.h.Functions[fnHistory])
	for _, tc := range []struct {
		route, auth, fn string
	}{
		{"ANY /webhooks/{source}", "NONE", ingest}, // ANY: a browser GET gets ingest's 405 problem
		{"GET /healthz", "NONE", ingest},           // uptime checks: no auth, no AWS call
		{"GET /events", "AWS_IAM", history},
		{"GET /events/{id}", "AWS_IAM", history},
	} {
		t.Run(tc.route, func(t *testing.T) {
			check(t, "route with authorization "+tc.auth, func() {
				f.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), like(obj{
					"RouteKey": tc.route, "AuthorizationType": tc.auth,
				}))
			})
			// The route's target integration invokes the right function with payload v2.
			target := findRoute(t, f, tc.route)
			integration := f.resources("AWS::ApiGatewayV2::Integration")[target]
			want := obj{"IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0", "IntegrationUri": getAtt(tc.fn, "Arn")}
			got := props(integration)
			for k, v := range want {
				if diff := cmp.Diff(v, got[k]); diff != "" {
					t.Errorf("integration %s %s (-want +got):\n%s", target, k, diff)
				}
			}
		})
	}
	check(t, "exactly four routes", func() {
		f.template.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Route"), jsii.Number(4))
	})
}

// findRoute returns the logical id of the integration a route targets.
func findRoute(t *testing.T, f *fixture, key string) string {
	t.Helper()
	for _, r := range f.resources("AWS::ApiGatewayV2::Route") {
		p := props(r)
		if p["RouteKey"] != key {
			continue
		}
		// Target is {"Fn::Join": ["", ["integrations/", {"Ref": id}]]}.
		parts := p["Target"].(obj)["Fn::Join"].([]any)[1].([]any)
		return parts[1].(obj)["Ref"].(string)
	}
	t.Fatalf("no route %q", key)
	return ""
}

func TestStageThrottlingAndAccessLogs(t *testing.T) {
	f := prod(t)
	check(t, "$default stage, auto-deployed, throttled, access-logged as JSON", func() {
		f.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), like(obj{
			"StageName":  "$default",
			"AutoDeploy": true,
			"DefaultRouteSettings": obj{
				"ThrottlingRateLimit":  defaultRateLimit,
				"ThrottlingBurstLimit": defaultBurstLimit,
			},
			"AccessLogSettings": obj{
				"DestinationArn": getAtt(accessLogGroupID(t, f), "Arn"),
				"Format":         assertions.Match_StringLikeRegexp(jsii.String(`^\{.*"requestId":"\$context\.requestId".*\}$`)),
			},
		}))
	})
	t.Run("configurable", func(t *testing.T) {
		// Throttling comes from context (apiRateLimit / apiBurstLimit, and the route limits);
		// resolving the stage's L1 shows it without another synthesis.
		h := NewHookline(awscdk.NewApp(nil), "T", &HooklineProps{Config: Config{AssetDir: dummyAssets(t), RateLimit: 7, BurstLimit: 9,
			WebhookRateLimit: 300, WebhookBurstLimit: 2000, HistoryRateLimit: 2, HistoryBurstLimit: 4}})
		stage := h.Stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
		got := h.Stack.Resolve(stage.DefaultRouteSettings())
		want := map[string]any{"throttlingRateLimit": 7.0, "throttlingBurstLimit": 9.0}
		if diff := cmp.Diff(any(want), got); diff != "" {
			t.Errorf("DefaultRouteSettings (-want +got):\n%s", diff)
		}
		routes := h.Stack.Resolve(stage.RouteSettings())
		wantRoutes := map[string]any{
			"ANY /webhooks/{source}": map[string]any{"ThrottlingRateLimit": 300.0, "ThrottlingBurstLimit": 2000.0},
			"GET /events":            map[string]any{"ThrottlingRateLimit": 2.0, "ThrottlingBurstLimit": 4.0},
			"GET /events/{id}":       map[string]any{"ThrottlingRateLimit": 2.0, "ThrottlingBurstLimit": 4.0},
		}
		if diff := cmp.Diff(any(wantRoutes), routes); diff != "" {
			t.Errorf("RouteSettings (-want +got):\n%s", diff)
		}
	})
}

// TestRouteThrottles: the webhook route and the history routes have their own throttles, sized
// apart (history never uses up what deliveries need), named by route keys that exist, and the
// stage is created after those routes (CloudFormation refuses settings for a missing route).
func TestRouteThrottles(t *testing.T) {
	f := prod(t)
	stages := f.resources("AWS::ApiGatewayV2::Stage")
	if len(stages) != 1 {
		t.Fatalf("%d stages", len(stages))
	}
	var stage obj
	for _, r := range stages {
		stage = r
	}
	settings, _ := props(stage)["RouteSettings"].(obj)
	want := obj{
		"ANY /webhooks/{source}": obj{"ThrottlingRateLimit": float64(defaultWebhookRateLimit), "ThrottlingBurstLimit": float64(defaultWebhookBurstLimit)},
		"GET /events":            obj{"ThrottlingRateLimit": float64(defaultHistoryRateLimit), "ThrottlingBurstLimit": float64(defaultHistoryBurstLimit)},
		"GET /events/{id}":       obj{"ThrottlingRateLimit": float64(defaultHistoryRateLimit), "ThrottlingBurstLimit": float64(defaultHistoryBurstLimit)},
	}
	if diff := cmp.Diff(want, settings); diff != "" {
		t.Errorf("RouteSettings (-want +got):\n%s", diff)
	}
	if defaultHistoryBurstLimit >= defaultWebhookBurstLimit || defaultHistoryRateLimit >= defaultWebhookRateLimit {
		t.Error("history is throttled no lower than deliveries")
	}
	deps := map[string]bool{}
	for _, d := range asSlice(stage["DependsOn"]) {
		deps[d.(string)] = true
	}
	keys := map[string]string{} // route key → logical id
	for id, r := range f.resources("AWS::ApiGatewayV2::Route") {
		keys[props(r)["RouteKey"].(string)] = id
	}
	for key := range want {
		id, ok := keys[key]
		if !ok {
			t.Errorf("route settings name %q, which is no route", key)
			continue
		}
		if !deps[id] {
			t.Errorf("the stage does not depend on route %s (%s): DependsOn %v", key, id, stage["DependsOn"])
		}
	}
}

func asSlice(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case string:
		return []any{v}
	}
	return nil
}

// accessLogGroupID is the log group the stage writes access logs to.
func accessLogGroupID(t *testing.T, f *fixture) string {
	t.Helper()
	for id := range f.resources("AWS::Logs::LogGroup") {
		if strings.HasPrefix(id, "ApiAccessLogs") {
			return id
		}
	}
	t.Fatal("no API access log group")
	return ""
}

func TestFunctions(t *testing.T) {
	f := prod(t)
	for _, name := range functionNames {
		t.Run(name, func(t *testing.T) {
			fn := f.h.Functions[name]
			id := f.logicalID(fn)
			r, ok := f.resources("AWS::Lambda::Function")[id]
			if !ok {
				t.Fatalf("no function %s", id)
			}
			p := props(r)
			want := obj{
				"Runtime":       "provided.al2023",
				"Architectures": []any{"arm64"},
				"Handler":       "bootstrap",
				"MemorySize":    specs[name].memoryMB,
				"Timeout":       specs[name].timeout.Seconds(),
				"LoggingConfig": obj{
					"LogFormat": "JSON", "LogGroup": ref(f.logicalID(logGroupOf(fn))),
					"SystemLogLevel": "WARN", "ApplicationLogLevel": "INFO",
				},
			}
			for k, v := range want {
				if diff := cmp.Diff(v, p[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
			if tc, ok := p["TracingConfig"].(map[string]any); ok && tc["Mode"] == "Active" {
				t.Errorf("X-Ray active tracing is on by default (%v); it is opt-in (-c tracing=true)", tc)
			}
			// Only the notifier reserves (one instance, so its pacer holds for the subscription);
			// reserving fails deploys in new accounts, and the rest use event-source concurrency.
			switch r, reserved := p["ReservedConcurrentExecutions"]; {
			case name == fnNotifier && r != 1.0:
				t.Errorf("notifier reserved concurrency = %v, want 1 (one sender keeps email under SNS's 10/s)", r)
			case name != fnNotifier && reserved:
				t.Error("reserved concurrency set: it fails deploys in new accounts; use event-source maximum concurrency")
			}
		})
	}
}

// logGroupOf is the explicit log group a function logs to.
func logGroupOf(fn awslambda.Function) constructs.IConstruct { return fn.LogGroup() }

func TestFunctionEnvironment(t *testing.T) {
	f := prod(t)
	table := ref(f.logicalID(f.h.Table))
	want := map[string]obj{
		fnIngest: {
			"HOOKLINE_TOPIC_ARN":          ref(f.logicalID(f.h.EventsTopic)),
			"HOOKLINE_SOURCES_SECRET_ARN": ref(f.logicalID(f.h.SourcesSecret)),
			"HOOKLINE_SOURCES_TTL":        "5m0s",
			"HOOKLINE_BODY_BUCKET":        ref(f.logicalID(f.h.BodyBucket)),
			"HOOKLINE_TABLE":              table, // the quarantine
			"HOOKLINE_QUARANTINE_KEY":     getAtt(f.logicalID(f.h.QuarantineKey), "Arn"),
			"HOOKLINE_KEEP_PER_MINUTE":    "10",
		},
		fnSubscriber: {"HOOKLINE_TABLE": table, "HOOKLINE_RETENTION": "2160h0m0s"},
		fnNotifier: {"HOOKLINE_TABLE": table, "HOOKLINE_NOTIFY_TOPIC_ARN": ref(f.logicalID(f.h.NotificationsTopic)),
			"HOOKLINE_EMAIL_POLICY": `{"sources":{"*":{}}}`},
		fnHistory: {"HOOKLINE_TABLE": table, "HOOKLINE_BODY_BUCKET": ref(f.logicalID(f.h.BodyBucket))},
	}
	for _, name := range functionNames {
		p := props(f.resources("AWS::Lambda::Function")[f.logicalID(f.h.Functions[name])])
		got := p["Environment"].(obj)["Variables"]
		if diff := cmp.Diff(any(want[name]), got); diff != "" {
			t.Errorf("%s environment (-want +got):\n%s", name, diff)
		}
	}
}

func TestFunctionCodeComesFromAssetDir(t *testing.T) {
	f := prod(t)
	// Each function's code is its own asset (a distinct content hash per directory).
	keys := map[string]string{}
	for _, name := range functionNames {
		p := props(f.resources("AWS::Lambda::Function")[f.logicalID(f.h.Functions[name])])
		key, _ := p["Code"].(obj)["S3Key"].(string)
		if !strings.HasSuffix(key, ".zip") {
			t.Errorf("%s: code S3Key %q is not a zipped asset", name, key)
		}
		if other, dup := keys[key]; dup {
			t.Errorf("%s and %s share one code asset %s", name, other, key)
		}
		keys[key] = name
	}

	// A directory without the binaries fails the construction, naming the missing path.
	missing := t.TempDir()
	var msg string
	func() {
		defer func() { msg = fmt.Sprint(recover()) }()
		NewHookline(awscdk.NewApp(nil), "Missing", &HooklineProps{Config: Config{AssetDir: missing}})
	}()
	if !strings.Contains(msg, missing) {
		t.Errorf("building with an empty asset dir: got %q, want an error naming %s", msg, missing)
	}
	// main checks first and says how to fix it.
	if err := checkAssets(missing); err == nil || !strings.Contains(err.Error(), "make lambdas") {
		t.Errorf("checkAssets(empty dir) = %v, want an error mentioning make lambdas", err)
	}
	if err := checkAssets(dummyAssets(t)); err != nil {
		t.Errorf("checkAssets(complete dir) = %v", err)
	}
}

func TestLogGroupsHaveRetention(t *testing.T) {
	f := prod(t)
	groups := f.resources("AWS::Logs::LogGroup")
	if len(groups) != len(functionNames)+1 {
		t.Errorf("%d log groups, want one per function plus the API access logs", len(groups))
	}
	for id, r := range groups {
		if got := props(r)["RetentionInDays"]; got != float64(30) {
			t.Errorf("%s: RetentionInDays = %v, want 30", id, got)
		}
	}
	// No CDK log-retention custom resource: the groups are explicit.
	check(t, "no LogRetention custom resource", func() {
		f.template.ResourceCountIs(jsii.String("Custom::LogRetention"), jsii.Number(0))
	})
}

func TestEventsTopicFansOutRawToQueue(t *testing.T) {
	f := prod(t)
	check(t, "SQS subscription with raw message delivery", func() {
		f.template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), like(obj{
			"Protocol":           "sqs",
			"TopicArn":           ref(f.logicalID(f.h.EventsTopic)),
			"Endpoint":           getAtt(f.logicalID(f.h.EventsQueue), "Arn"),
			"RawMessageDelivery": true,
		}))
	})
	check(t, "the queue accepts SendMessage only from the events topic", func() {
		f.template.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), like(obj{
			"PolicyDocument": like(obj{"Statement": arrayWith(like(obj{
				"Effect": "Allow", "Action": "sqs:SendMessage", "Principal": obj{"Service": "sns.amazonaws.com"},
				"Condition": obj{"ArnEquals": obj{"aws:SourceArn": ref(f.logicalID(f.h.EventsTopic))}},
			}))}),
		}))
	})
}

func TestTopicsEncryptedAndTLSOnly(t *testing.T) {
	f := prod(t)
	key := getAtt(f.logicalID(f.h.TopicKey), "Arn")
	for name, topic := range map[string]constructs.IConstruct{
		"events": f.h.EventsTopic, "notifications": f.h.NotificationsTopic, "alarms": f.h.AlarmTopic,
	} {
		id := f.logicalID(topic)
		if got := props(f.resources("AWS::SNS::Topic")[id])["KmsMasterKeyId"]; !cmp.Equal(got, any(key)) {
			t.Errorf("%s topic KmsMasterKeyId = %v, want the topic key", name, got)
		}
		f.deniesWithoutTLS(t, name+" topic", "AWS::SNS::TopicPolicy", "Topics", id, "sns:Publish")
	}
	check(t, "topic key rotates", func() {
		f.template.HasResourceProperties(jsii.String("AWS::KMS::Key"), like(obj{"EnableKeyRotation": true}))
	})
}

// deniesWithoutTLS checks that a policy of type typ listing resource id under key denies action
// to every request made without TLS.
func (f *fixture) deniesWithoutTLS(t *testing.T, what, typ, key, id, action string) {
	t.Helper()
	check(t, what+" denies "+action+" without TLS", func() {
		f.template.HasResourceProperties(jsii.String(typ), like(obj{
			key: []any{ref(id)},
			"PolicyDocument": like(obj{"Statement": arrayWith(like(obj{
				"Effect": "Deny", "Action": action,
				"Condition": obj{"Bool": obj{"aws:SecureTransport": "false"}},
			}))}),
		}))
	})
}

func TestQueues(t *testing.T) {
	f := prod(t)
	queues := f.resources("AWS::SQS::Queue")
	queue := props(queues[f.logicalID(f.h.EventsQueue)])
	dlq := props(queues[f.logicalID(f.h.EventsDLQ)])
	failures := props(queues[f.logicalID(f.h.NotifyFailures)])

	for name, q := range map[string]obj{"events": queue, "DLQ": dlq, "notify failures": failures} {
		if q["SqsManagedSseEnabled"] != true {
			t.Errorf("%s queue is not encrypted at rest (SqsManagedSseEnabled = %v)", name, q["SqsManagedSseEnabled"])
		}
	}
	for _, q := range []constructs.IConstruct{f.h.EventsQueue, f.h.EventsDLQ, f.h.NotifyFailures} {
		id := f.logicalID(q)
		f.deniesWithoutTLS(t, id, "AWS::SQS::QueuePolicy", "Queues", id, "sqs:*")
	}

	subscriberTimeout := props(f.resources("AWS::Lambda::Function")[f.logicalID(f.h.Functions[fnSubscriber])])["Timeout"].(float64)
	window := wiring.SubscriberBatchWindow.Seconds()
	if vt, _ := queue["VisibilityTimeout"].(float64); vt < 6*subscriberTimeout+window {
		t.Errorf("events queue VisibilityTimeout = %v s, want ≥ 6 × subscriber timeout (%v s) + batch window (%v s)", vt, 6*subscriberTimeout, window)
	}
	wantRedrive := obj{"deadLetterTargetArn": getAtt(f.logicalID(f.h.EventsDLQ), "Arn"), "maxReceiveCount": float64(wiring.MaxReceiveCount)}
	if diff := cmp.Diff(any(wantRedrive), queue["RedrivePolicy"]); diff != "" {
		t.Errorf("events queue RedrivePolicy (-want +got):\n%s", diff)
	}
	fortnight := float64(14 * 24 * 3600)
	if dlq["MessageRetentionPeriod"] != fortnight || failures["MessageRetentionPeriod"] != fortnight {
		t.Errorf("DLQ retention = %v, notify failures retention = %v; want 14 days (%v s) for both",
			dlq["MessageRetentionPeriod"], failures["MessageRetentionPeriod"], fortnight)
	}
	if r, _ := queue["MessageRetentionPeriod"].(float64); r >= fortnight {
		t.Errorf("events queue retention %v s must be shorter than the DLQ's: messages keep their enqueue time", r)
	}
}

// TestEventSources: each event source mapping, to its function, with partial batch responses
// (a record the handler fails is retried alone, not with its batch), and its own settings.
func TestEventSources(t *testing.T) {
	f := prod(t)
	for _, m := range []struct {
		what string
		fn   string
		want obj
	}{
		{"SQS trigger: batch 10, 60 s window, max concurrency", fnSubscriber, obj{
			"EventSourceArn":                 getAtt(f.logicalID(f.h.EventsQueue), "Arn"),
			"BatchSize":                      wiring.SubscriberBatchSize,
			"MaximumBatchingWindowInSeconds": wiring.SubscriberBatchWindow.Seconds(),
			"ScalingConfig":                  obj{"MaximumConcurrency": wiring.SubscriberMaxConcurrency},
		}},
		{"stream trigger: INSERT only, bisect, bounded retries and age, on-failure queue", fnNotifier, obj{
			"EventSourceArn":                 getAtt(f.logicalID(f.h.Table), "StreamArn"),
			"StartingPosition":               "TRIM_HORIZON",
			"BatchSize":                      wiring.NotifierBatchSize,
			"MaximumBatchingWindowInSeconds": wiring.NotifierBatchWindow.Seconds(),
			"FilterCriteria": obj{"Filters": []any{obj{
				"Pattern": `{"dynamodb":{"NewImage":{"source_group":{"S":[{"exists":true}]}}},"eventName":["INSERT"]}`,
			}}},
			"BisectBatchOnFunctionError": true,
			"MaximumRetryAttempts":       wiring.NotifierRetryAttempts,
			"MaximumRecordAgeInSeconds":  3600,
			"DestinationConfig": obj{"OnFailure": obj{
				"Destination": getAtt(f.logicalID(f.h.NotifyFailures), "Arn"),
			}},
		}},
	} {
		m.want["FunctionName"] = ref(f.logicalID(f.h.Functions[m.fn]))
		m.want["FunctionResponseTypes"] = []any{"ReportBatchItemFailures"}
		check(t, m.what, func() {
			f.template.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), like(m.want))
		})
	}
}

func TestEventsTable(t *testing.T) {
	f := prod(t)
	schema := ddbstore.TableSchema()
	id := f.logicalID(f.h.Table)
	p := props(f.resources("AWS::DynamoDB::Table")[id])

	attrs := map[string]bool{schema.PartitionKey: true}
	gsi := func(name, partitionKey, sortKey string, nonKey ...any) obj {
		attrs[partitionKey], attrs[sortKey] = true, true
		return obj{
			"IndexName": name,
			"KeySchema": []any{
				obj{"AttributeName": partitionKey, "KeyType": "HASH"},
				obj{"AttributeName": sortKey, "KeyType": "RANGE"},
			},
			"Projection": obj{"ProjectionType": "INCLUDE", "NonKeyAttributes": nonKey},
		}
	}
	var gsis []any
	for _, ix := range schema.Indexes {
		// Only the type: the notified mark must not rewrite an index entry (pkg/cost prices
		// it so), and list pages read their items from the base table.
		gsis = append(gsis, gsi(ix.Name, ix.PartitionKey, ix.SortKey, "type"))
	}
	// The quarantine's sparse index: its keys and the two attributes List filters on.
	rx := schema.Rejected
	gsis = append(gsis, gsi(rx.Name, rx.PartitionKey, rx.SortKey, "source", "reason"))
	var defs []any
	for a := range attrs {
		defs = append(defs, obj{"AttributeName": a, "AttributeType": "S"})
	}
	byName := cmp.Transformer("sortDefs", func(in []any) []any {
		out := slices.Clone(in)
		sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
		return out
	})

	want := obj{
		"BillingMode":                      "PAY_PER_REQUEST",
		"KeySchema":                        []any{obj{"AttributeName": schema.PartitionKey, "KeyType": "HASH"}},
		"GlobalSecondaryIndexes":           gsis,
		"StreamSpecification":              obj{"StreamViewType": "NEW_IMAGE"},
		"TimeToLiveSpecification":          obj{"AttributeName": schema.TTLAttribute, "Enabled": true},
		"PointInTimeRecoverySpecification": obj{"PointInTimeRecoveryEnabled": true},
		"DeletionProtectionEnabled":        true,
	}
	for k, v := range want {
		if diff := cmp.Diff(v, p[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	if diff := cmp.Diff(defs, p["AttributeDefinitions"], byName); diff != "" {
		t.Errorf("AttributeDefinitions (-want +got):\n%s", diff)
	}
}

func TestEmailParameterAndSubscriptions(t *testing.T) {
	f := prod(t)
	check(t, "NotifyEmail parameter, default from the email context", func() {
		f.template.HasParameter(jsii.String("NotifyEmail"), like(obj{"Type": "String", "Default": "ops@example.com"}))
	})
	for name, topic := range map[string]constructs.IConstruct{
		"notifications": f.h.NotificationsTopic, "alarms": f.h.AlarmTopic,
	} {
		check(t, name+" topic emails the NotifyEmail address", func() {
			f.template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), like(obj{
				"Protocol": "email", "Endpoint": ref("NotifyEmail"), "TopicArn": ref(f.logicalID(topic)),
			}))
		})
	}
	check(t, "without an email context the parameter has no default (deploy must pass one)", func() {
		dev(t).template.HasParameter(jsii.String("NotifyEmail"), like(obj{"Default": assertions.Match_Absent()}))
	})
}

func TestSourcesSecret(t *testing.T) {
	f := prod(t)
	id := f.logicalID(f.h.SourcesSecret)
	check(t, "the stack creates the secret with a placeholder ingest explains", func() {
		f.template.HasResourceProperties(jsii.String("AWS::SecretsManager::Secret"), like(obj{
			"SecretString": `{"sources": {}}`,
		}))
	})
	stmts := f.statements(f.h.Functions[fnIngest])
	if diff := cmp.Diff([]any{ref(id)}, resourcesFor(stmts, "secretsmanager:GetSecretValue")); diff != "" {
		t.Errorf("ingest may read (-want +got):\n%s", diff)
	}
}

func TestAlarms(t *testing.T) {
	f := prod(t)
	topic := []any{ref(f.logicalID(f.h.AlarmTopic))}
	fnDim := func(name string) any {
		return arrayWith(obj{"Name": "FunctionName", "Value": ref(f.logicalID(f.h.Functions[name]))})
	}
	queueDim := func(q constructs.IConstruct) any {
		return arrayWith(obj{"Name": "QueueName", "Value": getAtt(f.logicalID(q), "QueueName")})
	}
	topicDim := func(tp constructs.IConstruct) any {
		return arrayWith(obj{"Name": "TopicName", "Value": getAtt(f.logicalID(tp), "TopicName")})
	}
	type alarm struct {
		what, namespace, metric string
		dims                    any
		threshold               float64
	}
	alarms := []alarm{
		{"DLQ not empty", "AWS/SQS", "ApproximateNumberOfMessagesVisible", queueDim(f.h.EventsDLQ), 1},
		{"on-failure queue not empty", "AWS/SQS", "ApproximateNumberOfMessagesVisible", queueDim(f.h.NotifyFailures), 1},
		{"age of oldest queued event", "AWS/SQS", "ApproximateAgeOfOldestMessage", queueDim(f.h.EventsQueue), queueAgeAlarmSeconds},
		{"stream iterator age", "AWS/Lambda", "IteratorAge", fnDim(fnNotifier), iteratorAgeAlarmMillis},
		{"API 5xx", "AWS/ApiGateway", "5xx", arrayWith(obj{"Name": "ApiId", "Value": ref(f.logicalID(f.h.API))}), api5xxAlarmCount},
		{"subscription DLQ not empty", "AWS/SQS", "ApproximateNumberOfMessagesVisible", queueDim(f.h.SubscriptionDLQ), 1},
		{"events topic delivery failures", "AWS/SNS", "NumberOfNotificationsFailed", topicDim(f.h.EventsTopic), 1},
		{"notifications topic delivery failures", "AWS/SNS", "NumberOfNotificationsFailed", topicDim(f.h.NotificationsTopic), 1},
		{"unauthorized rejections", "Hookline", "Rejected", []any{obj{"Name": "Reason", "Value": "unauthorized"}}, defaultUnauthorizedThreshold},
		{"pending notifications older than 15 minutes", "Hookline", "PendingNotificationAgeMs", assertions.Match_Absent(), 15 * 60 * 1000},
	}
	for _, name := range functionNames {
		alarms = append(alarms,
			alarm{name + " errors", "AWS/Lambda", "Errors", fnDim(name), 1},
			alarm{name + " throttles", "AWS/Lambda", "Throttles", fnDim(name), 1})
	}
	for _, a := range alarms {
		check(t, "alarm on "+a.what, func() {
			f.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), like(obj{
				"Namespace": a.namespace, "MetricName": a.metric, "Dimensions": a.dims,
				"Threshold":          a.threshold,
				"ComparisonOperator": "GreaterThanOrEqualToThreshold",
				"AlarmActions":       topic, "OKActions": topic,
			}))
		})
	}
	// A silence alarm per source with expect_every: no accepted event in one period, and no
	// data at all is silence.
	for source, period := range map[string]float64{"github": 3600, "billing": 86400} {
		check(t, "silence alarm for "+source, func() {
			f.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), like(obj{
				"Namespace": "Hookline", "MetricName": "Accepted", "Dimensions": []any{obj{"Name": "Source", "Value": source}},
				"Statistic": "Sum", "Period": period, "EvaluationPeriods": 1.0,
				"Threshold": 1.0, "ComparisonOperator": "LessThanThreshold", "TreatMissingData": "breaching",
				"AlarmActions": topic, "OKActions": topic,
			}))
		})
	}
	check(t, "no other alarms", func() {
		f.template.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(float64(len(alarms)+2)))
	})
	// Every alarm says what to do.
	for id, r := range f.resources("AWS::CloudWatch::Alarm") {
		if desc, _ := props(r)["AlarmDescription"].(string); len(desc) < 40 {
			t.Errorf("alarm %s: description %q does not say what to do", id, desc)
		}
	}
	check(t, "CloudWatch may publish to the alarm topic, from this account only", func() {
		f.template.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), like(obj{
			"Topics": topic,
			"PolicyDocument": like(obj{"Statement": arrayWith(like(obj{
				"Effect": "Allow", "Action": "sns:Publish", "Principal": obj{"Service": "cloudwatch.amazonaws.com"},
				"Condition": obj{"StringEquals": obj{"aws:SourceAccount": ref("AWS::AccountId")}},
			}))}),
		}))
	})
	check(t, "CloudWatch may use the topic key (alarms go to an encrypted topic)", func() {
		f.template.HasResourceProperties(jsii.String("AWS::KMS::Key"), like(obj{
			"KeyPolicy": like(obj{"Statement": arrayWith(like(obj{
				"Effect": "Allow", "Principal": obj{"Service": "cloudwatch.amazonaws.com"},
				"Action": []any{"kms:Decrypt", "kms:GenerateDataKey*"},
			}))}),
		}))
	})
}

func TestDashboard(t *testing.T) {
	f := prod(t)
	check(t, "one dashboard", func() {
		f.template.ResourceCountIs(jsii.String("AWS::CloudWatch::Dashboard"), jsii.Number(1))
	})
	// The functions' own metrics are on it: every one, and Rejected once per reason.
	for _, d := range f.resources("AWS::CloudWatch::Dashboard") {
		b, _ := json.Marshal(props(d)["DashboardBody"])
		body := string(b)
		for _, m := range []string{"Accepted", "Stored", "Duplicate", "Notified", "NotifyFailed", "ReceiptToStoredMs", "ReceiptToNotifiedMs", "PendingNotificationAgeMs"} {
			if !strings.Contains(body, `\"Hookline\",\"`+m+`\"`) {
				t.Errorf("the dashboard does not graph Hookline %s", m)
			}
		}
		if n := strings.Count(body, `\"Hookline\",\"Rejected\",\"Reason\"`); n != 7 {
			t.Errorf("the dashboard graphs Rejected for %d reasons, want 7", n)
		}
	}
	// Rotation tracking on AWS: the graph searches the ingest function's EMF metric by its
	// namespace, metric and both dimensions, the names pkg/metrics writes.
	body := dashboardBody(t, f)
	var widgets struct {
		Widgets []struct {
			Properties struct {
				Title   string  `json:"title"`
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &widgets); err != nil {
		t.Fatalf("dashboard body: %v\n%s", err, body)
	}
	found := false
	for _, w := range widgets.Widgets {
		for _, m := range w.Properties.Metrics {
			if len(m) == 0 {
				continue
			}
			opts, _ := m[0].(map[string]any)
			if expr, _ := opts["expression"].(string); expr == `SEARCH('{Hookline,Source,Key} MetricName="SignatureKeyMatch"', 'Sum', 3600)` {
				found = true
				if !strings.Contains(w.Properties.Title, "rotation") {
					t.Errorf("key match widget title %q", w.Properties.Title)
				}
			}
		}
	}
	if !found {
		t.Errorf("no dashboard graph searches SignatureKeyMatch by Source and Key:\n%s", body)
	}
}

// dashboardBody renders the dashboard's DashboardBody, an Fn::Join of literals and references,
// with each reference as a placeholder.
func dashboardBody(t *testing.T, f *fixture) string {
	t.Helper()
	for _, r := range f.resources("AWS::CloudWatch::Dashboard") {
		var b strings.Builder
		join := props(r)["DashboardBody"].(obj)["Fn::Join"].([]any)
		for _, part := range join[1].([]any) {
			if s, ok := part.(string); ok {
				b.WriteString(s)
			} else {
				b.WriteString("REF")
			}
		}
		return b.String()
	}
	t.Fatal("no dashboard")
	return ""
}

func TestOutputs(t *testing.T) {
	f := prod(t)
	for _, o := range []string{"ApiUrl", "TableName", "EventsTopicArn", "NotificationsTopicArn", "AlarmTopicArn", "SourcesSecretArn", "EventsDLQUrl", "NotifyFailuresUrl", "QuarantineKeyArn"} {
		check(t, "output "+o, func() { f.template.HasOutput(jsii.String(o), assertions.Match_AnyValue()) })
	}
}

// TestLeastPrivilege pins every action each function may take and on what: a new grant must
// show up here, and a wildcard only where the service forces it.
func TestLeastPrivilege(t *testing.T) {
	f := prod(t)
	// No xray actions: tracing is opt-in (-c tracing=true), and off by default.
	base := []string{"logs:CreateLogStream", "logs:PutLogEvents"}
	want := map[string][]string{
		fnIngest: append(slices.Clone(base), "sns:Publish", "kms:Decrypt", "kms:GenerateDataKey*",
			"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "s3:PutObject",
			"dynamodb:PutItem", "dynamodb:UpdateItem", "kms:GenerateDataKey"),
		fnSubscriber: append(slices.Clone(base), "dynamodb:PutItem", "dynamodb:UpdateItem",
			"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
		fnNotifier: append(slices.Clone(base), "dynamodb:UpdateItem", "dynamodb:GetItem", "sns:Publish", "kms:Decrypt", "kms:GenerateDataKey*",
			"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
			"dynamodb:ListStreams", "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"),
		fnHistory: append(slices.Clone(base), "dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem", "s3:GetObject", "s3:ListBucket"),
	}
	for _, name := range functionNames {
		t.Run(name, func(t *testing.T) {
			stmts := f.statements(f.h.Functions[name])
			var got []string
			for _, s := range stmts {
				got = append(got, actions(s)...)
			}
			slices.Sort(got)
			w := slices.Clone(want[name])
			slices.Sort(w)
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}

	table := getAtt(f.logicalID(f.h.Table), "Arn")
	bodies := obj{"Fn::Join": []any{"", []any{getAtt(f.logicalID(f.h.BodyBucket), "Arn"), "/events/*"}}}
	index := func(name string) any {
		return obj{"Fn::Join": []any{"", []any{table, "/index/" + name}}}
	}
	resources := []struct {
		fn, action string
		want       []any
	}{
		{fnIngest, "sns:Publish", []any{ref(f.logicalID(f.h.EventsTopic))}},
		{fnSubscriber, "dynamodb:PutItem", []any{table}},
		{fnNotifier, "dynamodb:UpdateItem", []any{table}},
		{fnNotifier, "sns:Publish", []any{ref(f.logicalID(f.h.NotificationsTopic))}},
		{fnNotifier, "sqs:SendMessage", []any{getAtt(f.logicalID(f.h.NotifyFailures), "Arn")}},
		{fnNotifier, "dynamodb:GetRecords", []any{getAtt(f.logicalID(f.h.Table), "StreamArn")}},
		{fnHistory, "dynamodb:Query", []any{table, index(ddbstore.IndexByGroup)}},
		{fnSubscriber, "dynamodb:UpdateItem", []any{table}},
		{fnIngest, "kms:GenerateDataKey*", []any{getAtt(f.logicalID(f.h.TopicKey), "Arn")}},
		// The quarantine: keep and count refused requests; make data keys, never decrypt.
		{fnIngest, "dynamodb:PutItem", []any{table}},
		{fnIngest, "dynamodb:UpdateItem", []any{table}},
		{fnIngest, "kms:GenerateDataKey", []any{getAtt(f.logicalID(f.h.QuarantineKey), "Arn")}},
		{fnIngest, "kms:Decrypt", []any{getAtt(f.logicalID(f.h.TopicKey), "Arn")}},
		{fnIngest, "s3:PutObject", []any{bodies}},
		{fnHistory, "s3:GetObject", []any{bodies}},
		{fnHistory, "s3:ListBucket", []any{getAtt(f.logicalID(f.h.BodyBucket), "Arn")}}, // so a missing body is a 404
		{fnSubscriber, "logs:PutLogEvents", []any{getAtt(f.logicalID(logGroupOf(f.h.Functions[fnSubscriber])), "Arn")}},
	}
	for _, r := range resources {
		if diff := cmp.Diff(r.want, resourcesFor(f.statements(f.h.Functions[r.fn]), r.action)); diff != "" {
			t.Errorf("%s %s on (-want +got):\n%s", r.fn, r.action, diff)
		}
	}

	// Ingest's table writes are limited to the quarantine's items (the rehearsal evaluates it).
	quarantineOnly := obj{"ForAllValues:StringLike": obj{"dynamodb:LeadingKeys": []any{ddbstore.RejectedPrefix + "*", ddbstore.KeptCounterPrefix + "*"}}}
	for _, s := range f.statements(f.h.Functions[fnIngest]) {
		if slices.ContainsFunc(actions(s), func(a string) bool { return strings.HasPrefix(a, "dynamodb:") }) {
			if diff := cmp.Diff(quarantineOnly, s["Condition"]); diff != "" {
				t.Errorf("ingest's statement %v: condition (-want +got):\n%s", actions(s), diff)
			}
		}
	}

	// Across the whole template: no managed policies, no wildcard actions (bar the one KMS
	// family SNS needs), Resource "*" only for actions without resource-level permissions.
	forcedStar := map[string]bool{"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true, "dynamodb:ListStreams": true}
	for id, r := range f.resources("AWS::IAM::Role") {
		if _, ok := props(r)["ManagedPolicyArns"]; ok {
			t.Errorf("role %s has managed policies", id)
		}
	}
	check(t, "no managed policies", func() {
		f.template.ResourceCountIs(jsii.String("AWS::IAM::ManagedPolicy"), jsii.Number(0))
	})
	for id, r := range f.resources("AWS::IAM::Policy") {
		for _, s := range props(r)["PolicyDocument"].(obj)["Statement"].([]any) {
			s := s.(obj)
			for _, a := range actions(s) {
				if strings.Contains(a, "*") && a != "kms:GenerateDataKey*" {
					t.Errorf("%s: wildcard action %s", id, a)
				}
				if s["Resource"] == "*" && !forcedStar[a] {
					t.Errorf("%s: %s on Resource *", id, a)
				}
			}
		}
	}
}

// statements returns the Allow statements of the policies attached to a function's role.
func (f *fixture) statements(fn awslambda.Function) []obj {
	role := ref(f.logicalID(fn.Role()))
	var out []obj
	for _, r := range f.resources("AWS::IAM::Policy") {
		p := props(r)
		if !slices.ContainsFunc(p["Roles"].([]any), func(x any) bool { return cmp.Equal(x, any(role)) }) {
			continue
		}
		for _, s := range p["PolicyDocument"].(obj)["Statement"].([]any) {
			if s.(obj)["Effect"] == "Allow" {
				out = append(out, s.(obj))
			}
		}
	}
	return out
}

func actions(s obj) []string {
	switch a := s["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, len(a))
		for i, x := range a {
			out[i] = x.(string)
		}
		return out
	}
	return nil
}

// resourcesFor lists the resources of the statements that allow action.
func resourcesFor(stmts []obj, action string) []any {
	var out []any
	for _, s := range stmts {
		if !slices.Contains(actions(s), action) {
			continue
		}
		switch r := s["Resource"].(type) {
		case []any:
			out = append(out, r...)
		default:
			out = append(out, r)
		}
	}
	return out
}

// TestNoHardCodedNames: CloudFormation names everything, so two stacks (a dev stack next to
// prod, or two accounts' pipelines) never collide and replacements never fail on a name.
func TestNoHardCodedNames(t *testing.T) {
	f := prod(t)
	nameProps := map[string]string{
		"AWS::DynamoDB::Table":        "TableName",
		"AWS::SNS::Topic":             "TopicName",
		"AWS::SQS::Queue":             "QueueName",
		"AWS::Lambda::Function":       "FunctionName",
		"AWS::IAM::Role":              "RoleName",
		"AWS::Logs::LogGroup":         "LogGroupName",
		"AWS::SecretsManager::Secret": "Name",
		"AWS::CloudWatch::Alarm":      "AlarmName",
		"AWS::CloudWatch::Dashboard":  "DashboardName",
		"AWS::KMS::Alias":             "AliasName",
	}
	for typ, prop := range nameProps {
		for id, r := range f.resources(typ) {
			if v, ok := props(r)[prop]; ok {
				t.Errorf("%s %s has a hard-coded %s %v", typ, id, prop, v)
			}
		}
	}
}

// TestStatefulResourcesRetainedUnlessDev: by default nothing holding events, secrets or logs is
// deleted with the stack; `-c dev=true` makes all of it disposable.
func TestStatefulResourcesRetainedUnlessDev(t *testing.T) {
	stateful := []string{"AWS::DynamoDB::Table", "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup", "AWS::KMS::Key"}
	for _, tc := range []struct {
		name   string
		f      *fixture
		policy string
		protec bool
	}{
		{"prod", prod(t), "Retain", true},
		{"dev", dev(t), "Delete", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, typ := range stateful {
				rs := tc.f.resources(typ)
				if len(rs) == 0 {
					t.Errorf("no %s", typ)
				}
				for id, r := range rs {
					if r["DeletionPolicy"] != tc.policy || r["UpdateReplacePolicy"] != tc.policy {
						t.Errorf("%s %s: DeletionPolicy %v, UpdateReplacePolicy %v; want %s",
							typ, id, r["DeletionPolicy"], r["UpdateReplacePolicy"], tc.policy)
					}
				}
			}
			for _, q := range []constructs.IConstruct{tc.f.h.EventsDLQ, tc.f.h.NotifyFailures} {
				id := tc.f.logicalID(q)
				if got := tc.f.resources("AWS::SQS::Queue")[id]["DeletionPolicy"]; got != tc.policy {
					t.Errorf("dead-letter queue %s: DeletionPolicy %v, want %s", id, got, tc.policy)
				}
			}
			table := props(tc.f.resources("AWS::DynamoDB::Table")[tc.f.logicalID(tc.f.h.Table)])
			if table["DeletionProtectionEnabled"] != tc.protec {
				t.Errorf("table DeletionProtectionEnabled = %v, want %v", table["DeletionProtectionEnabled"], tc.protec)
			}
		})
	}
}

func TestConfigFromContext(t *testing.T) {
	for _, tc := range []struct {
		name    string
		context map[string]any
		want    Config
		wantErr bool
	}{
		{"defaults", nil, withRoutes(Config{AssetDir: "build", RateLimit: 50, BurstLimit: 100, UnauthorizedThreshold: 10}, 100, 500, 10, 20).withDefaults(), false},
		{"cdk.json types", map[string]any{"dev": false, "email": "", "apiRateLimit": 20.0, "webhookBurstLimit": 800.0},
			withRoutes(Config{AssetDir: "build", RateLimit: 20, BurstLimit: 100, UnauthorizedThreshold: 10}, 100, 800, 10, 20).withDefaults(), false},
		{"-c strings", map[string]any{"dev": "true", "email": "me@example.com", "assetDir": "out", "apiBurstLimit": "300", "unauthorizedAlarmThreshold": "3",
			"webhookRateLimit": "250", "historyRateLimit": "5", "historyBurstLimit": "8"},
			withRoutes(Config{AssetDir: "out", Dev: true, Email: "me@example.com", RateLimit: 50, BurstLimit: 300, UnauthorizedThreshold: 3}, 250, 500, 5, 8).withDefaults(), false},
		{"sources file", map[string]any{"sources": sourcesFile(t, `{"sources":{"a":{"scheme":"github","expect_every":"1h"},"b":{"scheme":"github"}}}`)},
			withRoutes(Config{AssetDir: "build", RateLimit: 50, BurstLimit: 100, UnauthorizedThreshold: 10, ExpectEvery: map[string]time.Duration{"a": time.Hour}}, 100, 500, 10, 20).withDefaults(), false},
		{"tracing", map[string]any{"tracing": "true"}, withRoutes(Config{AssetDir: "build", RateLimit: 50, BurstLimit: 100, UnauthorizedThreshold: 10, Tracing: true}, 100, 500, 10, 20).withDefaults(), false},
		{"email policy from cdk.json", map[string]any{"emailPolicy": map[string]any{"sources": map[string]any{"github": map[string]any{"digest": "5m"}}}},
			Config{EmailPolicy: emailpolicy.Policy{Sources: map[string]emailpolicy.Rule{"github": {Digest: emailpolicy.Duration(5 * time.Minute)}}}}.withDefaults(), false},
		{"email policy from -c, no reservation", map[string]any{"emailPolicy": `{"sources": {}}`, "notifierConcurrency": "none"},
			Config{EmailPolicy: emailpolicy.Policy{Sources: map[string]emailpolicy.Rule{}}, NotifierConcurrency: noReservation}.withDefaults(), false},
		{"bad bool", map[string]any{"dev": "yes please"}, Config{}, true},
		{"bad number", map[string]any{"apiRateLimit": "-3"}, Config{}, true},
		{"bad route number", map[string]any{"historyBurstLimit": "lots"}, Config{}, true},
		{"missing sources file", map[string]any{"sources": "/nonexistent/sources.json"}, Config{}, true},
		{"bad expect_every", map[string]any{"sources": sourcesFile(t, `{"sources":{"a":{"expect_every":"30s"}}}`)}, Config{}, true},
		{"bad policy", map[string]any{"emailPolicy": `{"sources": {"*": {"digest": "5m"}}}`}, Config{}, true},
		{"bad concurrency", map[string]any{"notifierConcurrency": "1.5"}, Config{}, true},
		{"on-demand from cdk.json", map[string]any{"tableCapacity": "on-demand"}, Config{}.withDefaults(), false},
		{"provisioned, defaults", map[string]any{"tableCapacity": "provisioned"},
			Config{Capacity: TableCapacity{Provisioned: true, TableWrite: 200, TableRead: 10, IndexWrite: 100, IndexRead: 10, TargetUtilization: 70}}.withDefaults(), false},
		{"provisioned, -c numbers", map[string]any{"tableCapacity": "provisioned", "tableWriteCapacity": "600", "indexReadCapacity": "25", "tableTargetUtilization": "50"},
			Config{Capacity: TableCapacity{Provisioned: true, TableWrite: 600, TableRead: 10, IndexWrite: 100, IndexRead: 25, TargetUtilization: 50}}.withDefaults(), false},
		{"bad capacity mode", map[string]any{"tableCapacity": "reserved"}, Config{}, true},
		{"capacity without provisioned", map[string]any{"tableWriteCapacity": "300"}, Config{}, true},
		{"fractional capacity", map[string]any{"tableCapacity": "provisioned", "tableReadCapacity": "2.5"}, Config{}, true},
		{"utilization out of range", map[string]any{"tableCapacity": "provisioned", "tableTargetUtilization": "95"}, Config{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.context
			app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
			got, err := configFromContext(app)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); err == nil && diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func sourcesFile(t *testing.T, doc string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sources.json")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func withRoutes(c Config, webhookRate, webhookBurst, historyRate, historyBurst float64) Config {
	c.WebhookRateLimit, c.WebhookBurstLimit, c.HistoryRateLimit, c.HistoryBurstLimit = webhookRate, webhookBurst, historyRate, historyBurst
	return c
}

func TestEnvironment(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if e := environment(env(nil)); e != nil {
		t.Errorf("without credentials: %+v, want nil (environment-agnostic)", e)
	}
	e := environment(env(map[string]string{"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "eu-west-1"}))
	if e == nil || *e.Account != "123456789012" || *e.Region != "eu-west-1" {
		t.Errorf("with account and region: %+v", e)
	}
}

// TestCDKJSON: cdk.json runs this app and its context parses to the production defaults, so
// what the tests synthesize is what `make synth` and `make deploy` synthesize.
func TestCDKJSON(t *testing.T) {
	b, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	if c.App != "go run ./infra" {
		t.Errorf("app = %q, want go run ./infra", c.App)
	}
	got, err := configFromContext(awscdk.NewApp(&awscdk.AppProps{Context: &c.Context}))
	if err != nil {
		t.Fatalf("cdk.json context: %v", err)
	}
	if diff := cmp.Diff((Config{}).withDefaults(), got); diff != "" {
		t.Errorf("cdk.json context is not the production defaults (-want +got):\n%s", diff)
	}
}
