package lambdaio

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// NotifierHandler sends the completion email for each newly inserted event in a DynamoDB
// Stream batch.
type NotifierHandler struct {
	Service *pipeline.Notify
	// DecodeImage turns a stream record's NewImage into the stored record: ddbitem.FromStreamImage.
	// It is passed in rather than imported so that the ingest Lambda, which links this package,
	// does not also link (and initialise at cold start) the DynamoDB item codec.
	DecodeImage func(map[string]events.DynamoDBAttributeValue) (*event.Record, error)
	Log         *slog.Logger
	Metrics     NotifyMetrics    // nil records nothing
	Now         func() time.Time // nil means time.Now
	// Digest sends the digests that are due when the schedule invokes the notifier (Invoke);
	// nil when the email policy digests no source.
	Digest *pipeline.Digest

	workers workers
}

// Invoke is the notifier's Lambda handler for both of its triggers: a DynamoDB stream batch
// (Handle), or the digest schedule's tick, an EventBridge scheduled event every minute that the
// stack adds when the email policy digests a source (Digest.Flush). One function sends every
// email, so one reserved instance and its pacer keep the email subscription under SNS's rate.
func (h *NotifierHandler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	var probe struct {
		Records    json.RawMessage `json:"Records"`
		DetailType string          `json:"detail-type"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("notifier: the invocation is not JSON: %w", err)
	}
	if probe.Records == nil && probe.DetailType == "Scheduled Event" {
		if h.Digest == nil {
			h.Log.LogAttrs(ctx, slog.LevelWarn, "scheduled invocation, but the email policy digests no source")
			return nil, nil
		}
		sent, err := h.Digest.Flush(ctx)
		if err != nil {
			// Returned: the schedule's retries run Flush again, which resends what is not done.
			h.Log.LogAttrs(ctx, slog.LevelError, "digest flush failed; the next flush retries", slog.Int("sent", sent), slog.String("error", err.Error()))
			return nil, err
		}
		if sent > 0 {
			h.Log.LogAttrs(ctx, slog.LevelInfo, "digests sent", slog.Int("sent", sent))
		}
		return nil, nil
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("notifier: not a DynamoDB stream event: %w", err)
	}
	return h.Handle(ctx, ev)
}

// NotifyMetrics receives what the notifier observed (pkg/metrics on AWS, pkg/localmetrics
// locally).
type NotifyMetrics interface {
	// Notified counts a sent completion email with its receipt-to-notified latency.
	Notified(source string, receiptToNotified time.Duration)
	// NotifyFailed counts a failed attempt to email an event stored pendingFor ago.
	NotifyFailed(source string, pendingFor time.Duration)
}

// NotifyBatchMetrics is a NotifyMetrics that takes a batch's outcome at once, per source
// (pkg/metrics writes it as one EMF line instead of one per record).
type NotifyBatchMetrics interface {
	NotifiedBatch(source string, receiptToNotified, pendingFor []time.Duration)
}

// notifyOutcome is what one record's notify reports for the metrics.
type notifyOutcome struct {
	source  string
	counted bool          // sent or failed (not skipped, not undecodable)
	sent    bool          // false: failed
	latency time.Duration // receipt → sent, or stored → failed (pending for)
}

// Handle is the Lambda handler. The records of a batch are notified concurrently: each email
// waits on the store and the mailer, not on the others. Every failure is reported; Lambda
// checkpoints before the lowest one and redelivers from there, and the records after it that
// did succeed are skipped on redelivery because they are marked notified, so nothing is
// emailed twice. (Emails of one batch may go out in any order; none is promised.)
func (h *NotifierHandler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	failed := make([]bool, len(ev.Records))
	outcomes := make([]notifyOutcome, len(ev.Records))
	var ours []int // indexes of the records to email
	for i := range ev.Records {
		rec := &ev.Records[i]
		if id := rec.Change.Keys["id"]; id.DataType() == events.DataTypeString && strings.HasPrefix(id.String(), "~") {
			// A control item of the table (ddbitem.IsControl), not an event: the stack's
			// filter drops these; a local or hand-made stream may not.
			continue
		}
		if rec.EventName != string(events.DynamoDBOperationTypeInsert) {
			// The event source filter passes only INSERTs; anything else is not ours to email.
			h.Log.LogAttrs(ctx, slog.LevelDebug, "skipped stream record", slog.String("event_name", rec.EventName), slog.String("sequence_number", rec.Change.SequenceNumber))
			continue
		}
		ours = append(ours, i)
	}
	h.workers.each(len(ours), func(j int) {
		i, rec := ours[j], &ev.Records[ours[j]]
		failed[i] = true // until notify returns: a panic below fails only this record
		defer recoverRecord(ctx, h.Log, rec.Change.SequenceNumber)
		outcomes[i], failed[i] = h.notify(ctx, rec)
	})
	h.count(outcomes)
	var resp events.DynamoDBEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: ev.Records[i].Change.SequenceNumber})
		}
	}
	return resp, nil
}

// count reports the batch's emails and failures to the metrics sink: at once, per source, when
// it takes batches.
func (h *NotifierHandler) count(outcomes []notifyOutcome) {
	if h.Metrics == nil {
		return
	}
	batch, isBatch := h.Metrics.(NotifyBatchMetrics)
	type tally struct{ sent, failed []time.Duration }
	var tallies bySource[tally]
	for _, o := range outcomes {
		switch {
		case !o.counted:
		case !isBatch && o.sent:
			h.Metrics.Notified(o.source, o.latency)
		case !isBatch:
			h.Metrics.NotifyFailed(o.source, o.latency)
		case o.sent:
			t := tallies.of(o.source)
			t.sent = append(t.sent, o.latency)
		default:
			t := tallies.of(o.source)
			t.failed = append(t.failed, o.latency)
		}
	}
	tallies.each(func(src string, t *tally) { batch.NotifiedBatch(src, t.sent, t.failed) })
}

// notify emails one record's event; failed reports a record to retry.
func (h *NotifierHandler) notify(ctx context.Context, rec *events.DynamoDBEventRecord) (out notifyOutcome, failed bool) {
	seq := rec.Change.SequenceNumber
	r, err := h.DecodeImage(rec.Change.NewImage)
	if err != nil {
		h.Log.LogAttrs(ctx, slog.LevelError, "stream image does not decode; retries cannot fix it, it will reach the on-failure queue",
			slog.String("event_id", ""), slog.String("sequence_number", seq), slog.String("error", err.Error()))
		return out, true
	}
	res, err := h.Service.Notify(ctx, r)
	attrs := []slog.Attr{
		slog.String("event_id", r.Event.ID), slog.String("source", r.Event.Source),
		slog.String("type", r.Event.Type), slog.String("sequence_number", seq),
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if err != nil {
		out = notifyOutcome{source: r.Event.Source, counted: true, latency: now().Sub(r.StoredAt)}
		h.Log.LogAttrs(ctx, slog.LevelError, "notify failed; will retry", append(attrs, slog.String("error", err.Error()))...)
		return out, true
	}
	// As in the subscriber: the mark (notified_at) records a sent email, so the success line is
	// DEBUG and only the unusual outcomes are written at the stack's INFO level.
	level, msg := slog.LevelDebug, "notified"
	switch {
	case res.Skipped:
		level, msg = slog.LevelInfo, "already notified; redelivered stream record skipped"
	case res.NoEmail:
		// The stack's stream filter keeps these from the notifier; locally every INSERT comes.
		msg = "no email: the email policy selects no email for this source and type"
	case !res.Digest.IsZero():
		msg = "listed in its source's digest"
		attrs = append(attrs, slog.Time("digest_due", res.Digest))
	default:
		out = notifyOutcome{source: r.Event.Source, counted: true, sent: true, latency: now().Sub(r.Event.ReceivedAt)}
	}
	h.Log.LogAttrs(ctx, level, msg, attrs...)
	return out, false
}
