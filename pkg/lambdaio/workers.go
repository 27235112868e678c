package lambdaio

import (
	"sync"
	"time"
)

// workers runs the records of a batch concurrently on goroutines that outlive the batch. A
// record's work (decode, store or render, log) grows a fresh goroutine's 2 KiB stack several
// times over, copying it each time; a worker grows its stack once and keeps it for the next
// records (runtime.newstack was ~6 % of the handlers' own CPU in BenchmarkNotifierMemory10).
// The zero value is ready; a worker that has waited idleTimeout for work ends.
type workers struct {
	once  sync.Once
	tasks chan func() // unbuffered: a send succeeds only when a worker is waiting for it
}

// idleTimeout ends a worker that got no record for that long: the handlers keep only as many
// as their recent batches ran at once.
const idleTimeout = 10 * time.Second

// each calls f(0) … f(n-1) concurrently and returns when all have returned. f must not panic
// (the handlers recover each record's panic inside f).
func (w *workers) each(n int, f func(i int)) {
	w.once.Do(func() { w.tasks = make(chan func()) })
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		task := func() {
			defer wg.Done()
			f(i)
		}
		select {
		case w.tasks <- task:
		default: // every worker is busy: one more
			go w.work(task)
		}
	}
	wg.Wait()
}

func (w *workers) work(task func()) {
	idle := time.NewTimer(idleTimeout)
	defer idle.Stop()
	for {
		task()
		idle.Reset(idleTimeout)
		select {
		case task = <-w.tasks:
		case <-idle.C:
			return
		}
	}
}
