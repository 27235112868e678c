package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"hookline/pkg/pipeline"
)

// DefaultVisibilityTimeout is SQS's default.
const DefaultVisibilityTimeout = 30 * time.Second

// QueueConfig is a queue's SQS-like settings.
type QueueConfig struct {
	VisibilityTimeout time.Duration // 0 means DefaultVisibilityTimeout
	// MaxReceiveCount is the redrive policy's maxReceiveCount: a message received this many
	// times without being deleted moves to DeadLetterQueue. 0, or no DeadLetterQueue, means
	// messages are redelivered forever.
	MaxReceiveCount int
	DeadLetterQueue string
}

// Message is one received queue message.
type Message struct {
	ID              string
	ReceiptHandle   string
	Body            []byte
	Attributes      map[string]string // the SNS message attributes: "type", "source"
	ReceiveCount    int               // including this receive
	SentAt          time.Time
	FirstReceivedAt time.Time
}

// DeadLetter is a message sitting in a dead-letter queue.
type DeadLetter struct {
	Message
	SourceQueue string    // the queue it was dead-lettered from
	Reason      string    // the last recorded failure, or why it was moved
	DeadAt      time.Time // when it was moved
}

// ErrUnknownQueue is returned (wrapped) for operations on a queue that was never created.
var ErrUnknownQueue = errors.New("no such queue")

// ErrMessageNotInflight is ChangeVisibility's error for a receipt handle whose message is no
// longer in flight with that handle (SQS's MessageNotInflight / ReceiptHandleIsInvalid).
var ErrMessageNotInflight = errors.New("message is not in flight with this receipt handle")

