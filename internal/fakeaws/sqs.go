package fakeaws

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// QueueOptions are a queue's attributes, as AWS::SQS::Queue gives them.
type QueueOptions struct {
	VisibilityTimeout time.Duration // 0 means SQS's default, 30 s
	// DeadLetterARN and MaxReceiveCount are the redrive policy: a message received
	// MaxReceiveCount times moves to the dead-letter queue instead of being received again.
	DeadLetterARN   string
	MaxReceiveCount int
}

// QueuedMessage is a message in a queue, for tests to inspect.
type QueuedMessage struct {
	ID         string
	Body       string
	Receives   int               // ApproximateReceiveCount
	Visible    bool              // false while a consumer holds it
	SourceARN  string            // DeadLetterQueueSourceArn: the queue it was dead-lettered from
	Attributes map[string]string // message attributes (string values)
}

type queue struct {
	arn, url string
	opts     QueueOptions
	msgs     []*message
	wake     chan struct{} // closed and replaced whenever a message arrives or becomes visible
}

type message struct {
	id, body, sender, dlqSource string
	attrs                       map[string]messageAttribute
	sent, firstReceive          time.Time
	receives                    int
	visibleAt                   time.Time
	handle                      string
}

// messageAttribute is the SQS JSON shape of a message attribute.
type messageAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
}

// AddQueue creates the queue with this ARN and returns its URL (on this server, so a client
// that follows queue URLs still talks to the fake).
func (s *Server) AddQueue(arn string, opts QueueOptions) string {
	if opts.VisibilityTimeout <= 0 {
		opts.VisibilityTimeout = 30 * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := &queue{arn: arn, url: s.QueueURL(arn), opts: opts, wake: make(chan struct{})}
	s.queues[arn] = q
	return q.url
}

// QueueURL is the URL of the queue with this ARN on this server (AddQueue need not have run).
func (s *Server) QueueURL(arn string) string {
	return s.URL + "/" + s.Account + "/" + arn[strings.LastIndex(arn, ":")+1:]
}

// Messages returns the messages in a queue, oldest first.
func (s *Server) Messages(queueARN string) []QueuedMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[queueARN]
	if q == nil {
		return nil
	}
	now := time.Now()
	out := make([]QueuedMessage, 0, len(q.msgs))
	for _, m := range q.msgs {
		attrs := map[string]string{}
		for k, a := range m.attrs {
			attrs[k] = a.StringValue
		}
		out = append(out, QueuedMessage{ID: m.id, Body: m.body, Receives: m.receives, Visible: !now.Before(m.visibleAt),
			SourceARN: m.dlqSource, Attributes: attrs})
	}
	return out
}

// send enqueues a message (SNS delivery or SendMessage).
func (s *Server) send(arn, body string, attrs map[string]messageAttribute, sender string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[arn]
	if q == nil {
		return fmt.Errorf("no queue %s", arn)
	}
	q.push(&message{id: uuid.NewString(), body: body, attrs: attrs, sender: sender, sent: time.Now()})
	return nil
}

func (q *queue) push(m *message) {
	q.msgs = append(q.msgs, m)
	close(q.wake)
	q.wake = make(chan struct{})
}

// sqsInput is the union of the request fields of the SQS operations served.
type sqsInput struct {
	QueueURL                    string                      `json:"QueueUrl"`
	QueueName                   string                      `json:"QueueName"`
	SourceArn                   string                      `json:"SourceArn"` // StartMessageMoveTask
	MessageBody                 string                      `json:"MessageBody"`
	MessageAttributes           map[string]messageAttribute `json:"MessageAttributes"`
	MaxNumberOfMessages         int                         `json:"MaxNumberOfMessages"`
	VisibilityTimeout           *int                        `json:"VisibilityTimeout"`
	WaitTimeSeconds             int                         `json:"WaitTimeSeconds"`
	AttributeNames              []string                    `json:"AttributeNames"`
	MessageSystemAttributeNames []string                    `json:"MessageSystemAttributeNames"`
	MessageAttributeNames       []string                    `json:"MessageAttributeNames"`
	ReceiptHandle               string                      `json:"ReceiptHandle"`
	Entries                     []struct {
		ID                string `json:"Id"`
		ReceiptHandle     string `json:"ReceiptHandle"`
		VisibilityTimeout int    `json:"VisibilityTimeout"`
	} `json:"Entries"`
}

