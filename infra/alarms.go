package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"
)

// Alarm thresholds. Every alarm notifies the alarm topic on ALARM and on OK, and treats missing
// data (an idle pipeline publishes no datapoints) as fine.
const (
	// The subscriber drains a healthy queue in seconds; 5 minutes means it is down or failing.
	queueAgeAlarmSeconds = 300
	// The notifier is 5 minutes behind the table: emails are late, and records approach the
	// 1 hour MaxRecordAge after which they are given up on.
	iteratorAgeAlarmMillis = 5 * 60 * 1000
	// A few 5xx in 5 minutes: ingest cannot reach SNS (503) or a function is failing. A single
	// one can be a sender's bad luck that its retry absorbs, so it takes five.
	api5xxAlarmCount = 5
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
	for _, name := range functionNames {
		fn := h.Functions[name]
		alarm(titleCase(name)+"Errors", "The "+name+" function failed (an error return, panic or timeout).",
			fn.MetricErrors(sum), 1)
		alarm(titleCase(name)+"Throttles", "The "+name+" function was throttled: the account's concurrency is exhausted.",
			fn.MetricThrottles(sum), 1)
	}
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
				graph("Function errors", errs...),
				graph("Function duration p99 (ms)", durations...),
				graph("Table: consumed capacity",
					h.Table.MetricConsumedWriteCapacityUnits(sum), h.Table.MetricConsumedReadCapacityUnits(sum)),
			},
		},
	})
}
