package main

import (
	"bytes"
	"flag"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"hookline/pkg/cost"
	"hookline/pkg/ddbstore"
	"hookline/pkg/wiring"
)

var update = flag.Bool("update", false, "rewrite pkg/cost/template.json from the synthesized stack")

// The model's checked-in inputs: the default stack, and the stack with provisioned capacity
// (-c tableCapacity=provisioned), which docs/cost.md prices at 100 events/s.
var costTemplates = []struct {
	file  string
	stack func(*testing.T) *fixture
}{
	{"../pkg/cost/template.json", prod},
	{"../pkg/cost/template-provisioned.json", provisioned},
}

// TestCostTemplate keeps `hookline cost`'s input in step with the stack: the model reads a
// pruned copy of the synthesized template (the resources and properties it prices, see
// cost.Prune) that is checked in, so the CLI needs neither the CDK nor node. Any change to
// those properties fails here until the copy is rewritten:
//
//	go test ./infra -run TestCostTemplate -update
//
// and docs/cost.md and the README's cost summary are then regenerated from the new figures (pkg/cost's
// TestREADME says how).
func TestCostTemplate(t *testing.T) {
	for _, ct := range costTemplates {
		t.Run(path.Base(ct.file), func(t *testing.T) {
			got, err := cost.Prune(ct.stack(t).raw)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(ct.file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(ct.file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("%s is not what the stack synthesizes; run go test ./infra -run TestCostTemplate -update, then regenerate the cost docs (go test ./pkg/cost -run TestREADME -update):\n%s",
					ct.file, cmp.Diff(string(want), string(got)))
			}
		})
	}
}

// TestCostAssumptions checks, on the synthesized stack, every property the cost model prices:
// the model reads them from the template (cost.ReadTemplate), and here each is pinned to the
// value docs/cost.md's figures were computed with, so a change is a decision, not an accident.
func TestCostAssumptions(t *testing.T) {
	f := prod(t)
	s := readCost(t, f)
	for _, name := range functionNames {
		fn, ok := s.Functions[name]
		if !ok {
			t.Errorf("the model does not find the %s function in the template", name)
			continue
		}
		if fn.LogicalID != f.logicalID(f.h.Functions[name]) {
			t.Errorf("%s: the model reads %s, the stack's function is %s", name, fn.LogicalID, f.logicalID(f.h.Functions[name]))
		}
		if fn.MemoryMB != specs[name].memoryMB || !fn.ARM {
			t.Errorf("%s: %v MB arm64=%v, want %v MB on arm64", name, fn.MemoryMB, fn.ARM, specs[name].memoryMB)
		}
		if fn.Tracing == "Active" {
			t.Errorf("%s: X-Ray active tracing on by default; the model prices it off (opt-in: -c tracing=true)", name)
		}
		if fn.LogFormat != "JSON" || fn.SystemLogLevel != "WARN" || fn.AppLogLevel != "INFO" {
			t.Errorf("%s: logs %s, system level %q, application level %q; the model prices JSON, WARN (no platform lines) and INFO (the code's lines and EMF)",
				name, fn.LogFormat, fn.SystemLogLevel, fn.AppLogLevel)
		}
	}
	if s.SQS.BatchSize != wiring.SubscriberBatchSize || s.SQS.WindowSecs != wiring.SubscriberBatchWindow.Seconds() || !s.SQS.PartialFail {
		t.Errorf("subscriber mapping %+v, want batch %d, window %v s, partial batch failures", s.SQS, wiring.SubscriberBatchSize, wiring.SubscriberBatchWindow.Seconds())
	}
	if s.Stream.BatchSize != wiring.NotifierBatchSize || s.Stream.WindowSecs != wiring.NotifierBatchWindow.Seconds() || !s.Stream.PartialFail {
		t.Errorf("notifier mapping %+v, want batch %d, window %v s, partial batch failures", s.Stream, wiring.NotifierBatchSize, wiring.NotifierBatchWindow.Seconds())
	}
	if !s.RawDelivery {
		t.Error("the events queue's subscription is not raw: the model prices the bare envelope per message")
	}
	if !s.HTTPAPI || s.AccessLogFormat != accessLogFormat {
		t.Errorf("API: HTTP %v, access log format %q; the model prices an HTTP API and this format", s.HTTPAPI, s.AccessLogFormat)
	}
	if !s.Table.PayPerRequest || !s.Table.TTL || s.Table.Stream != "NEW_IMAGE" {
		t.Errorf("table %+v: the model prices on-demand capacity, TTL deletes (free) and a NEW_IMAGE stream", s.Table)
	}
	if n := len(f.resources("AWS::ApplicationAutoScaling::ScalableTarget")); n != 0 || s.ScalingPolicies != 0 {
		t.Errorf("%d scalable targets, %d scaling policies in the on-demand stack, want none", n, s.ScalingPolicies)
	}
	schema := ddbstore.TableSchema()
	// The history index, then the quarantine's (sparse: the model finds no event in it).
	indexes := append(slices.Clone(schema.Indexes), schema.Rejected)
	if len(s.Table.Indexes) != len(indexes) {
		t.Fatalf("%d GSIs in the template, %d in ddbstore.TableSchema", len(s.Table.Indexes), len(indexes))
	}
	for i, ix := range s.Table.Indexes {
		want := indexes[i]
		if ix.Name != want.Name || ix.Projection != want.Projection || !cmp.Equal(ix.NonKey, want.NonKey) {
			t.Errorf("GSI %d: %s projecting %s %v, the store (and the model) expect %s projecting %s %v",
				i, ix.Name, ix.Projection, ix.NonKey, want.Name, want.Projection, want.NonKey)
		}
	}
	// Two keys: the topics' and the quarantine's.
	if s.Alarms != len(f.h.Alarms) || s.Dashboards != 1 || s.KMSKeys != 2 || s.Secrets != 1 || s.EncryptedTopics != 3 {
		t.Errorf("fixed costs: %d alarms (stack %d), %d dashboards, %d keys, %d secrets, %d encrypted topics", s.Alarms, len(f.h.Alarms), s.Dashboards, s.KMSKeys, s.Secrets, s.EncryptedTopics)
	}
}

// TestTracingOptIn: -c tracing=true turns X-Ray active tracing on in every function.
func TestTracingOptIn(t *testing.T) {
	f := synth(t, Config{Tracing: true})
	if f == nil {
		return
	}
	for _, name := range functionNames {
		id := f.logicalID(f.h.Functions[name])
		check(t, name+" traced", func() {
			f.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), like(obj{
				"Description":   props(f.resources("AWS::Lambda::Function")[id])["Description"],
				"TracingConfig": obj{"Mode": "Active"},
			}))
		})
	}
}