// CreateQueue creates the queue or updates its settings. A dead-letter queue must exist first.
func (e *Engine) CreateQueue(ctx context.Context, name string, cfg QueueConfig) error {
	if name == "" {
		return errors.New("create queue: empty name")
	}
	if cfg.VisibilityTimeout <= 0 {
		cfg.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if cfg.MaxReceiveCount < 0 {
		return fmt.Errorf("create queue %s: MaxReceiveCount %d is negative", name, cfg.MaxReceiveCount)
	}
	if cfg.DeadLetterQueue != "" {
		if cfg.DeadLetterQueue == name {
			return fmt.Errorf("create queue %s: a queue cannot be its own dead-letter queue", name)
		}
		if _, err := e.Queue(cfg.DeadLetterQueue); err != nil {
			return fmt.Errorf("create queue %s: dead-letter queue: %w", name, err)
		}
	}
	err := e.write(ctx, func(w *wtx) error {
		_, err := w.Exec(`INSERT INTO queues (name, visibility_timeout_ms, max_receive_count, dead_letter_queue) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET visibility_timeout_ms = excluded.visibility_timeout_ms,
				max_receive_count = excluded.max_receive_count, dead_letter_queue = excluded.dead_letter_queue`,
			name, cfg.VisibilityTimeout.Milliseconds(), cfg.MaxReceiveCount, cfg.DeadLetterQueue)
		return err
	})
	if err != nil {
		return fmt.Errorf("create queue %s: %w", name, err)
	}
	e.mu.Lock()
	e.queues[name] = cfg
	e.mu.Unlock()
	return nil
}

// Subscribe delivers every message published to topic into queue from now on. Subscribing
// twice is a no-op.
func (e *Engine) Subscribe(ctx context.Context, topic, queue string) error {
	if _, err := e.Queue(queue); err != nil {
		return fmt.Errorf("subscribe %s to %s: %w", queue, topic, err)
	}
	err := e.write(ctx, func(w *wtx) error {
		_, err := w.Exec(`INSERT INTO subscriptions (topic, queue) VALUES (?, ?) ON CONFLICT DO NOTHING`, topic, queue)
		return err
	})
	if err != nil {
		return fmt.Errorf("subscribe %s to %s: %w", queue, topic, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, q := range e.subs[topic] {
		if q == queue {
			return nil
		}
	}
	e.subs[topic] = append(e.subs[topic], queue)
	return nil
}

// Queue returns the configuration of queue name, or an error wrapping ErrUnknownQueue.
func (e *Engine) Queue(name string) (QueueConfig, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	cfg, ok := e.queues[name]
	if !ok {
		return QueueConfig{}, fmt.Errorf("%w: %q", ErrUnknownQueue, name)
	}
	return cfg, nil
}

// Topic is a named SNS-like topic. It fans each message out to its subscribed queues.
type Topic struct {
	e    *Engine
	name string
}

var _ pipeline.Publisher = (*Topic)(nil)

// Topic returns the topic called name. Topics need no creation; one without subscribers
// accepts and drops messages, like SNS.
func (e *Engine) Topic(name string) *Topic { return &Topic{e: e, name: name} }

// Name returns the topic's name.
func (t *Topic) Name() string { return t.name }

// Publish writes m to every subscribed queue in one transaction and returns after it commits.
// It keeps m.Body without copying it (the queues' hand-off copies and the events the runner
// builds from them read it as it is): the caller must not modify it afterwards.
func (t *Topic) Publish(ctx context.Context, m pipeline.Message) error {
	if size := m.Size(); size > pipeline.MaxMessageBytes {
		return fmt.Errorf("publish %s to %s: message is %d bytes, over the %d-byte limit", m.ID, t.name, size, pipeline.MaxMessageBytes)
	}
	attrsJSON, err := json.Marshal(m.Attributes())
	if err != nil {
		return fmt.Errorf("publish %s to %s: %w", m.ID, t.name, err)
	}
	attrs := string(attrsJSON) // converted here, not in the writer
	t.e.mu.RLock()
	queues := t.e.subs[t.name]
	t.e.mu.RUnlock()
	if len(queues) == 0 {
		return nil
	}
	ids := make([]string, len(queues))
	for i := range ids {
		ids[i] = uuid.NewString() // each SQS queue gives its copy its own MessageId
	}
	clock := t.e.opts.Clock()
	now := clock.UnixNano()
	// Copies for a queue with room in its hand-off line are written as received already.
	lines := make([]*handoff, len(queues))
	copies := make([]handed, len(queues))
	for i, q := range queues {
		h := t.e.handoffOf(q)
		if h == nil || !h.reserve(int64(len(m.Body))) {
			continue
		}
		cfg, err := t.e.Queue(q)
		if err != nil {
			h.release(int64(len(m.Body)))
			continue
		}
		token, err := newToken()
		if err != nil {
			h.release(int64(len(m.Body)))
			return fmt.Errorf("publish %s to %s: %w", m.ID, t.name, err)
		}
		lines[i] = h
		copies[i] = handed{
			m: Message{ID: ids[i], ReceiptHandle: token, Body: m.Body, Attributes: map[string]string{"type": m.Type, "source": m.Source},
				ReceiveCount: 1, SentAt: time.Unix(0, now), FirstReceivedAt: time.Unix(0, now)},
			until: clock.Add(cfg.VisibilityTimeout), half: cfg.VisibilityTimeout / 2,
		}
	}
	err = t.e.write(ctx, func(w *wtx) error {
		for i, q := range queues {
			if lines[i] != nil {
				r, err := w.Exec(`INSERT INTO messages (queue, message_id, body, attrs, sent_at, visible_at, receive_count, first_received_at, receipt)
					VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`,
					q, ids[i], m.Body, attrs, now, copies[i].until.UnixNano(), now, copies[i].m.ReceiptHandle)
				if err != nil {
					return fmt.Errorf("enqueue to %s: %w", q, err)
				}
				seq, err := r.LastInsertId()
				if err != nil {
					return fmt.Errorf("enqueue to %s: %w", q, err)
				}
				h, hm := lines[i], copies[i]
				hm.m.ReceiptHandle = receiptHandle(seq, hm.m.ReceiptHandle)
				w.afterCommit(func() { h.put(hm) })
				continue
			}
			if _, err := w.Exec(`INSERT INTO messages (queue, message_id, body, attrs, sent_at, visible_at) VALUES (?, ?, ?, ?, ?, ?)`,
				q, ids[i], m.Body, attrs, now, now); err != nil {
				return fmt.Errorf("enqueue to %s: %w", q, err)
			}
			if h := t.e.handoffOf(q); h != nil {
				w.afterCommit(func() { h.tabled.Add(1) })
			}
			w.afterCommit(t.e.queueWaiter(q).notify)
		}
		return nil
	})
	if err != nil {
		for _, h := range lines {
			if h != nil {
				h.release(int64(len(m.Body)))
			}
		}
		return fmt.Errorf("publish %s to %s: %w", m.ID, t.name, err)
	}
	return nil
}

// Receive returns up to max visible messages from queue and hides them for the queue's
// visibility timeout. A message that has already been received MaxReceiveCount times is moved
// to the dead-letter queue instead of being delivered.
func (e *Engine) Receive(ctx context.Context, queue string, max int) ([]Message, error) {
	cfg, err := e.Queue(queue)
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", queue, err)
	}
	if max <= 0 {
		max = 1
	}
	h := e.handoffOf(queue)
	if h != nil && !h.lookDue(e.opts.Clock()) {
		if out := e.take(h, max, nil); len(out) > 0 {
			return out, nil // fewer than max is fine, as on SQS
		}
	}
	out, err := e.receiveTable(ctx, queue, cfg, max)
	if h != nil && len(out) == 0 {
		out = e.take(h, max, nil)
	}
	return out, err
}

// receiveTable receives from the table: visible messages, hidden for the visibility timeout.
// What needs no write (the receipt's token, the attributes' JSON) is done outside the writer.
func (e *Engine) receiveTable(ctx context.Context, queue string, cfg QueueConfig, max int) ([]Message, error) {
	token, err := newToken()
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", queue, err)
	}
	var got []received
	err = e.write(ctx, func(w *wtx) error {
		var err error
		got, err = e.receiveTx(w, queue, cfg, max, token)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", queue, err)
	}
	out := make([]Message, len(got))
	for i, r := range got {
		if err := json.Unmarshal([]byte(r.attrs), &out[i].Attributes); err != nil {
			// The messages stay hidden and come back when their visibility timeout ends, as
			// when a receiver dies holding them.
			return nil, fmt.Errorf("receive from %s: message %s attributes: %w", queue, r.id, err)
		}
		out[i].ID, out[i].ReceiptHandle, out[i].Body = r.id, receiptHandle(r.seq, token), r.body
		out[i].ReceiveCount = int(r.receiveCount)
		out[i].SentAt, out[i].FirstReceivedAt = time.Unix(0, r.sentAt), time.Unix(0, r.firstAt)
	}
	if h := e.handoffOf(queue); h != nil {
		h.lastLook.Store(e.opts.Clock().UnixNano())
		if len(out) < max {
			h.tabled.Store(0) // the table is drained (of what this look could see)
		} else {
			h.received(len(out))
		}
	}
	return out, nil
}

// ReceiveWait is Receive with SQS long polling: when nothing is visible it waits up to wait
// for a publish to the queue (or for wait to pass) before returning empty-handed.
func (e *Engine) ReceiveWait(ctx context.Context, queue string, max int, wait time.Duration) ([]Message, error) {
	b := e.queueWaiter(queue)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	var line chan handed // nil (never ready) when handing off is off
	h := e.handoffOf(queue)
	if h != nil {
		line = h.ch
	}
	for {
		if h != nil && !h.lookDue(e.opts.Clock()) {
			if msgs := e.take(h, max, nil); len(msgs) > 0 {
				return msgs, nil
			}
		}
		ch, gen := b.waitGen() // take the channel before looking, so a publish in between is not missed
		// A look that found the table empty stands while nothing this process did can have
		// made a message visible there and it is recent: then wait for the line without a
		// read (a read per poll was one query per batch of one or two messages at 1,000 req/s).
		if h == nil || h.emptyAt.Load() != gen || h.lookDue(e.opts.Clock()) {
			ok, err := e.hasVisible(ctx, queue)
			if err != nil {
				return nil, err
			}
			if h != nil {
				h.lastLook.Store(e.opts.Clock().UnixNano())
				if ok {
					h.emptyAt.Store(noLook)
				} else {
					h.emptyAt.Store(gen)
				}
			}
			if ok {
				cfg, err := e.Queue(queue)
				if err != nil {
					return nil, fmt.Errorf("receive from %s: %w", queue, err)
				}
				msgs, err := e.receiveTable(ctx, queue, cfg, max)
				if err != nil || len(msgs) > 0 {
					return msgs, err
				}
			}
		}
		if h != nil {
			if msgs := e.take(h, max, nil); len(msgs) > 0 {
				return msgs, nil
			}
		}
		select {
		case m := <-line:
			if msgs := e.take(h, max, &m); len(msgs) > 0 {
				return msgs, nil
			}
		case <-ch:
		case <-deadline.C:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-e.closed:
			return nil, ErrClosed
		}
	}
}

// hasVisible is a cheap read so idle polling never takes the write lock.
func (e *Engine) hasVisible(ctx context.Context, queue string) (bool, error) {
	var one int
	err := e.rdb.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE queue = ? AND visible_at <= ? LIMIT 1`, queue, e.opts.Clock().UnixNano()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("poll %s: %w", queue, err)
	}
	return true, nil
}

// received is a message as receiveTx read it: the writer does no more than the statements.
type received struct {
	seq                           int64
	id, attrs, reason             string
	body                          []byte
	sentAt, firstAt, receiveCount int64
}

// inList is "?, ?, …" with n placeholders.
func inList(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// maxInList bounds the placeholders of one statement that names rows by seq, so the writer
// prepares at most this many variants of it; longer lists take several statements.
const maxInList = 16

// hideSQL[n] receives n messages named by seq (?4…): hidden until ?1 with receipt token ?2,
// the receive counted, the first receive set at ?3 unless it was earlier.
var hideSQL = func() (q [maxInList + 1]string) {
	for n := 1; n <= maxInList; n++ {
		q[n] = `UPDATE messages SET visible_at = ?, receipt = ?, receive_count = receive_count + 1,
			first_received_at = CASE first_received_at WHEN 0 THEN ?3 ELSE first_received_at END
			WHERE seq IN (` + inList(n) + `)`
	}
	return q
}()

// receiveTx receives up to max messages: per round one read of the visible messages, each
// dead-lettered one moved, and one statement that hides the others. All messages of one
// receive share token: each has its own seq, and the token is new with every receive, so
// every earlier receipt handle of each is stale.
func (e *Engine) receiveTx(w *wtx, queue string, cfg QueueConfig, max int, token string) ([]received, error) {
	now := e.opts.Clock()
	dlq := cfg.DeadLetterQueue != "" && cfg.MaxReceiveCount > 0
	var out []received
	moved := false
	for len(out) < max {
		rows, err := w.Query(`SELECT seq, message_id, body, attrs, sent_at, first_received_at, receive_count, reason
			FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?`, queue, now.UnixNano(), max-len(out))
		if err != nil {
			return nil, fmt.Errorf("select visible: %w", err)
		}
		var cs []received
		for rows.Next() {
			var c received
			if err := rows.Scan(&c.seq, &c.id, &c.body, &c.attrs, &c.sentAt, &c.firstAt, &c.receiveCount, &c.reason); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan message: %w", err)
			}
			cs = append(cs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("select visible: %w", err)
		}
		if len(cs) == 0 {
			break
		}
		first := len(out)
		for _, c := range cs {
			if dlq && c.receiveCount >= int64(cfg.MaxReceiveCount) {
				reason := c.reason
				if reason == "" {
					reason = fmt.Sprintf("received %d times (maxReceiveCount %d) without being deleted", c.receiveCount, cfg.MaxReceiveCount)
				}
				if _, err := w.Exec(`UPDATE messages SET queue = ?, visible_at = ?, receipt = '', reason = ?, dead_from = ?, dead_at = ? WHERE seq = ?`,
					cfg.DeadLetterQueue, now.UnixNano(), reason, queue, now.UnixNano(), c.seq); err != nil {
					return nil, fmt.Errorf("move message %s to %s: %w", c.id, cfg.DeadLetterQueue, err)
				}
				moved = true
				continue
			}
			if c.firstAt == 0 {
				c.firstAt = now.UnixNano()
			}
			c.receiveCount++
			out = append(out, c)
		}
		for hide := out[first:]; len(hide) > 0; {
			n := min(len(hide), maxInList)
			args := make([]any, 3, 3+n)
			args[0], args[1], args[2] = now.Add(cfg.VisibilityTimeout).UnixNano(), token, now.UnixNano()
			for _, c := range hide[:n] {
				args = append(args, c.seq)
			}
			if _, err := w.Exec(hideSQL[n], args...); err != nil {
				return nil, fmt.Errorf("hide messages: %w", err)
			}
			hide = hide[n:]
		}
	}
	if moved {
		w.afterCommit(e.queueWaiter(cfg.DeadLetterQueue).notify)
	}
	return out, nil
}

// newToken makes the random part of a receipt handle, which changes with every receive, so a
// stale handle matches nothing. The row keeps the token; the handle is "<seq>-<token>", so
// Delete is a primary-key lookup. The messages of one receive share a token; their seqs
// tell their handles apart. A seq is used again once its message is gone (no
// AUTOINCREMENT, schema 9): the token is what tells the two messages' handles apart.
func newToken() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("receipt handle: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func receiptHandle(seq int64, token string) string {
	return strconv.FormatInt(seq, 10) + "-" + token
}

func parseReceipt(h string) (int64, string, bool) {
	s, token, ok := strings.Cut(h, "-")
	if !ok || token == "" {
		return 0, "", false
	}
	seq, err := strconv.ParseInt(s, 10, 64)
	return seq, token, err == nil
}

// Delete removes the message received with receiptHandle. Like SQS, a stale handle (the
// message was received again since, or is already gone) succeeds without deleting anything;
// only a malformed handle is an error.
func (e *Engine) Delete(ctx context.Context, queue, receiptHandle string) error {
	return e.DeleteBatch(ctx, queue, []string{receiptHandle})
}

// DeleteBatch deletes several messages in one transaction, like SQS DeleteMessageBatch.
func (e *Engine) DeleteBatch(ctx context.Context, queue string, receiptHandles []string) error {
	return e.Settle(ctx, queue, receiptHandles, nil)
}

// deleteSQL[n] deletes n messages, each named by seq and receipt token (n pairs of
// arguments), of the queue named by the last argument: a message whose row has another token
// (a stale handle) stays.
var deleteSQL = func() (q [maxInList + 1]string) {
	for n := 1; n <= maxInList; n++ {
		q[n] = `DELETE FROM messages WHERE seq IN (SELECT m.seq FROM (VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?), ", n), ", ") + `) AS v
			JOIN messages AS m ON m.seq = v.column1 AND m.receipt = v.column2 AND m.queue = ?)`
	}
	return q
}()

// Settle deletes the succeeded messages and records why the failed ones failed (reasons by
// receipt handle), in one transaction: what the runner does after every batch.
func (e *Engine) Settle(ctx context.Context, queue string, deletes []string, reasons map[string]string) error {
	type row struct {
		seq   int64
		token string
	}
	parse := func(h string) (row, error) {
		seq, token, ok := parseReceipt(h)
		if !ok {
			return row{}, fmt.Errorf("settle messages in %s: receipt handle %q is malformed", queue, h)
		}
		return row{seq, token}, nil
	}
	dels := make([]row, len(deletes))
	for i, h := range deletes {
		var err error
		if dels[i], err = parse(h); err != nil {
			return err
		}
	}
	type failure struct {
		row
		reason string
	}
	fails := make([]failure, 0, len(reasons))
	for h, reason := range reasons {
		r, err := parse(h)
		if err != nil {
			return err
		}
		fails = append(fails, failure{r, reason})
	}
	// The deletes as statements of up to maxInList messages each, their arguments built here
	// rather than in the writer. Each (seq, token) pair deletes on its own, as one statement
	// each did: of a stale and a fresh handle of one message, the fresh one deletes it.
	type deleteStmt struct {
		query string
		args  []any
	}
	var deleteStmts []deleteStmt
	for len(dels) > 0 {
		n := min(len(dels), maxInList)
		args := make([]any, 0, 2*n+1)
		for _, d := range dels[:n] {
			args = append(args, d.seq, d.token)
		}
		deleteStmts = append(deleteStmts, deleteStmt{deleteSQL[n], append(args, queue)})
		dels = dels[n:]
	}
	err := e.write(ctx, func(w *wtx) error {
		for _, d := range deleteStmts {
			if _, err := w.Exec(d.query, d.args...); err != nil {
				return fmt.Errorf("delete messages: %w", err)
			}
		}
		for _, f := range fails {
			if _, err := w.Exec(`UPDATE messages SET reason = ? WHERE seq = ? AND queue = ? AND receipt = ?`, f.reason, f.seq, queue, f.token); err != nil {
				return fmt.Errorf("record failure of message %d: %w", f.seq, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle messages in %s: %w", queue, err)
	}
	return nil
}

// SetFailureReason records why the message with id failed; DLQ listings show the last one.
// (It looks the id up across the queue; the runner settles by receipt handle instead.)
func (e *Engine) SetFailureReason(ctx context.Context, queue, id, reason string) error {
	err := e.write(ctx, func(w *wtx) error {
		_, err := w.Exec(`UPDATE messages SET reason = ? WHERE queue = ? AND message_id = ?`, reason, queue, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("record failure of %s in %s: %w", id, queue, err)
	}
	return nil
}

// ChangeVisibility makes an in-flight message visible again after timeout (0: at once), like
// SQS ChangeMessageVisibility.
func (e *Engine) ChangeVisibility(ctx context.Context, queue, receiptHandle string, timeout time.Duration) error {
	seq, token, ok := parseReceipt(receiptHandle)
	if !ok {
		return fmt.Errorf("change visibility in %s: receipt handle %q is malformed", queue, receiptHandle)
	}
	err := e.write(ctx, func(w *wtx) error {
		now := e.opts.Clock()
		r, err := w.Exec(`UPDATE messages SET visible_at = ? WHERE seq = ? AND queue = ? AND receipt = ? AND visible_at > ?`,
			now.Add(timeout).UnixNano(), seq, queue, token, now.UnixNano())
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrMessageNotInflight
		}
		if timeout <= 0 {
			w.afterCommit(e.queueWaiter(queue).notify)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("change visibility in %s: %w", queue, err)
	}
	return nil
}

// Depth counts the queue's visible and in-flight messages (SQS's ApproximateNumberOfMessages
// and ApproximateNumberOfMessagesNotVisible).
func (e *Engine) Depth(ctx context.Context, queue string) (visible, inflight int, err error) {
	err = e.rdb.QueryRowContext(ctx, `SELECT
			COALESCE(SUM(visible_at <= ?1), 0), COALESCE(SUM(visible_at > ?1), 0)
		FROM messages WHERE queue = ?2`, e.opts.Clock().UnixNano(), queue).Scan(&visible, &inflight)
	if err != nil {
		return 0, 0, fmt.Errorf("depth of %s: %w", queue, err)
	}
	return visible, inflight, nil
}

// ListDLQ returns up to max messages in the dead-letter queue dlq, oldest first, without
// receiving them.
func (e *Engine) ListDLQ(ctx context.Context, dlq string, max int) ([]DeadLetter, error) {
	if max <= 0 {
		max = 100
	}
	rows, err := e.rdb.QueryContext(ctx, `SELECT message_id, body, attrs, sent_at, first_received_at, receive_count, reason, dead_from, dead_at
		FROM messages WHERE queue = ? ORDER BY seq LIMIT ?`, dlq, max)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dlq, err)
	}
	out, err := collect(rows, func(rows *sql.Rows) (DeadLetter, error) {
		var d DeadLetter
		var attrs string
		var sent, first, dead int64
		if err := rows.Scan(&d.ID, &d.Body, &attrs, &sent, &first, &d.ReceiveCount, &d.Reason, &d.SourceQueue, &dead); err != nil {
			return d, err
		}
		if err := json.Unmarshal([]byte(attrs), &d.Attributes); err != nil {
			return d, fmt.Errorf("message %s attributes: %w", d.ID, err)
		}
		d.SentAt = time.Unix(0, sent)
		if first > 0 {
			d.FirstReceivedAt = time.Unix(0, first)
		}
		if dead > 0 {
			d.DeadAt = time.Unix(0, dead)
		}
		return d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dlq, err)
	}
	return out, nil
}

// Redrive moves every message in dlq back to target with a fresh receive count, like SQS
// StartMessageMoveTask. An empty target sends each message back to the queue it came from.
func (e *Engine) Redrive(ctx context.Context, dlq, target string) (int, error) {
	if _, err := e.Queue(dlq); err != nil {
		return 0, fmt.Errorf("redrive %s: %w", dlq, err)
	}
	if target != "" {
		if _, err := e.Queue(target); err != nil {
			return 0, fmt.Errorf("redrive %s: target: %w", dlq, err)
		}
	}
	var n int64
	err := e.write(ctx, func(w *wtx) error {
		targets, err := queryStrings(w, `SELECT DISTINCT CASE WHEN ?1 != '' THEN ?1 ELSE dead_from END FROM messages WHERE queue = ?2`, target, dlq)
		if err != nil {
			return err
		}
		for _, t := range targets {
			if t == "" {
				return fmt.Errorf("some messages in %s have no source queue; name a target", dlq)
			}
			if _, err := e.Queue(t); err != nil {
				return err
			}
		}
		r, err := w.Exec(`UPDATE messages SET queue = CASE WHEN ?1 != '' THEN ?1 ELSE dead_from END,
				visible_at = ?2, receive_count = 0, first_received_at = 0, receipt = '', reason = '', dead_from = '', dead_at = 0
			WHERE queue = ?3`, target, e.opts.Clock().UnixNano(), dlq)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		for _, t := range targets {
			w.afterCommit(e.queueWaiter(t).notify)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("redrive %s: %w", dlq, err)
	}
	return int(n), nil
}
