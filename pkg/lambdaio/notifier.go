package lambdaio

import (
	"context"
	"log/slog"

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
}

// Handle is the Lambda handler. Stream records of a shard are in order and Lambda checkpoints
// before the first reported failure, so processing stops there: records after it are retried
// with it rather than emailed out of order and again.
func (h *NotifierHandler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for i := range ev.Records {
		rec := &ev.Records[i]
		seq := rec.Change.SequenceNumber
		if rec.EventName != string(events.DynamoDBOperationTypeInsert) {
			// The event source filter passes only INSERTs; anything else is not ours to email.
			h.Log.LogAttrs(ctx, slog.LevelDebug, "skipped stream record", slog.String("event_name", rec.EventName), slog.String("sequence_number", seq))
			continue
		}
		r, err := h.DecodeImage(rec.Change.NewImage)
		if err != nil {
			h.Log.LogAttrs(ctx, slog.LevelError, "stream image does not decode; retries cannot fix it, it will reach the on-failure queue",
				slog.String("event_id", ""), slog.String("sequence_number", seq), slog.String("error", err.Error()))
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
			return resp, nil
		}
		res, err := h.Service.Notify(ctx, r)
		attrs := []slog.Attr{
			slog.String("event_id", r.Event.ID), slog.String("source", r.Event.Source),
			slog.String("type", r.Event.Type), slog.String("sequence_number", seq),
		}
		if err != nil {
			h.Log.LogAttrs(ctx, slog.LevelError, "notify failed; will retry", append(attrs, slog.String("error", err.Error()))...)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
			return resp, nil
		}
		msg := "notified"
		if res.Skipped {
			msg = "already notified; redelivered stream record skipped"
		}
		h.Log.LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
	}
	return resp, nil
}
