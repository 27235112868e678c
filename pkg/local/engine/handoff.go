package engine

import (
	"sync/atomic"
	"time"
)

// A handoff is a queue's line of messages that this process published and hands to its own
// receivers in memory (Options.HandOff). Publish writes such a message's row as already
// received once — in flight for the visibility timeout, with a receipt handle — in the same
// transaction as always, so the 202 still waits for a durable row; the receiver then needs no
// write (and no read) to take it, only the usual delete when it is done. If the process dies
// first, the row becomes visible when its visibility timeout ends and is received again, as
// SQS redelivers a message whose consumer died.
type handoff struct {
	ch     chan handed
	queued atomic.Int64 // places taken in ch, by publishes under way and messages waiting
	bytes  atomic.Int64 // the bodies of those messages
	max    int64        // bound on bytes
	// tabled counts messages of this queue published the table's way (the line was full)
	// and not yet received: while there are any, new ones go the table's way too, so the
	// line cannot overtake them indefinitely.
	tabled atomic.Int64
	// lastLook is when a receiver last looked at the table (unix nanos): a receiver looks
	// there at least every tableLookEvery even while the line is busy, for messages whose
	// visibility timeout ran out.
	lastLook atomic.Int64
	// emptyAt is the queue waiter's notification count when a look found nothing visible in
	// the table (noLook: no such look stands). The waiter is notified whenever this process
	// makes a message visible there; so while the count is the same and the look recent,
	// a receiver need not look again (messages from another process, or whose visibility
	// timeout ran out, are found by the next look every tableLookEvery).
	emptyAt atomic.Uint64
}

const noLook = ^uint64(0)

const tableLookEvery = 100 * time.Millisecond

// DefaultHandOff is the hand-off line `hookline local` uses per queue: a few seconds of
// messages at full speed, about 16 MB of 1 KiB events. A message that finds the line full goes
// the table's way and costs the writer a table receive; a flat-out backlog outgrows 1,024
// places within a second, and server CPU per processed event was 8–16 % higher with 1,024
// than with 16,384 (docs/benchmarks/2026-12-03-issue-13-round-13-pollers.md).
const DefaultHandOff = 16384

// DefaultHandOffBytes bounds the bodies waiting in one line: 16,384 bodies of 1 KiB fit,
// 256 of the largest a queue takes (256 KiB).
const DefaultHandOffBytes = 64 << 20

type handed struct {
	m     Message
	until time.Time // when the row becomes visible again
	half  time.Duration
}

func newHandoff(capacity int, maxBytes int64) *handoff {
	if maxBytes <= 0 {
		maxBytes = DefaultHandOffBytes
	}
	h := &handoff{ch: make(chan handed, capacity), max: maxBytes}
	h.emptyAt.Store(noLook)
	return h
}

// reserve takes a place in the line for a publish of a size-byte body about to commit; false
// when the line is full, in places or in bytes (receivers are behind, so the message goes the
// table's way).
func (h *handoff) reserve(size int64) bool {
	if h.tabled.Load() > 0 {
		return false
	}
	for {
		n := h.queued.Load()
		if n >= int64(cap(h.ch)) {
			return false
		}
		if h.queued.CompareAndSwap(n, n+1) {
			break
		}
	}
	if h.bytes.Add(size) > h.max && size > 0 {
		h.release(size)
		return false
	}
	return true
}

// release gives back the place and the bytes of a size-byte body.
func (h *handoff) release(size int64) {
	h.bytes.Add(-size)
	h.queued.Add(-1)
}

// received counts n messages received from the table.
func (h *handoff) received(n int) {
	if h.tabled.Add(-int64(n)) < 0 {
		h.tabled.Store(0) // redeliveries are received from the table too, uncounted
	}
}

// lookDue reports whether a receiver should look at the table before taking from the line.
func (h *handoff) lookDue(now time.Time) bool {
	return h.tabled.Load() > 0 || now.UnixNano()-h.lastLook.Load() >= int64(tableLookEvery)
}

// put adds a committed message; it never blocks, its place was reserved.
func (h *handoff) put(m handed) { h.ch <- m }

// fresh reports whether a message taken at now is still worth delivering: a receiver gets
// at least half the visibility timeout, else the row's own redelivery takes over.
func (m handed) fresh(now time.Time) bool { return now.Add(m.half).Before(m.until) }

// take returns up to max waiting messages without blocking; first, if not nil, is one the
// caller already took.
func (e *Engine) take(h *handoff, max int, first *handed) []Message {
	var out []Message
	now := e.opts.Clock()
	keep := func(m handed) {
		h.release(int64(len(m.m.Body)))
		if m.fresh(now) {
			out = append(out, m.m)
		}
	}
	if first != nil {
		keep(*first)
	}
	for len(out) < max {
		select {
		case m := <-h.ch:
			keep(m)
		default:
			return out
		}
	}
	return out
}

// handoffOf returns queue's line, or nil when handing off is off.
func (e *Engine) handoffOf(queue string) *handoff {
	if e.opts.HandOff <= 0 {
		return nil
	}
	e.mu.RLock()
	h := e.handoffs[queue]
	e.mu.RUnlock()
	if h != nil {
		return h
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if h = e.handoffs[queue]; h == nil {
		h = newHandoff(e.opts.HandOff, e.opts.HandOffBytes)
		e.handoffs[queue] = h
	}
	return h
}