func (s *Server) serveSQS(req *request) {
	var in sqsInput
	if err := json.Unmarshal(req.body, &in); err != nil {
		jsonError(req.w, http.StatusBadRequest, "InvalidParameterValue", err.Error())
		return
	}
	s.mu.Lock()
	var q *queue
	for _, c := range s.queues {
		if (in.QueueURL != "" && c.url == in.QueueURL) || (in.QueueName != "" && strings.HasSuffix(c.arn, ":"+in.QueueName)) {
			q = c
		}
	}
	if in.SourceArn != "" {
		q = s.queues[in.SourceArn]
	}
	s.mu.Unlock()
	arn := "arn:aws:sqs:" + s.Region + ":" + s.Account + ":" + cmpOr(in.QueueName, in.QueueURL[strings.LastIndex(in.QueueURL, "/")+1:])
	if in.SourceArn != "" {
		arn = in.SourceArn
	}
	if q != nil {
		arn = q.arn
	}
	switch req.op {
	case "SendMessage", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility",
		"ChangeMessageVisibilityBatch", "GetQueueAttributes", "GetQueueUrl", "StartMessageMoveTask":
	default:
		s.unknown(req, "SQS "+req.op)
		return
	}
	// The batch operations are authorized as their single-message actions, as IAM does.
	action := "sqs:" + strings.TrimSuffix(req.op, "Batch")
	if err := s.allow(req, action, []string{arn}, nil); err != nil {
		jsonError(req.w, http.StatusForbidden, "AccessDenied", err.Error())
		return
	}
	if q == nil {
		jsonError(req.w, http.StatusBadRequest, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
		return
	}
	switch req.op {
	case "SendMessage":
		m := &message{id: uuid.NewString(), body: in.MessageBody, attrs: in.MessageAttributes, sender: req.accessKey, sent: time.Now()}
		s.mu.Lock()
		q.push(m)
		s.mu.Unlock()
		jsonReply(req.w, map[string]string{"MessageId": m.id, "MD5OfMessageBody": md5Hex(m.body)})
	case "ReceiveMessage":
		s.receive(req, q, in)
	case "DeleteMessage":
		if !s.remove(q, in.ReceiptHandle) {
			jsonError(req.w, http.StatusBadRequest, "ReceiptHandleIsInvalid", "The input receipt handle is invalid.")
			return
		}
		jsonReply(req.w, map[string]any{})
	case "DeleteMessageBatch", "ChangeMessageVisibilityBatch":
		var ok, failed []map[string]any
		for _, e := range in.Entries {
			done := false
			if req.op == "DeleteMessageBatch" {
				done = s.remove(q, e.ReceiptHandle)
			} else {
				done = s.changeVisibility(q, e.ReceiptHandle, e.VisibilityTimeout)
			}
			if done {
				ok = append(ok, map[string]any{"Id": e.ID})
			} else {
				failed = append(failed, map[string]any{"Id": e.ID, "Code": "ReceiptHandleIsInvalid", "SenderFault": true, "Message": "invalid receipt handle"})
			}
		}
		jsonReply(req.w, map[string]any{"Successful": ok, "Failed": failed})
	case "ChangeMessageVisibility":
		if in.VisibilityTimeout == nil || !s.changeVisibility(q, in.ReceiptHandle, *in.VisibilityTimeout) {
			jsonError(req.w, http.StatusBadRequest, "ReceiptHandleIsInvalid", "The input receipt handle is invalid.")
			return
		}
		jsonReply(req.w, map[string]any{})
	case "GetQueueAttributes":
		jsonReply(req.w, map[string]any{"Attributes": s.queueAttributes(q)})
	case "GetQueueUrl":
		jsonReply(req.w, map[string]string{"QueueUrl": q.url})
	case "StartMessageMoveTask":
		if err := s.moveBack(q); err != nil {
			jsonError(req.w, http.StatusBadRequest, "AWS.SimpleQueueService.UnsupportedOperation", err.Error())
			return
		}
		jsonReply(req.w, map[string]string{"TaskHandle": "task-" + uuid.NewString()})
	}
}

// moveBack is a message move task without a destination, done at once: every message in the
// dead-letter queue q goes back, as a new message with a fresh receive count, to the queue it
// was dead-lettered from.
func (s *Server) moveBack(q *queue) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range q.msgs {
		if s.queues[m.dlqSource] == nil {
			return fmt.Errorf("message %s has no source queue to move back to", m.id)
		}
	}
	for _, m := range q.msgs {
		s.queues[m.dlqSource].push(&message{id: uuid.NewString(), body: m.body, attrs: m.attrs, sender: m.sender, sent: time.Now()})
	}
	q.msgs = nil
	return nil
}

