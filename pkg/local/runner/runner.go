// Package runner is what Lambda's event source mappings are on AWS, for `hookline local`: it
// polls the queues and the change stream of pkg/local/engine and drives the real Lambda
// handlers with the aws-lambda-go event types they get on AWS — SQS batches with
// ReportBatchItemFailures, stream batches with the INSERT filter, checkpointing before the
// first failure, bisect on error, retries and the on-failure table. pkg/localrun wires it.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/local/engine"
	"hookline/pkg/pipeline"
	"hookline/pkg/wiring"
)

// Runner drives the real Lambda handlers from the engine, as the SQS and DynamoDB Streams
// event source mappings do on AWS: batches in, partial batch failures honoured.
type Runner struct {
	Engine *engine.Engine

	// Queue feeds Subscriber (nil: no subscriber pollers).
	Queue      string
	Subscriber func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

	// StreamConsumer names the checkpoint of the stream poller that feeds Notifier (nil: none).
	StreamConsumer string
	Notifier       func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

	BatchSize   int           // SQS batch size; 0 means the stack's (wiring.SubscriberBatchSize)
	BatchWindow time.Duration // longest long-poll wait; 0 means wiring.SubscriberBatchWindow. Never delays available messages.
	Concurrency int           // subscriber pollers; 0 means DefaultConcurrency

	// Ingest first: while Busy reports that webhooks are arriving, only BusyConcurrency of
	// the pollers receive (0 means DefaultBusyConcurrency), so a burst is acknowledged at the
	// speed of the front door and its processing catches up when it ends — as SQS buffers a
	// burst in front of the subscriber on AWS. Never past MaxLag (0 means the stack's
	// SubscriberBatchWindow): once a received message had waited longer, every poller works
	// until one waited less than half of that. Nil Busy: every poller always works.
	Busy            func() bool
	BusyConcurrency int
	MaxLag          time.Duration

	StreamBatchSize       int // 0 means the stack's (wiring.NotifierBatchSize)
	ParallelizationFactor int // stream batches delivered at once; 0 means DefaultParallelizationFactor
	// StreamRetries is how often a failing stream record is retried before it is recorded as
	// failed (the on-failure destination); 0 means DefaultStreamRetries, negative none. The
	// pause doubles from RetryDelay (0 means DefaultRetryDelay) up to MaxRetryDelay (0 means
	// DefaultMaxRetryDelay).
	StreamRetries int
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration

	// PollInterval is the fallback poll that notices messages whose visibility timeout ran out
	// (nothing signals those). 0 means DefaultPollInterval.
	PollInterval time.Duration

	Log *slog.Logger // nil means slog.Default()

	// Tests replace these (nil means the engine's RecordStreamFailure, pipeline.Sleep): a
	// write that fails, a clock that only notes the pauses asked for.
	recordFailure func(ctx context.Context, consumer string, rec engine.StreamRecord, reason string) error
	sleep         func(ctx context.Context, d time.Duration) error
	now           func() time.Time // nil means time.Now

	lagging *atomic.Bool // a received message waited longer than MaxLag (see noteLag); set by defaults
}

// Defaults of the settings that are local tuning; batch sizes and the batch window default to
// the stack's own (pkg/wiring). cmd/hookline's flags default to these too.
const (
	// Subscriber batches in flight. 16 keep up with ingest, so a 30 s flat-out run of `make
	// bench` leaves little to drain: on the round's final engine it processed 5,175 events/s
	// with 16 and 4,450 with 4, whose backlog took the drain to 30 s; 4 accept more per second
	// in 20 s runs (~7,000 against ~5,400) but not by enough to offset it
	// (docs/benchmarks/2026-12-03-issue-13-round-13-pollers.md). Lambda scales its SQS pollers
	// itself on AWS; this is local tuning only.
	DefaultConcurrency = 16
	// Pollers that keep working while webhooks arrive (Runner.Busy). In three 30 s flat-out
	// runs each, 4 of 16 while busy (with notifier batches of 30) accepted 7,841/8,307/8,102
	// req/s against 6,435/6,190/5,959 with all 16, and fully processed 5,698/6,146/5,982
	// events/s against 6,428/6,190/5,957
	// (docs/benchmarks/2026-12-03-issue-13-round-14-ingest-first.md).
	DefaultBusyConcurrency = 4
	// Lambda's maximum ParallelizationFactor (AWS defaults to 1), so a notifier that handles
	// records one by one keeps up locally. Checkpoints only ever cover records whose
	// predecessors are all done.
	DefaultParallelizationFactor = 10
	// 10 retries from 100 ms doubling to 30 s: about 80 s in all, so a mail server that is down
	// for a moment delays emails instead of dropping them. (On AWS the stream mapping retries
	// wiring.NotifierRetryAttempts times within wiring.NotifierMaxRecordAge instead.)
	DefaultStreamRetries = 10
	DefaultRetryDelay    = 100 * time.Millisecond
	DefaultMaxRetryDelay = 30 * time.Second
	DefaultPollInterval  = 100 * time.Millisecond
)

