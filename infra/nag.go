package main

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// nagSuppression is one accepted cdk-nag AwsSolutions finding: the rule, the constructs it is
// accepted on, for IAM5 the exact wildcard it covers (appliesTo: a finding string or a
// *cdknag.RegexAppliesTo; nil for the whole rule), and why.
type nagSuppression struct {
	on        []interface{}
	rule      string
	appliesTo interface{}
	reason    string
}

// addNagSuppressions records, next to the resources, why each cdk-nag AwsSolutions finding
// is accepted. Each one is scoped to the resource and, for IAM5, to the exact wildcard, so a
// new wildcard elsewhere still fails TestNagAwsSolutions.
func addNagSuppressions(h *Hookline) {
	for _, s := range nagSuppressions(h) {
		p := &cdknag.NagPackSuppression{Id: jsii.String(s.rule), Reason: jsii.String(s.reason)}
		if s.appliesTo != nil {
			p.AppliesTo = &[]interface{}{s.appliesTo}
		}
		for _, scope := range s.on {
			// applyToChildren: the findings sit on a role's DefaultPolicy or an L2's L1 resource.
			cdknag.NagSuppressions_AddResourceSuppressions(scope, &[]*cdknag.NagPackSuppression{p}, jsii.Bool(true))
		}
	}
}

// nagSuppressions is the table addNagSuppressions walks, in the order it records them.
func nagSuppressions(h *Hookline) []nagSuppression {
	roles := func(names ...string) []interface{} {
		out := make([]interface{}, len(names))
		for i, name := range names {
			out[i] = h.Functions[name].Role()
		}
		return out
	}
	// The reason of a dead-letter queue's SQS3 (TestNagDLQReasonsHold checks the alarm it names).
	deadLetter := func(of, alarm string) string {
		return "This queue is itself a dead-letter destination: " + of +
			". A DLQ for a DLQ would only move the same evidence; the " + alarm + " alarm fires on its first message."
	}
	return []nagSuppression{
		{roles(functionNames...), "AwsSolutions-IAM5", "Resource::*",
			"X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions: " +
				"active tracing needs Resource * (added by Lambda's Tracing.ACTIVE)."},
		{roles(fnNotifier), "AwsSolutions-IAM5", "Resource::*",
			"dynamodb:ListStreams supports no resource-level permissions (Resource * is forced by the " +
				"service); the stream read actions themselves are scoped to this table's stream ARN."},
		{roles(fnIngest, fnNotifier), "AwsSolutions-IAM5", "Action::kms:GenerateDataKey*",
			"kms:GenerateDataKey* (GenerateDataKey and GenerateDataKeyWithoutPlaintext) is what SNS " +
				"needs to publish to a KMS-encrypted topic; Topic.grantPublish scopes it to the one topic key."},
		{[]interface{}{h.WebhookRoute}, "AwsSolutions-APIG4", nil,
			"Webhook senders (GitHub, Stripe, IoT platforms, Postman users) cannot sign requests with " +
				"SigV4 or obtain Cognito/JWT tokens. The ingest function authenticates every request " +
				"with the source's own scheme (HMAC signature over the raw body, or a bearer token) " +
				"and rejects it with 401 before anything is published; the stage throttle bounds abuse."},
		{[]interface{}{h.HealthRoute}, "AwsSolutions-APIG4", nil,
			"Uptime checkers need an unauthenticated probe. GET /healthz answers {\"status\":\"ok\"} or a " +
				"503 problem and nothing else: no data, no AWS call of its own (the sources lookup " +
				"refetches the secret at most once per HOOKLINE_SOURCES_TTL); the stage throttle bounds abuse."},
		{[]interface{}{h.SubscriptionDLQ}, "AwsSolutions-SQS3", nil,
			deadLetter("the events subscription's redrive queue for what SNS cannot deliver to the events queue", "SubscriptionDLQNotEmpty")},
		{[]interface{}{h.NotifyFailures}, "AwsSolutions-SQS3", nil,
			deadLetter("the notifier stream trigger's on-failure queue", "NotifyFailuresNotEmpty")},
		// Object ARNs name keys, so a grant on the events/ prefix is a wildcard by nature; it is the
		// narrowest the claim check allows (its keys are events/<source>/<id>/<sha256>). The
		// bucket's logical id carries a hash, hence the pattern.
		{roles(fnIngest, fnHistory), "AwsSolutions-IAM5",
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<BodyBucket[0-9A-F]+\.Arn>\/events\/\*$/`)},
			"The claim check's keys are events/<source>/<event id>/<body sha256>, unknown until a " +
				"request arrives: ingest may put and history may get objects under events/ of the one body bucket, nothing else."},
		{[]interface{}{h.BodyBucket}, "AwsSolutions-S1", nil,
			"The bucket holds only webhook bodies too large for SNS, written by the ingest role and read " +
				"by the history role, each under events/ only; every write is the ingest function's " +
				"logged request (with its event id), and every read a logged history request. Server " +
				"access logs would need a second bucket for no question the function logs cannot answer."},
		{[]interface{}{h.SourcesSecret}, "AwsSolutions-SMG4", nil,
			"The secret holds shared webhook signing secrets issued by (or registered with) third-party " +
				"senders; no Lambda can rotate them on both sides. Rotation is manual and downtime-free: " +
				"add the new secret next to the old one in the source's secrets list, switch the sender, " +
				"then remove the old one (ingest reloads the secret every HOOKLINE_SOURCES_TTL)."},
	}
}
