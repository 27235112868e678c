package sink_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"hookline/internal/sink"
)

func TestSinkKeepsInOrderAndFailsWhenTold(t *testing.T) {
	t.Parallel()
	var s sink.Sink[int]
	for i := range 3 {
		if err := s.Put(i); err != nil {
			t.Fatalf("Put(%d) = %v", i, err)
		}
	}
	down := errors.New("down")
	s.Fail(down)
	if err := s.Put(99); !errors.Is(err, down) {
		t.Errorf("Put on a failing sink = %v, want %v", err, down)
	}
	s.Fail(nil)
	if err := s.Put(3); err != nil {
		t.Errorf("Put after Fail(nil) = %v", err)
	}
	got := s.All()
	if want := []int{0, 1, 2, 3}; !slices.Equal(got, want) || s.Len() != len(want) {
		t.Errorf("All = %v, Len = %d; want %v", got, s.Len(), want)
	}
	got[0] = -1 // a copy: the sink keeps its own
	if s.All()[0] != 0 {
		t.Error("All returned the sink's own slice")
	}
}

func TestSinkConcurrentPuts(t *testing.T) {
	t.Parallel()
	var s sink.Sink[int]
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.Put(i) }()
	}
	wg.Wait()
	got := s.All()
	slices.Sort(got)
	if len(got) != 50 || got[0] != 0 || got[49] != 49 {
		t.Errorf("kept %d values (%v), want 0..49 once each", len(got), got)
	}
}

func TestBufferTakeEmpties(t *testing.T) {
	t.Parallel()
	var b sink.Buffer
	_, _ = b.Write([]byte("one\n"))
	if got := b.Take(); got != "one\n" {
		t.Errorf("Take = %q, want %q", got, "one\n")
	}
	_, _ = b.Write([]byte("two\n"))
	if got, all := b.Take(), b.String(); got != "two\n" || all != "" {
		t.Errorf("second Take = %q, then String = %q; want %q, empty", got, all, "two\n")
	}
}

// A writer may reuse its slice once Write returns (io.Writer): what the Buffer holds stays as
// written.
func TestBufferKeepsACopy(t *testing.T) {
	t.Parallel()
	var b sink.Buffer
	p := []byte("one\n")
	_, _ = b.Write(p)
	copy(p, "two\n")
	if got := b.String(); got != "one\n" {
		t.Errorf("String after the writer reused its slice = %q, want %q", got, "one\n")
	}
}
