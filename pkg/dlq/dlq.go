// Package dlq is the port behind `hookline dlq`: a dead-letter queue holds the messages that
// exhausted their retries on the events queue; the CLI lists them — why they failed, where
// known, and which event each one carries — and sends them back for another try.
//
// Adapters: pkg/dlq/sqsdlq (an Amazon SQS dead-letter queue and SQS's own redrive) and
// pkg/local/localdlq (the embedded engine's). pkg/dlq/dlqtest is the contract both pass.
package dlq

import (
	"context"
	"time"

	"hookline/pkg/event"
)

// Message is one dead message. Zero times and ReceiveCount 0 mean "not known".
type Message struct {
	ID           string    `json:"id"`
	ReceiveCount int       `json:"receive_count"` // deliveries before it died (SQS: also counts peeks)
	SentAt       time.Time `json:"sent_at"`
	DiedAt       time.Time `json:"died_at,omitzero"`
	SourceQueue  string    `json:"source_queue,omitempty"`
	Reason       string    `json:"reason,omitempty"` // "" when the queue does not record one
	Body         []byte    `json:"-"`
	// The event the body carries, when it decodes as a hookline envelope.
	EventID     string `json:"event_id,omitempty"`
	EventType   string `json:"event_type,omitempty"`
	EventSource string `json:"event_source,omitempty"`
}

// Redriven says what a redrive started or did.
type Redriven struct {
	Moved      int    // messages moved back; -1 when the move runs asynchronously (SQS)
	TaskHandle string // SQS's message move task, to follow or cancel it
	Source     string // the DLQ
}

// Queue is a dead-letter queue the CLI can inspect and redrive.
type Queue interface {
	// List returns up to max dead messages without consuming them.
	List(ctx context.Context, max int) ([]Message, error)
	// Redrive sends every dead message back to the queue it came from.
	Redrive(ctx context.Context) (Redriven, error)
}

// Describe fills the event fields from Body when it is a hookline envelope, and leaves them
// empty otherwise: adapters call it for every message they list.
func (m *Message) Describe() {
	e, err := event.Decode(m.Body)
	if err != nil {
		return
	}
	m.EventID, m.EventType, m.EventSource = e.ID, e.Type, e.Source
}
