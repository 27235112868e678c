package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"hookline/pkg/cost"
	"hookline/pkg/ddbstore"
	"hookline/pkg/wiring"
)

var update = flag.Bool("update", false, "rewrite pkg/cost/template.json from the synthesized stack")

const costTemplate = "../pkg/cost/template.json"

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
	f := prod(t)
	full, err := json.Marshal(f.json)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cost.Prune(full)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(costTemplate, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(costTemplate)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("pkg/cost/template.json is not what the stack synthesizes; run go test ./infra -run TestCostTemplate -update, then regenerate the cost docs (go test ./pkg/cost -run TestREADME -update):\n%s",
			cmp.Diff(string(want), string(got)))
	}
}

// TestCostAssumptions checks, on the synthesized stack, every property the cost model prices:
// the model reads them from the template (cost.ReadTemplate), and here each is pinned to the
// value docs/cost.md's figures were computed with, so a change is a decision, not an accident.
func TestCostAssumptions(t *testing.T) {
	f := prod(t)
	full, err := json.Marshal(f.json)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cost.ReadTemplate(full)
	if err != nil {
		t.Fatal(err)
	}
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
