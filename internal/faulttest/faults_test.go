package faulttest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// injector decides which calls fail. A decision depends only on (seed, operation, key, attempt
// number for that key), not on the order goroutines run in, so one seed gives the same
// per-event faults on every run: the n-th PutNew of event X fails or not whatever else runs
// concurrently. (Batch crashes are keyed by the batch's first record, and how batches form
// does depend on timing, so those vary a little between runs of one seed.)
type injector struct {
	seed uint64

	mu       sync.Mutex
	attempts map[string]int // op + key → calls so far
	injected map[string]int // op → faults injected
}

func newInjector(seed uint64) *injector {
	return &injector{seed: seed, attempts: map[string]int{}, injected: map[string]int{}}
}

// roll returns a uniform [0, 1) draw for the next call of op on key.
func (in *injector) roll(op, key string) float64 {
	in.mu.Lock()
	n := in.attempts[op+"\x00"+key]
	in.attempts[op+"\x00"+key] = n + 1
	in.mu.Unlock()
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d", op, key, n)
	return rand.New(rand.NewPCG(in.seed, h.Sum64())).Float64()
}

// hit reports whether the next call of op on key fails, with probability p.
func (in *injector) hit(op, key string, p float64) bool {
	if in.roll(op, key) >= p {
		return false
	}
	in.mu.Lock()
	in.injected[op]++
	in.mu.Unlock()
	return true
}

func (in *injector) counts() map[string]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[string]int, len(in.injected))
	for k, v := range in.injected {
		out[k] = v
	}
	return out
}

// errInjected marks every injected failure, so a test can tell them from real ones in logs.
var errInjected = errors.New("injected fault")

// ledger is what the decorators saw really happen, per event id: the ground truth the
// assertions compare the pipeline's end state with.
type ledger struct {
	mu        sync.Mutex
	inserted  map[string]int // PutNew calls that really inserted (inserted == true)
	sent      map[string]int // Mailer.Send calls that really sent
	resendsOK map[string]int // faults after a real send and before the mark: each may legitimately cause one more send
}

func newLedger() *ledger {
	return &ledger{inserted: map[string]int{}, sent: map[string]int{}, resendsOK: map[string]int{}}
}

func (l *ledger) add(m map[string]int, id string) {
	l.mu.Lock()
	m[id]++
	l.mu.Unlock()
}

