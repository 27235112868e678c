package dlq

import (
	"context"
	"fmt"

	"hookline/pkg/local"
)

// Local is a dead-letter queue of the embedded engine, which records the last failure of each
// message and when it was moved.
type Local struct {
	Engine *local.Engine
	Name   string // the DLQ, localrun.EventsDLQ for `hookline local`
}

var _ Queue = (*Local)(nil)

// List implements Queue; it reads without receiving, so nothing about the messages changes.
func (l *Local) List(ctx context.Context, max int) ([]Message, error) {
	dead, err := l.Engine.ListDLQ(ctx, l.Name, max)
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(dead))
	for _, d := range dead {
		m := Message{
			ID: d.ID, ReceiveCount: d.ReceiveCount, SentAt: d.SentAt, DiedAt: d.DeadAt,
			SourceQueue: d.SourceQueue, Reason: d.Reason, Body: d.Body,
		}
		m.describe()
		out = append(out, m)
	}
	return out, nil
}

// Redrive implements Queue with the engine's redrive, which runs in one transaction.
func (l *Local) Redrive(ctx context.Context) (Redriven, error) {
	n, err := l.Engine.Redrive(ctx, l.Name, "")
	if err != nil {
		return Redriven{}, fmt.Errorf("redrive: %w", err)
	}
	return Redriven{Moved: n, Source: l.Name}, nil
}
