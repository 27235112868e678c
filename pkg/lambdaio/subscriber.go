package lambdaio

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/pipeline"
)

// SubscriberHandler stores each SQS message's event. Messages are independent (a standard
// queue has no order), so a batch is stored concurrently and every failure is reported per
// message: one bad message never fails the batch.
type SubscriberHandler struct {
	Service *pipeline.Record
	Log     *slog.Logger
	Metrics RecordMetrics // nil records nothing

	workers workers
}

// RecordMetrics receives what the subscriber observed (pkg/metrics on AWS, pkg/localmetrics
// locally).
type RecordMetrics interface {
	// Stored counts a newly stored event of source with its receipt-to-stored latency.
	Stored(source string, receiptToStored time.Duration)
	// Duplicate counts a delivery of an event already stored: a sender's retry, a redelivered
	// message or a replay.
	Duplicate(source string)
}

// RecordBatchMetrics is a RecordMetrics that takes a batch's outcome at once, per source
// (pkg/metrics writes it as one EMF line instead of one per record).
type RecordBatchMetrics interface {
	StoredBatch(source string, receiptToStored []time.Duration, duplicates int)
}

// Handle is the Lambda handler. It never returns an error: a whole-batch error would make SQS
// redeliver messages that were stored fine.
func (h *SubscriberHandler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	failed := make([]bool, len(ev.Records))
	outcomes := make([]pipeline.Stored, len(ev.Records))
	h.workers.each(len(ev.Records), func(i int) {
		failed[i] = true // until store returns: a panic below fails only this message
		defer recoverRecord(ctx, h.Log, ev.Records[i].MessageId)
		outcomes[i], failed[i] = h.store(ctx, &ev.Records[i])
	})
	h.count(outcomes, failed)
	var resp events.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

// count reports the batch's stored events and duplicates to the metrics sink: at once, per
// source, when it takes batches.
func (h *SubscriberHandler) count(outcomes []pipeline.Stored, failed []bool) {
	if h.Metrics == nil {
		return
	}
	batch, isBatch := h.Metrics.(RecordBatchMetrics)
	type tally struct {
		latencies  []time.Duration
		duplicates int
	}
	var tallies bySource[tally]
	for i, res := range outcomes {
		switch {
		case failed[i]:
		case !isBatch && res.Duplicate:
			h.Metrics.Duplicate(res.Source)
		case !isBatch:
			h.Metrics.Stored(res.Source, res.StoredAt.Sub(res.ReceivedAt))
		case res.Duplicate:
			tallies.of(res.Source).duplicates++
		default:
			t := tallies.of(res.Source)
			t.latencies = append(t.latencies, res.StoredAt.Sub(res.ReceivedAt))
		}
	}
	tallies.each(func(src string, t *tally) { batch.StoredBatch(src, t.latencies, t.duplicates) })
}

// store stores one message's event; failed reports a message to leave for a retry.
func (h *SubscriberHandler) store(ctx context.Context, m *events.SQSMessage) (res pipeline.Stored, failed bool) {
	receives, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	var err error
	// The service only decodes the body (event.Decode keeps none of its input, see
	// event.DecodeString), so it can read the message's bytes instead of a copy per message.
	body := unsafe.Slice(unsafe.StringData(m.Body), len(m.Body))
	replay := isReplay(m)
	if replay {
		res, err = h.Service.Replayed(body)
	} else {
		res, err = h.Service.Store(ctx, body)
	}
	attrs := []slog.Attr{
		slog.String("event_id", res.ID),
		slog.String("message_id", m.MessageId),
		slog.Int("receive_count", receives),
	}
	if err != nil {
		reason := "store failed; will retry"
		if pipeline.KindOf(err) == pipeline.KindInvalid {
			reason = "malformed message; retries cannot fix it, it will reach the DLQ"
		}
		h.Log.LogAttrs(ctx, slog.LevelError, reason, append(attrs, slog.String("error", err.Error()))...)
		return res, true
	}
	attrs = append(attrs, slog.String("source", res.Source), slog.String("type", res.Type), slog.Bool("duplicate", res.Duplicate))
	// One line per event is ingest's: a stored event is visible in the table itself (stored_at),
	// so its line is DEBUG, which the stack's INFO level does not write (it would cost more than
	// the subscriber's invocation). Duplicates, replays and failures stay visible.
	level, msg := slog.LevelDebug, "stored"
	switch {
	case replay:
		level, msg = slog.LevelInfo, "replayed event; already stored, not stored again"
	case res.Duplicate:
		level, msg = slog.LevelInfo, "duplicate delivery; already stored"
	}
	h.Log.LogAttrs(ctx, level, msg, attrs...)
	return res, false
}

// recoverRecord turns a panic while handling one record of a batch into that record's failure.
// The records run in their own goroutines, where a panic would otherwise end the whole process
// (on Lambda the batch, locally every pipeline stage at once).
func recoverRecord(ctx context.Context, log *slog.Logger, item string) {
	if p := recover(); p != nil {
		log.LogAttrs(ctx, slog.LevelError, "panic while handling a record; reported as failed",
			slog.String("event_id", ""), slog.String("item", item), slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
	}
}

// isReplay reports whether the message is a stored event published again by hookline replay
// (message attribute replay=true; raw SNS delivery passes it as an SQS message attribute).
func isReplay(m *events.SQSMessage) bool {
	a, ok := m.MessageAttributes[pipeline.AttrReplay]
	return ok && a.StringValue != nil && *a.StringValue == "true"
}