func (l *ledger) total(m map[string]int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (l *ledger) get(m map[string]int, id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return m[id]
}

// rates are the injected fault probabilities, per call.
type rates struct {
	publishFail     float64 // Publish fails before the bus has it: the sender must get 503
	putFailBefore   float64 // PutNew fails without writing (half throttled, half plain errors)
	putFailAfter    float64 // PutNew writes, then reports an error (a lost reply)
	putSlow         float64 // PutNew takes a few ms longer (throttling latency)
	readFail        float64 // the notifier's NotifiedAt read fails
	sendFail        float64 // Mailer.Send fails without sending
	crashAfterSend  float64 // the notifier crashes (panics) after a real send, before marking
	markFailBefore  float64 // MarkNotified fails without marking
	markFailAfter   float64 // MarkNotified marks, then reports an error
	subscriberCrash float64 // the subscriber crashes after handling a batch, before answering
	notifierCrash   float64 // the notifier crashes mid-batch (after handling a prefix)
}

// faultyPublisher fails a share of publishes before they reach the bus.
type faultyPublisher struct {
	next pipeline.Publisher
	in   *injector
	p    float64
}

func (f *faultyPublisher) Publish(ctx context.Context, m pipeline.Message) error {
	if f.in.hit("publish", m.ID, f.p) {
		return fmt.Errorf("publish %s: bus unavailable: %w", m.ID, errInjected)
	}
	return f.next.Publish(ctx, m)
}

// faultyStore wraps the event store for both the subscriber (PutNew) and the notifier
// (NotifiedAt, MarkNotified).
type faultyStore struct {
	next interface {
		pipeline.EventWriter
		pipeline.NotifiedMarker
	}
	in  *injector
	led *ledger
	r   rates
}

func (f *faultyStore) PutNew(ctx context.Context, r *event.Record) (bool, error) {
	id := r.Event.ID
	if f.in.hit("put.slow", id, f.r.putSlow) {
		time.Sleep(time.Duration(1+f.in.roll("put.slow.ms", id)*4) * time.Millisecond)
	}
	if f.in.hit("put.before", id, f.r.putFailBefore) {
		if f.in.roll("put.kind", id) < 0.5 {
			return false, &pipeline.Error{Kind: pipeline.KindThrottled, Detail: "throughput exceeded", Err: errInjected}
		}
		return false, fmt.Errorf("put %s: %w", id, errInjected)
	}
	inserted, err := f.next.PutNew(ctx, r)
	if err != nil {
		return inserted, err
	}
	if inserted {
		f.led.add(f.led.inserted, id)
	}
	if f.in.hit("put.after", id, f.r.putFailAfter) {
		return false, fmt.Errorf("put %s: reply lost after the write: %w", id, errInjected)
	}
	return inserted, nil
}

func (f *faultyStore) NotifiedAt(ctx context.Context, id string) (time.Time, error) {
	if f.in.hit("notified_at", id, f.r.readFail) {
		return time.Time{}, fmt.Errorf("read %s: %w", id, errInjected)
	}
	return f.next.NotifiedAt(ctx, id)
}

// MarkNotified is only called after a real send (pipeline.Notify), so a failure before the
// mark means the retry will send again: that send is at-least-once by design and accounted.
func (f *faultyStore) MarkNotified(ctx context.Context, id string, at time.Time) error {
	if f.in.hit("mark.before", id, f.r.markFailBefore) {
		f.led.add(f.led.resendsOK, id)
		return fmt.Errorf("mark %s: %w", id, errInjected)
	}
	if err := f.next.MarkNotified(ctx, id, at); err != nil {
		return err
	}
	if f.in.hit("mark.after", id, f.r.markFailAfter) {
		return fmt.Errorf("mark %s: reply lost after the write: %w", id, errInjected)
	}
	return nil
}

// faultyMailer fails a share of sends, counts the real ones and crashes a share of notifier
// invocations right after a real send: the one window where the design allows a second email.
type faultyMailer struct {
	next pipeline.Mailer
	in   *injector
	led  *ledger
	r    rates
	down atomic.Bool // an outage: every send fails while set
}

func (f *faultyMailer) Send(ctx context.Context, m pipeline.Email) error {
	if f.down.Load() {
		return fmt.Errorf("send %s: mail server unreachable: %w", m.EventID, errInjected)
	}
	if f.in.hit("send", m.EventID, f.r.sendFail) {
		return fmt.Errorf("send %s: %w", m.EventID, errInjected)
	}
	if err := f.next.Send(ctx, m); err != nil {
		return err
	}
	f.led.add(f.led.sent, m.EventID)
	if f.in.hit("send.crash", m.EventID, f.r.crashAfterSend) {
		f.led.add(f.led.resendsOK, m.EventID)
		panic(fmt.Sprintf("injected crash after sending %s, before marking it", m.EventID))
	}
	return nil
}

// crashingSubscriber handles the batch, then crashes a share of the time before answering: the
// whole batch is redelivered although its events were stored (duplicates must be absorbed).
func crashingSubscriber(h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), in *injector, p float64) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		resp, err := h(ctx, ev)
		if len(ev.Records) > 0 && in.hit("subscriber.crash", ev.Records[0].MessageId+"/"+ev.Records[0].Attributes["ApproximateReceiveCount"], p) {
			panic("injected subscriber crash before answering")
		}
		return resp, err
	}
}

// crashingNotifier crashes a share of stream batches midway: the first k records are handled
// (emailed and marked), then the process "dies"; the runner retries the batch, bisecting.
func crashingNotifier(h func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error), in *injector, p float64) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		if n := len(ev.Records); n > 1 && in.hit("notifier.crash", ev.Records[0].Change.SequenceNumber, p) {
			k := 1 + int(in.roll("notifier.crash.k", ev.Records[0].Change.SequenceNumber)*float64(n-1))
			if _, err := h(ctx, events.DynamoDBEvent{Records: ev.Records[:k]}); err != nil {
				return events.DynamoDBEventResponse{}, err
			}
			panic(fmt.Sprintf("injected notifier crash after %d of %d records", k, n))
		}
		return h(ctx, ev)
	}
}
