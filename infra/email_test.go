package main

import (
	"encoding/json"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"hookline/pkg/ddbitem"
	"hookline/pkg/emailpolicy"
)

// TestEmailPolicyDefault: without an emailPolicy every event is emailed at once: no filter
// policy on the subscription, a stream filter that passes every event's INSERT, no schedule.
func TestEmailPolicyDefault(t *testing.T) {
	f := prod(t)
	for id, r := range f.resources("AWS::SNS::Subscription") {
		if fp, ok := props(r)["FilterPolicy"]; ok {
			t.Errorf("subscription %s filters (%v) without an email policy", id, fp)
		}
	}
	if f.h.DigestSchedule != nil || len(f.resources("AWS::Events::Rule")) != 0 {
		t.Error("a digest schedule without a digest")
	}
}

// TestEmailPolicy: a deploy-time policy becomes the email subscription's filter policy, the
// notifier's stream filters and its HOOKLINE_EMAIL_POLICY, all from the one value; a digest
// adds the one-minute schedule that invokes the notifier.
func TestEmailPolicy(t *testing.T) {
	policy, err := emailpolicy.Parse(`{"sources": {"github": {"types": ["issues.", "push"]}, "stripe": {"digest": "5m"}, "*": {"types": ["user.created"]}}}`)
	if err != nil {
		t.Fatal(err)
	}
	f := synth(t, Config{EmailPolicy: policy})
	if f == nil {
		return
	}
	notifications := f.logicalID(f.h.NotificationsTopic)
	var found bool
	for _, r := range f.resources("AWS::SNS::Subscription") {
		p := props(r)
		if p["Protocol"] != "email" || !cmp.Equal(p["TopicArn"], any(ref(notifications))) {
			continue
		}
		found = true
		want, _ := json.Marshal(policy.SNSFilterPolicy())
		got, _ := json.Marshal(p["FilterPolicy"])
		if string(want) != string(got) {
			t.Errorf("email subscription filter policy\n got %s\nwant %s", got, want)
		}
	}
	if !found {
		t.Fatal("no email subscription on the notifications topic")
	}

	filters, err := policy.StreamFilters(ddbitem.AttrSourceGroup)
	if err != nil {
		t.Fatal(err)
	}
	var patterns []any
	for _, fl := range filters {
		b, _ := json.Marshal(fl)
		patterns = append(patterns, obj{"Pattern": string(b)})
	}
	check(t, "notifier stream filters follow the policy", func() {
		f.template.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), like(obj{
			"FunctionName":   ref(f.logicalID(f.h.Functions[fnNotifier])),
			"FilterCriteria": obj{"Filters": patterns},
		}))
	})
	env := props(f.resources("AWS::Lambda::Function")[f.logicalID(f.h.Functions[fnNotifier])])["Environment"].(obj)["Variables"].(obj)
	if got, err := emailpolicy.Parse(env["HOOKLINE_EMAIL_POLICY"].(string)); err != nil || !cmp.Equal(got, policy) {
		t.Errorf("notifier's HOOKLINE_EMAIL_POLICY %v (%v), want the policy", env["HOOKLINE_EMAIL_POLICY"], err)
	}
	check(t, "the digest schedule invokes the notifier every minute", func() {
		f.template.HasResourceProperties(jsii.String("AWS::Events::Rule"), like(obj{
			"ScheduleExpression": "rate(1 minute)",
			"State":              "ENABLED",
			"Targets":            arrayWith(like(obj{"Arn": getAtt(f.logicalID(f.h.Functions[fnNotifier]), "Arn")})),
		}))
	})
}
