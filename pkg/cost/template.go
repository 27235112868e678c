package cost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"hookline/pkg/wiring"
)

// Template is the part of a synthesized CloudFormation template the model reads.
type Template struct {
	Resources map[string]Resource `json:"Resources"`
}

// Resource is one template resource.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties,omitempty"`
}

// read lists, per resource type, the properties the model reads. Prune keeps exactly these,
// so the checked-in template changes only when something the bill depends on changes.
var read = map[string][]string{
	"AWS::Lambda::Function":           {"MemorySize", "Architectures", "TracingConfig", "LoggingConfig", "Environment"},
	"AWS::Lambda::EventSourceMapping": {"FunctionName", "EventSourceArn", "BatchSize", "MaximumBatchingWindowInSeconds", "FilterCriteria", "FunctionResponseTypes"},
	"AWS::DynamoDB::Table":            {"KeySchema", "BillingMode", "ProvisionedThroughput", "GlobalSecondaryIndexes", "StreamSpecification", "PointInTimeRecoverySpecification", "TimeToLiveSpecification"},
	// A provisioned table's auto scaling: the targets' floors and ceilings, the policies' target.
	"AWS::ApplicationAutoScaling::ScalableTarget": {"ServiceNamespace", "ResourceId", "ScalableDimension", "MinCapacity", "MaxCapacity"},
	"AWS::ApplicationAutoScaling::ScalingPolicy":  {"PolicyType", "ScalingTargetId", "TargetTrackingScalingPolicyConfiguration"},
	"AWS::SNS::Topic":             {"KmsMasterKeyId"},
	"AWS::SNS::Subscription":      {"Protocol", "TopicArn", "RawMessageDelivery", "FilterPolicy", "FilterPolicyScope"},
	"AWS::SQS::Queue":             {"ReceiveMessageWaitTimeSeconds"},
	"AWS::ApiGatewayV2::Api":      {"ProtocolType"},
	"AWS::ApiGatewayV2::Stage":    {"AccessLogSettings"},
	"AWS::ApiGatewayRestApi":      nil,
	"AWS::CloudWatch::Alarm":      nil,
	"AWS::CloudWatch::Dashboard":  nil,
	"AWS::KMS::Key":               {"EnableKeyRotation"},
	"AWS::SecretsManager::Secret": nil,
	"AWS::XRay::SamplingRule":     {"SamplingRule"},
	"AWS::Events::Rule":           {"ScheduleExpression", "Targets"},
	"AWS::Scheduler::Schedule":    {"ScheduleExpression", "Target"},
}

