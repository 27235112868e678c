package lambdaio

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestWorkersRunEveryRecordConcurrently: each runs f once per index, all at once (every call
// waits for the others to start, which never happens if they run one after another).
func TestWorkersRunEveryRecordConcurrently(t *testing.T) {
	t.Parallel()
	var w workers
	const n = 10
	var started sync.WaitGroup
	started.Add(n)
	var mu sync.Mutex
	ran := map[int]int{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.each(n, func(i int) {
			started.Done()
			started.Wait()
			mu.Lock()
			ran[i]++
			mu.Unlock()
		})
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a hang bound, not a timing assertion
		t.Fatal("each did not return: its calls do not run concurrently")
	}
	for i := range n {
		if ran[i] != 1 {
			t.Errorf("f(%d) ran %d times, want once (all: %v)", i, ran[i], ran)
		}
	}
	w.each(0, func(int) { t.Error("f called for an empty batch") })
}

// TestWorkersAreReused: a batch after another runs on the goroutines of the first, whose
// stacks have grown already, instead of on new ones.
func TestWorkersAreReused(t *testing.T) {
	t.Parallel()
	var w workers
	var mu sync.Mutex
	first := map[uint64]bool{}
	w.each(4, func(int) {
		mu.Lock()
		first[goroutineID()] = true
		mu.Unlock()
	})
	// A worker waits for work a moment after its record returns: give it that moment.
	for try := 0; try < 200; try++ {
		reused := false
		w.each(1, func(int) { reused = first[goroutineID()] })
		if reused {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no batch ran on a worker of an earlier batch")
}

func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return id
}
