package lambdaio

import (
	"context"
	"log/slog"
	"sync"
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
}

// NotifyMetrics receives what the notifier observed (pkg/metrics on AWS, pkg/localmetrics
// locally).
type NotifyMetrics interface {
	// Notified counts a sent completion email with its receipt-to-notified latency.
	Notified(source string, receiptToNotified time.Duration)
	// NotifyFailed counts a failed attempt to email an event stored pendingFor ago.
	NotifyFailed(source string, pendingFor time.Duration)
}

// Handle is the Lambda handler. The records of a batch are notified concurrently: each email
// waits on the store and the mailer, not on the others. Every failure is reported; Lambda
// checkpoints before the lowest one and redelivers from there, and the records after it that
// did succeed are skipped on redelivery because they are marked notified, so nothing is
// emailed twice. (Emails of one batch may go out in any order; none is promised.)
func (h *NotifierHandler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	failed := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	for i := range ev.Records {
		rec := &ev.Records[i]
		if rec.EventName != string(events.DynamoDBOperationTypeInsert) {
			// The event source filter passes only INSERTs; anything else is not ours to email.
			h.Log.LogAttrs(ctx, slog.LevelDebug, "skipped stream record", slog.String("event_name", rec.EventName), slog.String("sequence_number", rec.Change.SequenceNumber))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			failed[i] = true // until notify returns: a panic below fails only this record
			defer recoverRecord(ctx, h.Log, rec.Change.SequenceNumber)
			failed[i] = !h.notify(ctx, rec)
		}()
	}
	wg.Wait()
	var resp events.DynamoDBEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: ev.Records[i].Change.SequenceNumber})
		}
	}
	return resp, nil
}

func (h *NotifierHandler) notify(ctx context.Context, rec *events.DynamoDBEventRecord) bool {
	seq := rec.Change.SequenceNumber
	r, err := h.DecodeImage(rec.Change.NewImage)
	if err != nil {
		h.Log.LogAttrs(ctx, slog.LevelError, "stream image does not decode; retries cannot fix it, it will reach the on-failure queue",
			slog.String("event_id", ""), slog.String("sequence_number", seq), slog.String("error", err.Error()))
		return false
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
		if h.Metrics != nil {
			h.Metrics.NotifyFailed(r.Event.Source, now().Sub(r.StoredAt))
		}
		h.Log.LogAttrs(ctx, slog.LevelError, "notify failed; will retry", append(attrs, slog.String("error", err.Error()))...)
		return false
	}
	msg := "notified"
	if res.Skipped {
		msg = "already notified; redelivered stream record skipped"
	} else if h.Metrics != nil {
		h.Metrics.Notified(r.Event.Source, now().Sub(r.Event.ReceivedAt))
	}
	h.Log.LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
	return true
}