// Prune returns the resources and properties of a synthesized template that the model reads,
// as indented JSON with sorted keys: what pkg/cost embeds as template.json.
func Prune(full []byte) ([]byte, error) {
	var t Template
	if err := json.Unmarshal(full, &t); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	out := Template{Resources: map[string]Resource{}}
	for id, r := range t.Resources {
		keep, ok := read[r.Type]
		if !ok {
			continue
		}
		pr := Resource{Type: r.Type}
		for _, k := range keep {
			if v, ok := r.Properties[k]; ok {
				if pr.Properties == nil {
					pr.Properties = map[string]any{}
				}
				pr.Properties[k] = v
			}
		}
		out.Resources[id] = pr
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Stack is what the model reads from the template.
type Stack struct {
	Functions map[string]StackFunction // by wiring name: ingest, subscriber, notifier, history
	// SQS is the subscriber's queue mapping, Stream the notifier's.
	SQS, Stream Mapping
	Table       StackTable
	// HTTPAPI is true for an API Gateway HTTP API (v2), AccessLogFormat its stage's format.
	HTTPAPI         bool
	AccessLogFormat string
	// EmailFilterPolicy is the notifications topic's email subscription's filter, nil if none.
	EmailFilterPolicy map[string]any
	EmailSubscription bool
	RawDelivery       bool // the events queue's subscription delivers the envelope bare
	EncryptedTopics   int
	Alarms            int
	Dashboards        int
	KMSKeys           int
	RotatedKeys       int
	Secrets           int
	SamplingRules     int
	QueueWaitSeconds  float64
	// ScalingPolicies counts the target tracking policies: Application Auto Scaling creates
	// CloudWatch alarms for each (see Assumptions).
	ScalingPolicies int
}

// StackFunction is one function's bill-relevant properties.
type StackFunction struct {
	LogicalID      string
	MemoryMB       float64
	ARM            bool
	Tracing        string // "Active", "PassThrough" or "" (none)
	LogFormat      string // "JSON" or "Text"
	SystemLogLevel string // "" means Lambda's default (INFO)
	AppLogLevel    string
	Env            map[string]any
}

// Mapping is an event source mapping.
type Mapping struct {
	Found       bool
	BatchSize   int
	WindowSecs  float64
	Filters     []string // the filter patterns, as JSON
	PartialFail bool
}

// StackTable is the events table.
type StackTable struct {
	// PayPerRequest is on-demand capacity; otherwise the table and each GSI have Capacity.
	PayPerRequest bool
	PITR          bool
	Stream        string // the stream view type
	TTL           bool
	Keys          []string // the base table's key attributes
	Capacity      StackCapacity
	Indexes       []StackIndex
}

// StackIndex is one GSI.
type StackIndex struct {
	Name       string
	Keys       []string
	Projection string   // ALL, KEYS_ONLY or INCLUDE
	NonKey     []string // INCLUDE's attributes
	Capacity   StackCapacity
}

// StackCapacity is a provisioned table's or GSI's throughput: what the template provisions,
// and the auto scaling of each, nil when none scales it.
type StackCapacity struct {
	Read, Write               float64
	ReadScaling, WriteScaling *Scaling
}

// Scaling is Application Auto Scaling target tracking: capacity held at Target percent
// utilization, between Min and Max units.
type Scaling struct {
	Min, Max, Target float64
}

// logicalID matches a CDK logical id: the construct id followed by an 8-digit hash.
func logicalPrefix(id string) string {
	if len(id) > 8 {
		if _, err := strconv.ParseUint(id[len(id)-8:], 16, 64); err == nil {
			return id[:len(id)-8]
		}
	}
	return id
}

// ReadTemplate reads the bill-relevant facts of a template (a full one or a pruned one).
func ReadTemplate(b []byte) (*Stack, error) {
	var t Template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	s := &Stack{Functions: map[string]StackFunction{}}
	fnByID := map[string]string{}
	titles := map[string]string{}
	for _, fn := range []string{wiring.Ingest, wiring.Subscriber, wiring.Notifier, wiring.History} {
		titles[strings.ToUpper(fn[:1])+fn[1:]] = fn
	}
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var notificationsTopic string
	for _, id := range ids {
		r := t.Resources[id]
		p := r.Properties
		switch r.Type {
		case "AWS::Lambda::Function":
			name, ok := titles[logicalPrefix(id)]
			if !ok {
				continue
			}
			f := StackFunction{LogicalID: id, MemoryMB: num(p["MemorySize"]), LogFormat: "Text"}
			if f.MemoryMB == 0 {
				f.MemoryMB = 128 // Lambda's default
			}
			for _, a := range list(p["Architectures"]) {
				f.ARM = a == "arm64"
			}
			if tc, ok := p["TracingConfig"].(map[string]any); ok {
				f.Tracing, _ = tc["Mode"].(string)
			}
			if lc, ok := p["LoggingConfig"].(map[string]any); ok {
				if v, ok := lc["LogFormat"].(string); ok {
					f.LogFormat = v
				}
				f.SystemLogLevel, _ = lc["SystemLogLevel"].(string)
				f.AppLogLevel, _ = lc["ApplicationLogLevel"].(string)
			}
			if env, ok := p["Environment"].(map[string]any); ok {
				f.Env, _ = env["Variables"].(map[string]any)
			}
			s.Functions[name] = f
			fnByID[id] = name
		case "AWS::SNS::Topic":
			if p["KmsMasterKeyId"] != nil {
				s.EncryptedTopics++
			}
			if logicalPrefix(id) == "NotificationsTopic" {
				notificationsTopic = id
			}
		case "AWS::SQS::Queue":
			if w := num(p["ReceiveMessageWaitTimeSeconds"]); w > s.QueueWaitSeconds {
				s.QueueWaitSeconds = w
			}
		case "AWS::ApiGatewayV2::Api":
			s.HTTPAPI = p["ProtocolType"] == "HTTP"
		case "AWS::ApiGatewayV2::Stage":
			if a, ok := p["AccessLogSettings"].(map[string]any); ok {
				s.AccessLogFormat, _ = a["Format"].(string)
			}
		case "AWS::CloudWatch::Alarm":
			s.Alarms++
		case "AWS::CloudWatch::Dashboard":
			s.Dashboards++
		case "AWS::KMS::Key":
			s.KMSKeys++
			if p["EnableKeyRotation"] == true {
				s.RotatedKeys++
			}
		case "AWS::SecretsManager::Secret":
			s.Secrets++
		case "AWS::XRay::SamplingRule":
			s.SamplingRules++
		case "AWS::DynamoDB::Table":
			s.Table = readTable(p)
		}
	}
	readScaling(t, ids, s)
	// Second pass: what refers to the functions and topics found above.
	for _, id := range ids {
		r := t.Resources[id]
		p := r.Properties
		switch r.Type {
		case "AWS::Lambda::EventSourceMapping":
			m := Mapping{Found: true, BatchSize: int(num(p["BatchSize"])), WindowSecs: num(p["MaximumBatchingWindowInSeconds"])}
			if fc, ok := p["FilterCriteria"].(map[string]any); ok {
				for _, f := range anyList(fc["Filters"]) {
					if fm, ok := f.(map[string]any); ok {
						if pat, ok := fm["Pattern"].(string); ok {
							m.Filters = append(m.Filters, pat)
						}
					}
				}
			}
			for _, t := range list(p["FunctionResponseTypes"]) {
				m.PartialFail = m.PartialFail || t == "ReportBatchItemFailures"
			}
			switch fnByID[refID(p["FunctionName"])] {
			case wiring.Subscriber:
				if m.BatchSize == 0 {
					m.BatchSize = 10 // SQS's default
				}
				s.SQS = m
			case wiring.Notifier:
				if m.BatchSize == 0 {
					m.BatchSize = 100 // the streams' default
				}
				s.Stream = m
			}
		case "AWS::SNS::Subscription":
			switch p["Protocol"] {
			case "email":
				if notificationsTopic != "" && refID(p["TopicArn"]) == notificationsTopic {
					s.EmailSubscription = true
					s.EmailFilterPolicy, _ = p["FilterPolicy"].(map[string]any)
				}
			case "sqs":
				s.RawDelivery = p["RawMessageDelivery"] == true
			}
		}
	}
	for _, fn := range []string{wiring.Ingest, wiring.Subscriber, wiring.Notifier} {
		if _, ok := s.Functions[fn]; !ok {
			return nil, fmt.Errorf("template: no %s function (a Lambda function whose logical id starts with its construct id)", fn)
		}
	}
	if !s.SQS.Found || !s.Stream.Found {
		return nil, fmt.Errorf("template: the subscriber's queue mapping or the notifier's stream mapping is missing")
	}
	return s, nil
}

func readTable(p map[string]any) StackTable {
	t := StackTable{PayPerRequest: p["BillingMode"] == "PAY_PER_REQUEST"}
	if pitr, ok := p["PointInTimeRecoverySpecification"].(map[string]any); ok {
		t.PITR = pitr["PointInTimeRecoveryEnabled"] == true
	}
	if ss, ok := p["StreamSpecification"].(map[string]any); ok {
		t.Stream, _ = ss["StreamViewType"].(string)
	}
	if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok {
		t.TTL = ttl["Enabled"] == true
	}
	t.Keys = keyNames(p["KeySchema"])
	t.Capacity = throughput(p["ProvisionedThroughput"])
	for _, g := range anyList(p["GlobalSecondaryIndexes"]) {
		gm, _ := g.(map[string]any)
		ix := StackIndex{Keys: keyNames(gm["KeySchema"]), Capacity: throughput(gm["ProvisionedThroughput"])}
		ix.Name, _ = gm["IndexName"].(string)
		if pr, ok := gm["Projection"].(map[string]any); ok {
			ix.Projection, _ = pr["ProjectionType"].(string)
			ix.NonKey = list(pr["NonKeyAttributes"])
		}
		if ix.Projection == "" {
			ix.Projection = "KEYS_ONLY" // CloudFormation's default
		}
		t.Indexes = append(t.Indexes, ix)
	}
	return t
}

func throughput(v any) StackCapacity {
	m, _ := v.(map[string]any)
	return StackCapacity{Read: num(m["ReadCapacityUnits"]), Write: num(m["WriteCapacityUnits"])}
}

// readScaling attaches each DynamoDB scalable target with a target tracking policy to the
// table's or GSI's capacity it scales (ResourceId table/NAME or table/NAME/index/INDEX; the
// template has one table).
func readScaling(t Template, ids []string, s *Stack) {
	targets := map[string]*Scaling{}
	for _, id := range ids {
		r := t.Resources[id]
		if r.Type != "AWS::ApplicationAutoScaling::ScalingPolicy" {
			continue
		}
		tt, ok := r.Properties["TargetTrackingScalingPolicyConfiguration"].(map[string]any)
		if !ok {
			continue
		}
		if target := refID(r.Properties["ScalingTargetId"]); target != "" {
			targets[target] = &Scaling{Target: num(tt["TargetValue"])}
			s.ScalingPolicies++
		}
	}
	for _, id := range ids {
		r := t.Resources[id]
		p := r.Properties
		sc := targets[id]
		if r.Type != "AWS::ApplicationAutoScaling::ScalableTarget" || p["ServiceNamespace"] != "dynamodb" || sc == nil {
			continue
		}
		sc.Min, sc.Max = num(p["MinCapacity"]), num(p["MaxCapacity"])
		c := &s.Table.Capacity
		if _, index, ok := strings.Cut(text(p["ResourceId"]), "/index/"); ok {
			c = nil
			for i := range s.Table.Indexes {
				if s.Table.Indexes[i].Name == index {
					c = &s.Table.Indexes[i].Capacity
				}
			}
			if c == nil {
				continue
			}
		}
		switch dim, _ := p["ScalableDimension"].(string); {
		case strings.HasSuffix(dim, ":WriteCapacityUnits"):
			c.WriteScaling = sc
		case strings.HasSuffix(dim, ":ReadCapacityUnits"):
			c.ReadScaling = sc
		}
	}
}

// text is a string or an Fn::Join of strings and references, the references left out.
func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	m, _ := v.(map[string]any)
	join := anyList(m["Fn::Join"])
	if len(join) != 2 {
		return ""
	}
	sep, _ := join[0].(string)
	var parts []string
	for _, x := range anyList(join[1]) {
		parts = append(parts, text(x))
	}
	return strings.Join(parts, sep)
}

func keyNames(v any) []string {
	var out []string
	for _, k := range anyList(v) {
		if km, ok := k.(map[string]any); ok {
			if n, ok := km["AttributeName"].(string); ok {
				out = append(out, n)
			}
		}
	}
	return out
}

// refID is the logical id a {"Ref": id} or {"Fn::GetAtt": [id, attr]} points at.
func refID(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if g := anyList(m["Fn::GetAtt"]); len(g) > 0 {
		s, _ := g[0].(string)
		return s
	}
	return ""
}

func num(v any) float64 {
	switch v := v.(type) {
	case float64:
		return v
	case string:
		f, _ := strconv.ParseFloat(v, 64)
		return f
	}
	return 0
}

func anyList(v any) []any { l, _ := v.([]any); return l }

func list(v any) []string {
	var out []string
	for _, x := range anyList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// accessLogSample is a typical value of each $context variable of an access log format.
var accessLogSample = map[string]string{
	"requestId": "Xk1dQhOYoAMEb5Q=", "integration.requestId": "8f507cfc-0d14-4b2b-9b8a-5d1c3b1e9a2f",
	"identity.sourceIp": "192.0.2.10", "requestTime": "01/Dec/2026:12:00:00 +0000",
	"httpMethod": "POST", "routeKey": "ANY /webhooks/{source}", "path": "/webhooks/github", "status": "202",
	"protocol": "HTTP/1.1", "responseLength": "64", "responseLatency": "42", "integrationLatency": "38",
	"integrationErrorMessage": "-", "identity.userArn": "-", "requestTimeEpoch": "1796126400000",
	"integration.latency": "38", "integration.status": "200", "error.message": "-",
}

var contextVar = regexp.MustCompile(`\$context\.([A-Za-z.]+)`)

// AccessLogBytes is the length of one access log line of format with typical values.
func AccessLogBytes(format string) int {
	if format == "" {
		return 0
	}
	line := contextVar.ReplaceAllStringFunc(format, func(m string) string {
		if v, ok := accessLogSample[strings.TrimPrefix(m, "$context.")]; ok {
			return v
		}
		return "xxxxxxxxxxxxxxxx"
	})
	return len(line)
}