// TestProvisionedCapacity: -c tableCapacity=provisioned gives the table and every GSI
// provisioned reads and writes at their floors, each under target tracking at 70 % between the
// floor and 10× the floor, and the cost model reads exactly that back (cost.ReadTemplate) —
// what `hookline cost --template` prices.
func TestProvisionedCapacity(t *testing.T) {
	f := provisioned(t)
	c := f.h.Config.Capacity
	schema := ddbstore.TableSchema()
	type floors struct{ write, read float64 }
	want := map[string]floors{"": {c.TableWrite, c.TableRead}, schema.Rejected.Name: {quarantineCapacity, quarantineCapacity}}
	for _, ix := range schema.Indexes {
		want[ix.Name] = floors{c.IndexWrite, c.IndexRead}
	}
	if c.TableWrite != 200 || c.TableRead != 10 || c.IndexWrite != 100 || c.IndexRead != 10 || c.TargetUtilization != 70 {
		t.Errorf("provisioned defaults %+v, want table 200/10, index 100/10 at 70 %%", c)
	}
	tableID := f.logicalID(f.h.Table)
	table := props(f.resources("AWS::DynamoDB::Table")[tableID])
	if m, ok := table["BillingMode"]; ok && m != "PROVISIONED" {
		t.Errorf("BillingMode %v, want PROVISIONED (or absent, CloudFormation's default)", m)
	}
	throughput := func(v any) floors {
		m, _ := v.(map[string]any)
		w, _ := m["WriteCapacityUnits"].(float64)
		r, _ := m["ReadCapacityUnits"].(float64)
		return floors{w, r}
	}
	if got := throughput(table["ProvisionedThroughput"]); got != want[""] {
		t.Errorf("table throughput %+v, want %+v", got, want[""])
	}
	gsis, _ := table["GlobalSecondaryIndexes"].([]any)
	if len(gsis) != len(want)-1 {
		t.Errorf("%d GSIs, want %d", len(gsis), len(want)-1)
	}
	for _, g := range gsis {
		gm := g.(map[string]any)
		name, _ := gm["IndexName"].(string)
		if got, ok := want[name]; !ok || throughput(gm["ProvisionedThroughput"]) != got {
			t.Errorf("GSI %s throughput %+v, want %+v", name, throughput(gm["ProvisionedThroughput"]), want[name])
		}
	}

	// Each of the 2 × (1 + GSIs) dimensions has a scalable target and a target tracking policy.
	targets := f.resources("AWS::ApplicationAutoScaling::ScalableTarget")
	policies := f.resources("AWS::ApplicationAutoScaling::ScalingPolicy")
	if len(targets) != 2*len(want) || len(policies) != 2*len(want) {
		t.Errorf("%d scalable targets and %d policies, want %d of each", len(targets), len(policies), 2*len(want))
	}
	for id, p := range policies {
		pp := props(p)
		tt, _ := pp["TargetTrackingScalingPolicyConfiguration"].(map[string]any)
		target := props(targets[refOf(pp["ScalingTargetId"])])
		dim, _ := target["ScalableDimension"].(string)
		metric := "DynamoDBWriteCapacityUtilization"
		if strings.HasSuffix(dim, "ReadCapacityUnits") {
			metric = "DynamoDBReadCapacityUtilization"
		}
		spec, _ := tt["PredefinedMetricSpecification"].(map[string]any)
		if pp["PolicyType"] != "TargetTrackingScaling" || tt["TargetValue"] != c.TargetUtilization || spec["PredefinedMetricType"] != metric || target["ServiceNamespace"] != "dynamodb" {
			t.Errorf("policy %s: %v on %v, want target tracking of %s at %v", id, pp, target, metric, c.TargetUtilization)
		}
	}

	s := readCost(t, f)
	if s.Table.PayPerRequest || s.ScalingPolicies != len(policies) {
		t.Errorf("the model reads on-demand %v and %d scaling policies, want provisioned and %d", s.Table.PayPerRequest, s.ScalingPolicies, len(policies))
	}
	scaled := func(name string, sc cost.StackCapacity, fl floors) {
		wantW := &cost.Scaling{Min: fl.write, Max: maxCapacityFactor * fl.write, Target: c.TargetUtilization}
		wantR := &cost.Scaling{Min: fl.read, Max: maxCapacityFactor * fl.read, Target: c.TargetUtilization}
		if sc.Write != fl.write || sc.Read != fl.read || !cmp.Equal(sc.WriteScaling, wantW) || !cmp.Equal(sc.ReadScaling, wantR) {
			t.Errorf("%s: the model reads %+v (writes %+v, reads %+v), want %+v scaled %+v / %+v", name, sc, sc.WriteScaling, sc.ReadScaling, fl, wantW, wantR)
		}
	}
	scaled("table", s.Table.Capacity, want[""])
	for _, ix := range s.Table.Indexes {
		scaled(ix.Name, ix.Capacity, want[ix.Name])
	}
}

// refOf is the logical id a {"Ref": id} names.
func refOf(v any) string {
	m, _ := v.(map[string]any)
	id, _ := m["Ref"].(string)
	return id
}

// readCost is what the cost model reads from f's template (what `hookline cost --template`
// prices).
func readCost(t *testing.T, f *fixture) *cost.Stack {
	t.Helper()
	s, err := cost.ReadTemplate(f.raw)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
