package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// nagFindings lists cdk-nag AwsSolutions messages of one level that no suppression covers.
func nagFindings(f *fixture, level string) []string {
	a := assertions.Annotations_FromStack(f.h.Stack)
	find := a.FindError
	if level == "warning" {
		find = a.FindWarning
	}
	var out []string
	for _, m := range *find(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		//lint:ignore SA1019 assertions.Annotations returns cxapi.SynthesisMessage in awscdk v2.270.0; the type's new home has no Go binding yet.
		out = append(out, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
	}
	sort.Strings(out)
	return out
}

// TestNagAwsSolutions runs cdk-nag's AwsSolutions pack over both stacks: any error-level
// finding that is not suppressed with a reason fails the build.
func TestNagAwsSolutions(t *testing.T) {
	for name, f := range map[string]*fixture{"prod": prod(t), "dev": dev(t)} {
		if errs := nagFindings(f, "error"); len(errs) > 0 {
			t.Errorf("%s stack: %d unsuppressed AwsSolutions findings:\n%s", name, len(errs), strings.Join(errs, "\n"))
		}
		for _, w := range nagFindings(f, "warning") {
			t.Logf("%s stack: warning %s", name, w)
		}
	}
}

// TestNagDLQReasonsHold checks what each dead-letter queue's SQS3 suppression claims: the alarm
// its reason names watches that queue and fires on its first message.
func TestNagDLQReasonsHold(t *testing.T) {
	f := prod(t)
	names := regexp.MustCompile(`^This queue is itself a dead-letter destination: .+\. A DLQ for a DLQ would only move the same evidence; the (\w+) alarm fires on its first message\.$`)
	alarms := f.resources("AWS::CloudWatch::Alarm")
	checked := 0
	for id, q := range f.resources("AWS::SQS::Queue") {
		meta, _ := q["Metadata"].(map[string]any)
		nag, _ := meta["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, r := range rules {
			r := r.(map[string]any)
			if r["id"] != "AwsSolutions-SQS3" {
				continue
			}
			checked++
			m := names.FindStringSubmatch(r["reason"].(string))
			if m == nil {
				t.Errorf("queue %s: SQS3 reason %q does not name its alarm", id, r["reason"])
				continue
			}
			var watching []string
			for aid, a := range alarms {
				p := props(a)
				if !regexp.MustCompile(`^` + m[1] + `[0-9A-F]{8}$`).MatchString(aid) {
					continue
				}
				dims := fmt.Sprint(p["Dimensions"])
				if strings.Contains(dims, "[Fn::GetAtt:["+id+" QueueName]]") && p["Threshold"] == 1.0 {
					watching = append(watching, aid)
				}
			}
			if len(watching) != 1 {
				t.Errorf("queue %s: its SQS3 reason names alarm %s, but no alarm of that name fires on this queue's first message", id, m[1])
			}
		}
	}
	if checked != 2 {
		t.Errorf("%d SQS3 suppressions checked, want 2 (SubscriptionDLQ, NotifyFailures)", checked)
	}
}
