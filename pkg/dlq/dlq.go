// Package dlq is `hookline dlq`: it shows the messages that exhausted their retries on the
// events queue — why they failed, where known, and which event each one carries — and sends
// them back for another try. The port is Queue; Local adapts the embedded engine (pkg/local/engine),
// SQS adapts an Amazon SQS dead-letter queue and SQS's own redrive (StartMessageMoveTask).
package dlq

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
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

// describe fills the event fields from a message body that is a hookline envelope.
func (m *Message) describe() {
	e, err := event.Decode(m.Body)
	if err != nil {
		return
	}
	m.EventID, m.EventType, m.EventSource = e.ID, e.Type, e.Source
}

// Print writes msgs as an aligned table, or with asJSON one object per line.
func Print(w io.Writer, msgs []Message, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, m := range msgs {
			if err := enc.Encode(m); err != nil {
				return err
			}
		}
		return nil
	}
	if len(msgs) == 0 {
		_, err := fmt.Fprintln(w, "the dead-letter queue is empty")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE\tRECEIVES\tSENT\tDIED\tEVENT\tSOURCE\tTYPE\tREASON")
	for _, m := range msgs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.ReceiveCount, stamp(m.SentAt), stamp(m.DiedAt),
			dash(m.EventID), dash(m.EventSource), dash(m.EventType), orUnknown(m.Reason))
	}
	return tw.Flush()
}

// PrintRedriven reports a redrive.
func PrintRedriven(w io.Writer, r Redriven) error {
	var err error
	if r.TaskHandle != "" {
		_, err = fmt.Fprintf(w, "started a message move task from %s back to the source queues\ntask handle: %s\n", r.Source, r.TaskHandle)
	} else {
		_, err = fmt.Fprintf(w, "moved %d message(s) from %s back to their source queue\n", r.Moved, r.Source)
	}
	return err
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z07:00")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
