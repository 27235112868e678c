package main

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"hookline/pkg/metrics"
	"hookline/pkg/pipeline"
)

// Alarm thresholds. Every alarm notifies the alarm topic on ALARM and on OK, and treats missing
// data (an idle pipeline publishes no datapoints) as fine, except the silence alarms, for which
// no data is the point. Each description is the alarm's "what to do" line (doc.go lists them).
const (
	// The subscriber drains a healthy queue in seconds; 5 minutes means it is down or failing.
	queueAgeAlarmSeconds = 300
	// The notifier is 5 minutes behind the table: emails are late, and records approach the
	// 1 hour MaxRecordAge after which they are given up on.
	iteratorAgeAlarmMillis = 5 * 60 * 1000
	// A few 5xx in 5 minutes: ingest cannot reach SNS (503) or a function is failing. A single
	// one can be a sender's bad luck that its retry absorbs, so it takes five.
	api5xxAlarmCount = 5
	// An event stored 15 minutes ago whose email still failed: the notifier has been retrying
	// it for a while (mail outage, SNS refusing), and a person should know before the stream
	// gives up on it after an hour.
	pendingNotificationAlarmMillis = 15 * 60 * 1000
)

var fiveMinutes = awscdk.Duration_Minutes(jsii.Number(5))

func (h *Hookline) newAlarms() {
	action := awscloudwatchactions.NewSnsAction(h.AlarmTopic)
	alarm := func(id, desc string, metric awscloudwatch.IMetric, threshold float64) {
		a := awscloudwatch.NewAlarm(h.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(desc),
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
		a.AddOkAction(action)
		h.Alarms = append(h.Alarms, a)
	}
	maximum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: fiveMinutes}
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: fiveMinutes}

	alarm("EventsDLQNotEmpty", "Events gave up after 5 receives and wait in the DLQ: inspect with `hookline dlq`, fix, redrive.",
		h.EventsDLQ.MetricApproximateNumberOfMessagesVisible(maximum), 1)
	alarm("NotifyFailuresNotEmpty", "Stream records the notifier gave up on: their emails were not sent. The message names the shard and sequence numbers to replay.",
		h.NotifyFailures.MetricApproximateNumberOfMessagesVisible(maximum), 1)
	alarm("EventsQueueOldestMessageAge", "An event has waited 5 minutes to be stored: the subscriber is down, throttled or failing.",
		h.EventsQueue.MetricApproximateAgeOfOldestMessage(maximum), queueAgeAlarmSeconds)
	alarm("NotifierIteratorAge", "The notifier is 5 minutes behind the events table's stream: emails are late.",
		h.Functions[fnNotifier].Metric(jsii.String("IteratorAge"), maximum), iteratorAgeAlarmMillis)
	alarm("Api5xx", "The HTTP API answered 5xx: ingest cannot publish (503) or a function fails.",
		h.API.MetricServerError(sum), api5xxAlarmCount)
	alarm("SubscriptionDLQNotEmpty", "SNS could not deliver accepted events to the events queue (queue policy or key refused it): fix the policy, then redrive the SubscriptionDLQUrl queue into the events queue.",
		h.SubscriptionDLQ.MetricApproximateNumberOfMessagesVisible(maximum), 1)
	alarm("EventsTopicDeliveryFailures", "SNS failed to deliver events from the events topic to a subscriber (the events queue or another team's): see the topic's delivery logs, check each subscription's queue policy and dead-letter queue.",
		h.EventsTopic.MetricNumberOfNotificationsFailed(sum), 1)
	alarm("NotificationsTopicDeliveryFailures", "SNS failed to deliver completion emails (a bounced or unconfirmed address, an email rate limit): check the email subscription, then `hookline notify --resend ID` for the events affected.",
		h.NotificationsTopic.MetricNumberOfNotificationsFailed(sum), 1)
	alarm("UnauthorizedRejections", "Webhook requests fail their signature check (Rejected, Reason=unauthorized): a sender's secret was rotated without the sources config, or someone probes. `hookline rejected list --table` shows which source; fix the config, then `hookline rejected readmit`.",
		hooklineMetric(metrics.Rejected, sum, metrics.DimReason, pipeline.ReasonUnauthorized), h.Config.UnauthorizedThreshold)
	alarm("PendingNotifications", "An event stored over 15 minutes ago still has no completion email and the notifier keeps failing on it (see its log for the cause): fix the mailer; the stream retries it, and what it gives up on is sent with `hookline notify --pending`.",
		hooklineMetric(metrics.PendingNotificationAgeMs, maximum), pendingNotificationAlarmMillis)
	for _, name := range slices.Sorted(maps.Keys(h.Config.ExpectEvery)) {
		h.silenceAlarm(name, h.Config.ExpectEvery[name], action)
	}
	for _, name := range functionNames {
		fn := h.Functions[name]
		alarm(titleCase(name)+"Errors", "The "+name+" function failed (an error return, panic or timeout).",
			fn.MetricErrors(sum), 1)
		alarm(titleCase(name)+"Throttles", "The "+name+" function was throttled: the account's concurrency is exhausted.",
			fn.MetricThrottles(sum), 1)
	}
}

// hooklineMetric is one of the functions' own EMF metrics (namespace Hookline), with the
// dimensions given as name, value pairs.
func hooklineMetric(name string, opts *awscloudwatch.MetricOptions, dims ...string) awscloudwatch.Metric {
	m := map[string]*string{}
	for i := 0; i+1 < len(dims); i += 2 {
		m[dims[i]] = jsii.String(dims[i+1])
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(metrics.Namespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &m,
		Statistic:     opts.Statistic,
		Period:        opts.Period,
		Label:         opts.Label,
	})
}

