package pipeline

import (
	"context"
	"fmt"
	"time"

	"hookline/pkg/event"
)

// EventWriter stores a record only if no record with its id exists. inserted is false for a
// duplicate, which is success: the conditional write is what makes at-least-once delivery
// effectively-once.
type EventWriter interface {
	PutNew(ctx context.Context, r *event.Record) (inserted bool, err error)
}

// Stored is the outcome of recording one message.
type Stored struct {
	ID        string
	Source    string
	Type      string
	Duplicate bool
	// ReceivedAt and StoredAt of a newly stored event: its receipt-to-stored latency.
	ReceivedAt, StoredAt time.Time
}

// Record is the subscriber's service: decode a bus message and store its event exactly once.
type Record struct {
	Events EventWriter
	Now    func() time.Time // nil means time.Now
}

// Store decodes the envelope in body and writes it. A malformed envelope is a KindInvalid
// error (it will never succeed, so it belongs in the DLQ); store failures keep their cause so
// the caller can retry them. Store only reads body and keeps none of it.
func (s *Record) Store(ctx context.Context, body []byte) (Stored, error) {
	e, err := event.Decode(body)
	if err != nil {
		return Stored{}, &Error{Kind: KindInvalid, Detail: "message is not a hookline event", Err: err}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	rec, err := event.NewRecord(e, now())
	if err != nil {
		return Stored{}, &Error{Kind: KindInvalid, Detail: "message is not a valid event", Err: err}
	}
	inserted, err := s.Events.PutNew(ctx, rec)
	if err != nil {
		return Stored{ID: e.ID}, fmt.Errorf("store event %s: %w", e.ID, err)
	}
	return Stored{ID: e.ID, Source: e.Source, Type: e.Type, Duplicate: !inserted, ReceivedAt: e.ReceivedAt, StoredAt: rec.StoredAt}, nil
}

// Replayed is what the subscriber does with a replayed message (hookline replay, attribute
// replay=true): the event is already stored, so nothing is written and it counts as a
// duplicate; no INSERT means no email. A malformed envelope is still KindInvalid. Like Store,
// it only reads body.
func (s *Record) Replayed(body []byte) (Stored, error) {
	e, err := event.Decode(body)
	if err != nil {
		return Stored{}, &Error{Kind: KindInvalid, Detail: "message is not a hookline event", Err: err}
	}
	return Stored{ID: e.ID, Source: e.Source, Type: e.Type, Duplicate: true}, nil
}
