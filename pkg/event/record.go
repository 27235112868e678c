package event

import (
	"fmt"
	"time"
)

// Record is what the history keeps of one event: the envelope and how far it got.
type Record struct {
	Event      *Event
	StoredAt   time.Time // when the subscriber wrote it
	NotifiedAt time.Time // when the completion email was published; zero until then
}

// Status names the furthest stage a record reached: "stored" or "notified".
func (r *Record) Status() string {
	if !r.NotifiedAt.IsZero() {
		return "notified"
	}
	return "stored"
}

// NewRecord makes the record the subscriber stores for e.
func NewRecord(e *Event, storedAt time.Time) (*Record, error) {
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("record %s: %w", e.ID, err)
	}
	return &Record{Event: e, StoredAt: storedAt.UTC()}, nil
}
