// Package localdlq adapts the embedded engine (pkg/local/engine) to the dlq.Queue port
// (pkg/dlq): its dead-letter queue, which records the last failure of each message and when it
// was moved, and the records its notifier gave up on (the local counterpart of the stream
// trigger's on-failure queue), both listed as dlq.Message for `hookline dlq`.
package localdlq

import (
	"context"
	"fmt"
	"strconv"

	"hookline/pkg/ddbitem"
	"hookline/pkg/dlq"
	"hookline/pkg/local/engine"
)

// Queue is a dead-letter queue of the embedded engine.
type Queue struct {
	Engine *engine.Engine
	Name   string // the DLQ, localrun.EventsDLQ for `hookline local`
}

var _ dlq.Queue = (*Queue)(nil)

// List implements dlq.Queue; it reads without receiving, so nothing about the messages changes.
func (l *Queue) List(ctx context.Context, max int) ([]dlq.Message, error) {
	dead, err := l.Engine.ListDLQ(ctx, l.Name, max)
	if err != nil {
		return nil, err
	}
	out := make([]dlq.Message, 0, len(dead))
	for _, d := range dead {
		m := dlq.Message{
			ID: d.ID, ReceiveCount: d.ReceiveCount, SentAt: d.SentAt, DiedAt: d.DeadAt,
			SourceQueue: d.SourceQueue, Reason: d.Reason, Body: d.Body,
		}
		m.Describe()
		out = append(out, m)
	}
	return out, nil
}

// Redrive implements dlq.Queue with the engine's redrive, which runs in one transaction.
func (l *Queue) Redrive(ctx context.Context) (dlq.Redriven, error) {
	n, err := l.Engine.Redrive(ctx, l.Name, "")
	if err != nil {
		return dlq.Redriven{}, fmt.Errorf("redrive: %w", err)
	}
	return dlq.Redriven{Moved: n, Source: l.Name}, nil
}

// StreamFailures lists the change-stream records the local notifier gave up on after its
// retries (the local counterpart of the stream trigger's on-failure queue): stored events
// whose completion email was not sent.
type StreamFailures struct {
	Engine   *engine.Engine
	Consumer string // localrun.StreamConsumer for `hookline local`
}

// List returns up to max failures, oldest first, with the event each record carries.
func (s *StreamFailures) List(ctx context.Context, max int) ([]dlq.Message, error) {
	fails, err := s.Engine.ListStreamFailures(ctx, s.Consumer, max)
	if err != nil {
		return nil, fmt.Errorf("list stream failures: %w", err)
	}
	out := make([]dlq.Message, 0, len(fails))
	for _, f := range fails {
		m := dlq.Message{
			ID: "stream-" + strconv.FormatInt(f.Record.Seq, 10), SentAt: f.Record.CreatedAt, DiedAt: f.FailedAt,
			SourceQueue: "stream:" + f.Consumer, Reason: f.Reason,
		}
		if r, err := ddbitem.FromStreamImage(f.Record.NewImage); err == nil {
			m.EventID, m.EventType, m.EventSource = r.Event.ID, r.Event.Type, r.Event.Source
		}
		out = append(out, m)
	}
	return out, nil
}
