package publishertest

import (
	"context"
	"sync"

	"hookline/pkg/pipeline"
)

// Recorder is a pipeline.Publisher in memory for the tests of the services and handlers that
// publish: it keeps each message it is handed, in order. It passes Run like every other
// adapter (see recorder_test.go).
type Recorder struct {
	mu  sync.Mutex
	got []pipeline.Message
	err error
}

var _ pipeline.Publisher = (*Recorder)(nil)

// Publish keeps m, or returns the error set by Fail without keeping it.
func (r *Recorder) Publish(_ context.Context, m pipeline.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.got = append(r.got, m)
	return nil
}

// Fail makes every later Publish return err; Fail(nil) makes the topic work again.
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// Published returns the messages published so far, oldest first.
func (r *Recorder) Published() []pipeline.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pipeline.Message(nil), r.got...)
}

// Len returns how many messages were published so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}