// orDefault sets an unset (zero or negative) setting to its default.
func orDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

func (r *Runner) defaults() (*Runner, error) {
	c := *r
	if c.Engine == nil {
		return nil, errors.New("runner: Engine is nil")
	}
	if c.Subscriber != nil && c.Queue == "" {
		return nil, errors.New("runner: Subscriber is set but Queue is empty")
	}
	if c.Notifier != nil && c.StreamConsumer == "" {
		return nil, errors.New("runner: Notifier is set but StreamConsumer is empty")
	}
	if c.Subscriber != nil {
		if _, err := c.Engine.Queue(c.Queue); err != nil {
			return nil, fmt.Errorf("runner: %w", err)
		}
	}
	orDefault(&c.BatchSize, wiring.SubscriberBatchSize)
	orDefault(&c.BatchWindow, wiring.SubscriberBatchWindow)
	orDefault(&c.Concurrency, DefaultConcurrency)
	orDefault(&c.BusyConcurrency, DefaultBusyConcurrency)
	orDefault(&c.MaxLag, wiring.SubscriberBatchWindow)
	orDefault(&c.StreamBatchSize, wiring.NotifierBatchSize)
	orDefault(&c.ParallelizationFactor, DefaultParallelizationFactor)
	switch {
	case c.StreamRetries < 0:
		c.StreamRetries = 0
	case c.StreamRetries == 0:
		c.StreamRetries = DefaultStreamRetries
	}
	orDefault(&c.MaxRetryDelay, DefaultMaxRetryDelay)
	orDefault(&c.RetryDelay, DefaultRetryDelay)
	orDefault(&c.PollInterval, DefaultPollInterval)
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.recordFailure == nil {
		c.recordFailure = c.Engine.RecordStreamFailure
	}
	if c.sleep == nil {
		c.sleep = pipeline.Sleep
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.lagging = new(atomic.Bool)
	return &c, nil
}

// Run polls until ctx is cancelled, then finishes the batches already received (without
// starting new ones) and returns nil. It returns an error only for a bad configuration.
func (r *Runner) Run(ctx context.Context) error {
	c, err := r.defaults()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	if c.Subscriber != nil {
		for i := 0; i < c.Concurrency; i++ {
			wg.Go(func() { c.pollQueue(ctx, c.Busy != nil && i >= c.BusyConcurrency) })
		}
	}
	if c.Notifier != nil {
		wg.Go(func() { c.pollStream(ctx) })
	}
	wg.Wait()
	return nil
}

// retryLater tells a poll loop what to do after a failed read: stop (ctx ended or the engine
// closed), or log it and poll again after a second.
func (c *Runner) retryLater(ctx context.Context, err error, msg string, args ...any) bool {
	if ctx.Err() != nil || errors.Is(err, engine.ErrClosed) {
		return false
	}
	c.Log.Error(msg, append(args, "err", err)...)
	_ = pipeline.Sleep(ctx, time.Second) // an ended ctx ends the loop
	return true
}

// pollQueue receives and delivers batches until ctx ends. A poller that yields pauses while
// webhooks arrive (Runner.Busy), unless processing lags (noteLag).
func (c *Runner) pollQueue(ctx context.Context, yields bool) {
	// Wait in short slices so messages whose visibility ran out are noticed promptly.
	wait := min(c.BatchWindow, c.PollInterval)
	for ctx.Err() == nil {
		if yields && !c.lagging.Load() && c.Busy() {
			if c.sleep(ctx, busyPause) != nil {
				return
			}
			continue
		}
		msgs, err := c.Engine.ReceiveWait(ctx, c.Queue, c.BatchSize, wait)
		if err != nil {
			if !c.retryLater(ctx, err, "receive failed", "queue", c.Queue) {
				return
			}
			continue
		}
		if len(msgs) > 0 {
			c.noteLag(msgs[0].SentAt)
			// Received messages are ours: finish them even if ctx ends meanwhile.
			c.deliverSQS(context.WithoutCancel(ctx), msgs)
		}
	}
}

// busyPause is how long a yielding poller waits before it looks at Busy again: short, so
// the pollers are back within milliseconds of a burst's end.
const busyPause = 5 * time.Millisecond

// noteLag sets or clears lagging from how long the first message of a received batch waited
// since it was sent (messages are received oldest first): set past MaxLag, cleared under
// half of it, so the pollers do not flap at the threshold.
func (c *Runner) noteLag(sentAt time.Time) {
	switch waited := c.now().Sub(sentAt); {
	case waited > c.MaxLag:
		c.lagging.Store(true)
	case waited < c.MaxLag/2:
		c.lagging.Store(false)
	}
}

// SQSEvent builds the event Lambda's SQS event source mapping would deliver for msgs.
func SQSEvent(queue string, msgs []engine.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	arn := "arn:aws:sqs:local:000000000000:" + queue
	for i, m := range msgs {
		attrs := make(map[string]events.SQSMessageAttribute, len(m.Attributes))
		for k, v := range m.Attributes {
			attrs[k] = events.SQSMessageAttribute{DataType: "String", StringValue: &v}
		}
		ev.Records[i] = events.SQSMessage{
			MessageId:     m.ID,
			ReceiptHandle: m.ReceiptHandle,
			Body:          bodyString(m.Body),
			Attributes: map[string]string{
				"ApproximateReceiveCount":          strconv.Itoa(m.ReceiveCount),
				"SentTimestamp":                    strconv.FormatInt(m.SentAt.UnixMilli(), 10),
				"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.FirstReceivedAt.UnixMilli(), 10),
				"SenderId":                         "000000000000",
			},
			MessageAttributes: attrs,
			EventSource:       "aws:sqs",
			EventSourceARN:    arn,
			AWSRegion:         "local",
		}
	}
	return ev
}

// bodyString is a message's body as the event's string, without a copy: the engine never
// modifies a message's body once published (the hand-off gives every queue's copy the
// publisher's slice; Topic.Publish says its caller must not modify it either), so the string
// stays what it was. A copy was ~1.4 KB of the ~41 KB the local pipeline allocated per event.
func bodyString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (c *Runner) deliverSQS(ctx context.Context, msgs []engine.Message) {
	resp, err := safeCall(ctx, c.Subscriber, SQSEvent(c.Queue, msgs))
	failed := map[string]string{}
	if err != nil {
		for _, m := range msgs {
			failed[m.ID] = "subscriber returned an error: " + err.Error()
		}
	} else {
		byID := make(map[string]bool, len(msgs))
		for _, m := range msgs {
			byID[m.ID] = true
		}
		for _, f := range resp.BatchItemFailures {
			if !byID[f.ItemIdentifier] {
				// Lambda treats an unknown (or empty) identifier as a failure of the whole batch.
				err = fmt.Errorf("batch item failure names unknown message id %q", f.ItemIdentifier)
				for _, m := range msgs {
					failed[m.ID] = "subscriber response is invalid: " + err.Error()
				}
				break
			}
			failed[f.ItemIdentifier] = "reported in BatchItemFailures by the subscriber (see its log for the cause)"
		}
	}
	var deletes []string
	reasons := make(map[string]string, len(failed)) // by receipt handle
	for _, m := range msgs {
		if reason, ok := failed[m.ID]; ok {
			reasons[m.ReceiptHandle] = reason
		} else {
			deletes = append(deletes, m.ReceiptHandle)
		}
	}
	if len(failed) > 0 {
		c.Log.Warn("subscriber batch had failures", "queue", c.Queue, "batch", len(msgs), "failed", len(failed), "err", err)
	}
	if err := c.Engine.Settle(ctx, c.Queue, deletes, reasons); err != nil {
		// The messages reappear after their visibility timeout: at-least-once, nothing lost.
		c.Log.Error("settle batch", "queue", c.Queue, "err", err)
	}
}

// safeCall turns a handler panic into an error, as the Lambda runtime reports it.
func safeCall[In, Out any](ctx context.Context, h func(context.Context, In) (Out, error), in In) (out Out, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, in)
}

