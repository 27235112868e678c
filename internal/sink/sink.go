// Package sink is the in-memory end of a port for tests: it keeps what it is handed, in order,
// or refuses it with an error the test sets. publishertest.Recorder and mailertest.Recorder are
// sinks of messages and emails; Buffer is the io.Writer for output written by goroutines.
package sink

import "sync"

// Sink keeps values; safe for concurrent use. The zero value is empty and accepts.
type Sink[T any] struct {
	mu  sync.Mutex
	got []T
	err error
}

// Put keeps v, or returns the error set by Fail without keeping it.
func (s *Sink[T]) Put(v T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.got = append(s.got, v)
	return nil
}

// Fail makes every later Put return err; Fail(nil) makes the sink accept again.
func (s *Sink[T]) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// All returns a copy of what was kept so far, oldest first.
func (s *Sink[T]) All() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]T(nil), s.got...)
}

// Take returns what was kept since the last Take (or since the start), oldest first, and
// empties the sink, in one step, so nothing put falls between the read and the reset.
func (s *Sink[T]) Take() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	got := s.got
	s.got = nil
	return got
}

// Len returns how many values were kept so far.
func (s *Sink[T]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}
