package mailertest

import (
	"context"
	"sync"

	"hookline/pkg/pipeline"
)

// Recorder is a pipeline.Mailer in memory for the tests of the services and handlers that
// send: it keeps each email it is handed, so a test counts the sends themselves, not files.
// It passes Run like every other adapter (see recorder_test.go).
type Recorder struct {
	mu   sync.Mutex
	sent []pipeline.Email
	err  error
}

var _ pipeline.Mailer = (*Recorder)(nil)

// Send keeps m, or returns the error set by Fail without keeping it.
func (r *Recorder) Send(_ context.Context, m pipeline.Email) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.sent = append(r.sent, m)
	return nil
}

// Fail makes every later Send return err; Fail(nil) makes the mailer work again.
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// Sent returns the emails sent so far, oldest first.
func (r *Recorder) Sent() []pipeline.Email {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pipeline.Email(nil), r.sent...)
}

// Len returns how many emails were sent so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}
