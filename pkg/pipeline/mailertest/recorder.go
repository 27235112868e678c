package mailertest

import (
	"context"

	"hookline/internal/sink"
	"hookline/pkg/pipeline"
)

// Recorder is a pipeline.Mailer in memory for the tests of the services and handlers that
// send: it keeps each email it is handed, so a test counts the sends themselves, not files
// (All, Len), and Fail makes it refuse. It passes Run like every other adapter.
type Recorder struct{ sink.Sink[pipeline.Email] }

var _ pipeline.Mailer = (*Recorder)(nil)

// Send keeps m, or returns the error set by Fail without keeping it.
func (r *Recorder) Send(_ context.Context, m pipeline.Email) error { return r.Put(m) }