const streamARN = "arn:aws:dynamodb:local:000000000000:table/events/stream/local"

// DynamoDBEvent builds the event a DynamoDB Streams event source mapping would deliver.
func DynamoDBEvent(recs []engine.StreamRecord) events.DynamoDBEvent {
	ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, len(recs))}
	for i, r := range recs {
		seq := strconv.FormatInt(r.Seq, 10)
		ev.Records[i] = events.DynamoDBEventRecord{
			AWSRegion:      "local",
			EventID:        fmt.Sprintf("%032x", r.Seq),
			EventName:      r.EventName,
			EventSource:    "aws:dynamodb",
			EventVersion:   "1.1",
			EventSourceArn: streamARN,
			Change: events.DynamoDBStreamRecord{
				ApproximateCreationDateTime: events.SecondsEpochTime{Time: r.CreatedAt},
				Keys:                        r.Keys,
				NewImage:                    r.NewImage,
				SequenceNumber:              seq,
				SizeBytes:                   r.SizeBytes,
				StreamViewType:              "NEW_IMAGE",
			},
		}
	}
	return ev
}

func (c *Runner) pollStream(ctx context.Context) {
	refused := 0 // windows in a row that ended on a failure record the engine did not take
	for ctx.Err() == nil {
		ch := c.Engine.StreamWait() // before reading, so an append in between wakes us
		recs, err := c.Engine.ReadStream(ctx, c.StreamConsumer, c.StreamBatchSize*c.ParallelizationFactor)
		if err != nil {
			if !c.retryLater(ctx, err, "read stream failed", "consumer", c.StreamConsumer) {
				return
			}
			continue
		}
		if len(recs) == 0 {
			t := time.NewTimer(c.BatchWindow)
			select {
			case <-ch:
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
			continue
		}
		if err := c.deliverWindow(ctx, recs); err != nil {
			// The record stays after the checkpoint and is read (and retried) again: nothing
			// acknowledged is lost. Not at once, though: while the database refuses writes (disk
			// full) that would call the notifier and fail the write in a tight loop.
			refused++
			if c.sleep(ctx, c.retryDelay(refused)) != nil {
				return
			}
			continue
		}
		refused = 0
	}
}

// deliverWindow splits recs into consecutive chunks of StreamBatchSize, delivers them
// concurrently and checkpoints the longest finished prefix as chunks make progress. It returns
// an error when a chunk stopped at a record it could not record as failed.
func (c *Runner) deliverWindow(ctx context.Context, recs []engine.StreamRecord) error {
	var chunks [][]engine.StreamRecord
	for len(recs) > 0 {
		n := min(len(recs), c.StreamBatchSize)
		chunks, recs = append(chunks, recs[:n]), recs[n:]
	}
	w := &window{ends: make([]int64, len(chunks)), through: make([]int64, len(chunks))}
	for i, ch := range chunks {
		w.ends[i], w.through[i] = ch[len(ch)-1].Seq, ch[0].Seq-1
	}
	var wg sync.WaitGroup
	errs := make([]error, len(chunks))
	for i, ch := range chunks {
		wg.Go(func() {
			errs[i] = c.deliverStream(ctx, ch, func(seq int64) {
				if cp, ok := w.progress(i, seq); ok {
					c.checkpoint(context.WithoutCancel(ctx), cp)
				}
			})
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// window tracks how far each chunk of a stream window got, to find what may be checkpointed.
type window struct {
	mu        sync.Mutex
	ends      []int64 // last seq of each chunk
	through   []int64 // each chunk is done through this seq
	committed int64
}

func (w *window) progress(chunk int, seq int64) (int64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.through[chunk] = max(w.through[chunk], seq)
	cp := w.committed
	for i := range w.ends {
		if w.through[i] >= w.ends[i] {
			cp = w.ends[i]
			continue
		}
		cp = max(cp, w.through[i])
		break
	}
	if cp <= w.committed {
		return 0, false
	}
	w.committed = cp
	return cp, true
}

// deliverStream processes recs like a stream event source mapping with
// ReportBatchItemFailures and BisectBatchOnFunctionError: report done (checkpointable) up to
// just before the first failure, retry from there, halve the batch on handler errors, and
// after StreamRetries record the failing record and move past it. Only INSERT records reach the handler (the CDK filter).
// If ctx ends it stops retrying; unfinished records stay after the checkpoint for next time.
// If the failing record cannot be recorded it stops there too and returns that error.
func (c *Runner) deliverStream(ctx context.Context, recs []engine.StreamRecord, done func(seq int64)) error {
	bg := context.WithoutCancel(ctx)
	size, attempts := c.StreamBatchSize, 0
	var failSeq int64 // the record attempts counts retries of; its start value never matters: attempts is 0 until a failure sets it
	for len(recs) > 0 {
		var batch []engine.StreamRecord
		var last int // index in recs of the last record this round covers: recs[0] at least
		for i, r := range recs {
			if r.EventName == engine.StreamInsert {
				if len(batch) == size {
					break
				}
				batch = append(batch, r)
			}
			last = i
		}
		if len(batch) == 0 { // only filtered-out records: skip past them
			done(recs[last].Seq)
			return nil
		}
		resp, err := safeCall(bg, c.Notifier, DynamoDBEvent(batch))
		var failIdx int
		var reason string
		if err != nil {
			failIdx, reason = 0, "notifier returned an error: "+err.Error()
		} else {
			failIdx, reason = firstStreamFailure(batch, resp)
		}
		if failIdx < 0 {
			done(recs[last].Seq)
			recs, size, attempts = recs[last+1:], c.StreamBatchSize, 0
			continue
		}
		failed := batch[failIdx]
		done(failed.Seq - 1)
		for len(recs) > 0 && recs[0].Seq < failed.Seq {
			recs = recs[1:]
		}
		if err != nil && len(batch) > 1 {
			size = (len(batch) + 1) / 2 // bisect: find the poison record without burning retries
			continue
		}
		if failed.Seq != failSeq { // retries count per record
			failSeq, attempts = failed.Seq, 0
		}
		attempts++
		if attempts > c.StreamRetries {
			c.Log.Error("stream record failed; recorded and skipped", "consumer", c.StreamConsumer, "seq", failed.Seq, "attempts", attempts, "reason", reason)
			if err := c.recordFailure(bg, c.StreamConsumer, failed, reason); err != nil {
				c.Log.Error("record stream failure", "seq", failed.Seq, "err", err)
				return err // not checkpointed: retried on the next read
			}
			done(failed.Seq)
			recs, size, attempts = recs[1:], c.StreamBatchSize, 0
			continue
		}
		c.Log.Warn("stream batch failed; retrying", "consumer", c.StreamConsumer, "seq", failed.Seq, "attempt", attempts, "reason", reason)
		if c.sleep(ctx, c.retryDelay(attempts)) != nil {
			return nil
		}
	}
	return nil
}

// retryDelay is the pause before the given retry: RetryDelay doubled per earlier attempt,
// capped at MaxRetryDelay.
func (c *Runner) retryDelay(attempt int) time.Duration {
	d := c.RetryDelay
	for i := 1; i < attempt && d < c.MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, c.MaxRetryDelay)
}

// firstStreamFailure returns the index in batch of the lowest failed sequence number, or -1.
func firstStreamFailure(batch []engine.StreamRecord, resp events.DynamoDBEventResponse) (int, string) {
	first := -1
	for _, f := range resp.BatchItemFailures {
		idx := -1
		for i, r := range batch {
			if strconv.FormatInt(r.Seq, 10) == f.ItemIdentifier {
				idx = i
				break
			}
		}
		if idx < 0 {
			// Lambda treats an unknown identifier as a failure of the whole batch.
			return 0, fmt.Sprintf("notifier response names unknown sequence number %q", f.ItemIdentifier)
		}
		if first < 0 || idx < first {
			first = idx
		}
	}
	if first < 0 {
		return -1, ""
	}
	return first, "reported in BatchItemFailures by the notifier (see its log for the cause)"
}

func (c *Runner) checkpoint(ctx context.Context, seq int64) {
	if err := c.Engine.Checkpoint(ctx, c.StreamConsumer, seq); err != nil {
		// Records after the old checkpoint are delivered again: at-least-once.
		c.Log.Error("checkpoint", "consumer", c.StreamConsumer, "seq", seq, "err", err)
	}
}
