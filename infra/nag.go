package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// addNagSuppressions records, next to the resources, why each cdk-nag AwsSolutions finding
// is accepted. Each one is scoped to the resource and, for IAM5, to the exact wildcard, so a
// new wildcard elsewhere still fails TestNagAwsSolutions.
func addNagSuppressions(h *Hookline) {
	suppress := func(scope interface{}, id, reason string, appliesTo ...string) {
		s := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
		if len(appliesTo) > 0 {
			a := make([]interface{}, len(appliesTo))
			for i, v := range appliesTo {
				a[i] = v
			}
			s.AppliesTo = &a
		}
		// applyToChildren: the findings sit on a role's DefaultPolicy or an L2's L1 resource.
		cdknag.NagSuppressions_AddResourceSuppressions(scope, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
	}

	for _, name := range functionNames {
		role := h.Functions[name].Role()
		suppress(role, "AwsSolutions-IAM5",
			"X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions: "+
				"active tracing needs Resource * (added by Lambda's Tracing.ACTIVE).",
			"Resource::*")
	}
	suppress(h.Functions[fnNotifier].Role(), "AwsSolutions-IAM5",
		"dynamodb:ListStreams supports no resource-level permissions (Resource * is forced by the "+
			"service); the stream read actions themselves are scoped to this table's stream ARN.",
		"Resource::*")
	for _, fn := range []awslambda.Function{h.Functions[fnIngest], h.Functions[fnNotifier]} {
		suppress(fn.Role(), "AwsSolutions-IAM5",
			"kms:GenerateDataKey* (GenerateDataKey and GenerateDataKeyWithoutPlaintext) is what SNS "+
				"needs to publish to a KMS-encrypted topic; Topic.grantPublish scopes it to the one topic key.",
			"Action::kms:GenerateDataKey*")
	}

	suppress(h.WebhookRoute, "AwsSolutions-APIG4",
		"Webhook senders (GitHub, Stripe, IoT platforms, Postman users) cannot sign requests with "+
			"SigV4 or obtain Cognito/JWT tokens. The ingest function authenticates every request "+
			"with the source's own scheme (HMAC signature over the raw body, or a bearer token) "+
			"and rejects it with 401 before anything is published; the stage throttle bounds abuse.")
	suppress(h.HealthRoute, "AwsSolutions-APIG4",
		"Uptime checkers need an unauthenticated probe. GET /healthz answers {\"status\":\"ok\"} or a "+
			"503 problem and nothing else: no data, no AWS call of its own (the sources lookup "+
			"refetches the secret at most once per HOOKLINE_SOURCES_TTL); the stage throttle bounds abuse.")
	for _, q := range []struct {
		queue     awssqs.Queue
		of, alarm string
	}{
		{h.SubscriptionDLQ, "the events subscription's redrive queue for what SNS cannot deliver to the events queue", "SubscriptionDLQNotEmpty"},
		{h.NotifyFailures, "the notifier stream trigger's on-failure queue", "NotifyFailuresNotEmpty"},
	} {
		suppress(q.queue, "AwsSolutions-SQS3", "This queue is itself a dead-letter destination: "+q.of+
			". A DLQ for a DLQ would only move the same evidence; the "+q.alarm+" alarm fires on its first message.")
	}
	// Object ARNs name keys, so a grant on the events/ prefix is a wildcard by nature; it is the
	// narrowest the claim check allows (its keys are events/<source>/<id>/<sha256>). The
	// bucket's logical id carries a hash, hence the pattern.
	bodies := &cdknag.NagPackSuppression{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The claim check's keys are events/<source>/<event id>/<body sha256>, unknown until a " +
			"request arrives: ingest may put and history may get objects under events/ of the one body bucket, nothing else."),
		AppliesTo: &[]interface{}{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<BodyBucket[0-9A-F]+\.Arn>\/events\/\*$/`)}},
	}
	for _, fn := range []awslambda.Function{h.Functions[fnIngest], h.Functions[fnHistory]} {
		cdknag.NagSuppressions_AddResourceSuppressions(fn.Role(), &[]*cdknag.NagPackSuppression{bodies}, jsii.Bool(true))
	}
	suppress(h.BodyBucket, "AwsSolutions-S1",
		"The bucket holds only webhook bodies too large for SNS, written by the ingest role and read "+
			"by the history role, each under events/ only; every write is the ingest function's "+
			"logged request (with its event id), and every read a logged history request. Server "+
			"access logs would need a second bucket for no question the function logs cannot answer.")
	suppress(h.SourcesSecret, "AwsSolutions-SMG4",
		"The secret holds shared webhook signing secrets issued by (or registered with) third-party "+
			"senders; no Lambda can rotate them on both sides. Rotation is manual and downtime-free: "+
			"add the new secret next to the old one in the source's secrets list, switch the sender, "+
			"then remove the old one (ingest reloads the secret every HOOKLINE_SOURCES_TTL).")
}