func (s *Server) queueAttributes(q *queue) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	visible, hidden := 0, 0
	for _, m := range q.msgs {
		if now.Before(m.visibleAt) {
			hidden++
		} else {
			visible++
		}
	}
	a := map[string]string{
		"QueueArn":                              q.arn,
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(hidden),
		"VisibilityTimeout":                     strconv.Itoa(int(q.opts.VisibilityTimeout / time.Second)),
	}
	if q.opts.DeadLetterARN != "" {
		b, _ := json.Marshal(map[string]any{"deadLetterTargetArn": q.opts.DeadLetterARN, "maxReceiveCount": q.opts.MaxReceiveCount})
		a["RedrivePolicy"] = string(b)
	}
	return a
}

// receive hands out up to MaxNumberOfMessages visible messages, long-polling up to
// WaitTimeSeconds for the first one.
func (s *Server) receive(req *request, q *queue, in sqsInput) {
	n := min(max(in.MaxNumberOfMessages, 1), 10)
	vis := q.opts.VisibilityTimeout
	if in.VisibilityTimeout != nil {
		vis = time.Duration(*in.VisibilityTimeout) * time.Second
	}
	deadline := time.Now().Add(time.Duration(in.WaitTimeSeconds) * time.Second)
	for {
		s.mu.Lock()
		got := s.take(q, n, vis)
		wake := q.wake
		s.mu.Unlock()
		wait := time.Until(deadline)
		if len(got) > 0 || wait <= 0 {
			out := make([]map[string]any, 0, len(got))
			for _, m := range got {
				out = append(out, receivedMessage(m, in))
			}
			jsonReply(req.w, map[string]any{"Messages": out})
			return
		}
		// Wake up on a new message, or in time for one whose visibility timeout runs out.
		select {
		case <-wake:
		case <-time.After(min(wait, 100*time.Millisecond)):
		case <-req.ctx.Done():
			return
		}
	}
}

// take receives visible messages (s.mu held), moving those past maxReceiveCount to the DLQ.
func (s *Server) take(q *queue, n int, vis time.Duration) []message {
	now := time.Now()
	var got []message
	for i := 0; i < len(q.msgs) && len(got) < n; i++ {
		m := q.msgs[i]
		if now.Before(m.visibleAt) {
			continue
		}
		if dlq := s.queues[q.opts.DeadLetterARN]; dlq != nil && m.receives >= q.opts.MaxReceiveCount {
			q.msgs = slices.Delete(q.msgs, i, i+1)
			i--
			m.dlqSource, m.visibleAt, m.handle = q.arn, time.Time{}, ""
			dlq.push(m)
			continue
		}
		m.receives++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.visibleAt = now.Add(vis)
		m.handle = m.id + "#" + strconv.Itoa(m.receives)
		got = append(got, *m)
	}
	return got
}

func receivedMessage(m message, in sqsInput) map[string]any {
	out := map[string]any{"MessageId": m.id, "ReceiptHandle": m.handle, "Body": m.body, "MD5OfBody": md5Hex(m.body)}
	names := append(append([]string(nil), in.AttributeNames...), in.MessageSystemAttributeNames...)
	if len(names) > 0 {
		all := map[string]string{
			"ApproximateReceiveCount":          strconv.Itoa(m.receives),
			"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
			"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
			"SenderId":                         m.sender,
		}
		if m.dlqSource != "" {
			all["DeadLetterQueueSourceArn"] = m.dlqSource
		}
		attrs := map[string]string{}
		for k, v := range all {
			if slices.Contains(names, "All") || slices.Contains(names, k) {
				attrs[k] = v
			}
		}
		out["Attributes"] = attrs
	}
	if len(m.attrs) > 0 && len(in.MessageAttributeNames) > 0 {
		ma := map[string]messageAttribute{}
		for k, v := range m.attrs {
			if slices.Contains(in.MessageAttributeNames, "All") || slices.Contains(in.MessageAttributeNames, ".*") || slices.Contains(in.MessageAttributeNames, k) {
				ma[k] = v
			}
		}
		out["MessageAttributes"] = ma
	}
	return out
}

func (s *Server) remove(q *queue, handle string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range q.msgs {
		if m.handle != "" && m.handle == handle {
			q.msgs = slices.Delete(q.msgs, i, i+1)
			return true
		}
	}
	return false
}

func (s *Server) changeVisibility(q *queue, handle string, seconds int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range q.msgs {
		if m.handle != "" && m.handle == handle {
			m.visibleAt = time.Now().Add(time.Duration(seconds) * time.Second)
			if seconds == 0 {
				close(q.wake)
				q.wake = make(chan struct{})
			}
			return true
		}
	}
	return false
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
