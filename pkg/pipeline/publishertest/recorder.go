package publishertest

import (
	"context"

	"hookline/internal/sink"
	"hookline/pkg/pipeline"
)

// Recorder is a pipeline.Publisher in memory for the tests of the services and handlers that
// publish: it keeps each message it is handed, in order (All, Len), and Fail makes it refuse.
// It passes Run like every other adapter.
type Recorder struct{ sink.Sink[pipeline.Message] }

var _ pipeline.Publisher = (*Recorder)(nil)

// Publish keeps m, or returns the error set by Fail without keeping it.
func (r *Recorder) Publish(_ context.Context, m pipeline.Message) error { return r.Put(m) }