// silenceAlarm fires when source accepts no event in one period of every: no datapoint at all
// is exactly the silence it is for, so missing data breaches.
func (h *Hookline) silenceAlarm(source string, every time.Duration, action awscloudwatchactions.SnsAction) {
	period := awscdk.Duration_Minutes(jsii.Number(every.Minutes()))
	a := awscloudwatch.NewAlarm(h.Stack, jsii.String("Silence-"+source), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("Source " + source + " sent no accepted event for " + every.String() + " (expect_every): check the sender's delivery log and UnauthorizedRejections; `hookline rejected list --table --source " + source + "` shows refused attempts."),
		Metric: hooklineMetric(metrics.Accepted, &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: period},
			metrics.DimSource, source),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
	})
	a.AddAlarmAction(action)
	a.AddOkAction(action)
	h.Alarms = append(h.Alarms, a)
}

// rejectedByReason is the Rejected metric once per reason, for one graph.
func rejectedByReason(opts *awscloudwatch.MetricOptions) []awscloudwatch.IMetric {
	var out []awscloudwatch.IMetric
	for _, r := range pipeline.Reasons() {
		out = append(out, hooklineMetric(metrics.Rejected, &awscloudwatch.MetricOptions{Statistic: opts.Statistic, Period: opts.Period, Label: jsii.String("Rejected " + r)},
			metrics.DimReason, r))
	}
	return out
}

// newDashboard puts the pipeline on one page, in the order an event travels.
func (h *Hookline) newDashboard() {
	graph := func(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &metrics, Width: jsii.Number(8), Height: jsii.Number(6),
		})
	}
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: fiveMinutes}
	maximum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: fiveMinutes}
	p99 := &awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: fiveMinutes}

	var invocations, errs, durations []awscloudwatch.IMetric
	for _, name := range functionNames {
		fn := h.Functions[name]
		label := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: fiveMinutes, Label: jsii.String(name)}
		invocations = append(invocations, fn.MetricInvocations(label))
		errs = append(errs, fn.MetricErrors(label))
		durations = append(durations, fn.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: fiveMinutes, Label: jsii.String(name)}))
	}
	alarms := make([]interfacesawscloudwatch.IAlarmRef, len(h.Alarms))
	for i, a := range h.Alarms {
		alarms[i] = a
	}

	awscloudwatch.NewDashboard(h.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
				Title: jsii.String("Alarms"), Alarms: &alarms, Width: jsii.Number(24),
			})},
			{
				graph("API requests and errors", h.API.MetricCount(sum), h.API.MetricClientError(sum), h.API.MetricServerError(sum)),
				graph("API latency p99 (ms)", h.API.MetricLatency(p99), h.API.MetricIntegrationLatency(p99)),
				graph("Function invocations", invocations...),
			},
			{
				graph("Events queue: depth and oldest (s)",
					h.EventsQueue.MetricApproximateNumberOfMessagesVisible(maximum),
					h.EventsQueue.MetricApproximateAgeOfOldestMessage(maximum)),
				graph("Dead letters",
					h.EventsDLQ.MetricApproximateNumberOfMessagesVisible(maximum),
					h.NotifyFailures.MetricApproximateNumberOfMessagesVisible(maximum)),
				graph("Notifier iterator age (ms)", h.Functions[fnNotifier].Metric(jsii.String("IteratorAge"), maximum)),
			},
			{
				graph("Webhooks: accepted and refused (by reason)",
					append([]awscloudwatch.IMetric{hooklineMetric(metrics.Accepted, sum)}, rejectedByReason(sum)...)...),
				graph("Events: stored, duplicates, emailed, email failures",
					hooklineMetric(metrics.Stored, sum), hooklineMetric(metrics.Duplicate, sum),
					hooklineMetric(metrics.Notified, sum), hooklineMetric(metrics.NotifyFailed, sum)),
				graph("Receipt to stored / emailed p99, oldest pending email (ms)",
					hooklineMetric(metrics.ReceiptToStoredMs, p99), hooklineMetric(metrics.ReceiptToNotifiedMs, p99),
					hooklineMetric(metrics.PendingNotificationAgeMs, maximum)),
			},
			{
				graph("Function errors", errs...),
				graph("Function duration p99 (ms)", durations...),
				graph("Table: consumed capacity",
					h.Table.MetricConsumedWriteCapacityUnits(sum), h.Table.MetricConsumedReadCapacityUnits(sum)),
			},
			{keyMatchWidget()},
		},
	})
}

// keyMatchExpression finds every Source/Key series of the ingest function's EMF metric: the
// sources and secret indexes are only known at run time, so the graph searches for them.
var keyMatchExpression = fmt.Sprintf(`SEARCH('{%s,%s,%s} MetricName="%s"', 'Sum', 3600)`,
	metrics.Namespace, metrics.DimSource, metrics.DimKey, metrics.SignatureKeyMatch)

// keyMatchWidget is rotation tracking on AWS: accepted requests per source and secret index
// (hourly). Once an old key's line stays at zero, that secret can be removed.
func keyMatchWidget() awscloudwatch.IWidget {
	return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String("Signature key matches per source and secret index (rotation), hourly"),
		Left: &[]awscloudwatch.IMetric{awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(keyMatchExpression),
			// A dynamic label per series: "github key 1".
			Label:  jsii.String(fmt.Sprintf("${PROP('Dim.%s')} key ${PROP('Dim.%s')}", metrics.DimSource, metrics.DimKey)),
			Period: awscdk.Duration_Hours(jsii.Number(1)),
		})},
		LegendPosition: awscloudwatch.LegendPosition_RIGHT,
		Width:          jsii.Number(24), Height: jsii.Number(6),
	})
}
