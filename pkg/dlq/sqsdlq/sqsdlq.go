// Package sqsdlq adapts an Amazon SQS dead-letter queue to the dlq.Queue port (pkg/dlq): List
// peeks at the dead messages, Redrive starts SQS's own redrive (StartMessageMoveTask).
package sqsdlq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"hookline/pkg/dlq"
)

// Queue is an Amazon SQS dead-letter queue.
//
// SQS has no way to read a message without receiving it, so List peeks: it receives with a
// short visibility timeout (so one listing does not see a message twice) and then makes every
// message visible again at once. A peek counts as a receive in ApproximateReceiveCount and
// hides the messages for a moment; a DLQ has no consumer, so neither matters. SQS does not
// record why a message failed: Reason comes from a "reason" message attribute when a producer
// set one.
type Queue struct {
	// Client makes the calls: ReceiveMessage and ChangeMessageVisibilityBatch (List),
	// GetQueueAttributes and StartMessageMoveTask (Redrive). The tests give it a real client
	// against a fake SQS server, so no narrower interface stands in for it.
	Client   *sqs.Client
	QueueURL string        // the DLQ's URL
	Hold     time.Duration // visibility while listing; 0 means 30 s
}

var _ dlq.Queue = (*Queue)(nil)

// ReasonAttribute is the message attribute List reads the failure reason from.
const ReasonAttribute = "reason"

// List implements Queue.
func (q *Queue) List(ctx context.Context, max int) (msgs []dlq.Message, err error) {
	if max <= 0 {
		max = 100
	}
	hold := q.Hold
	if hold <= 0 {
		hold = 30 * time.Second
	}
	var handles []types.ChangeMessageVisibilityBatchRequestEntry
	defer func() {
		// Release even when ctx was cancelled: hidden messages would confuse a redrive.
		if rerr := q.release(context.WithoutCancel(ctx), handles); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	seen := map[string]bool{}
	for len(msgs) < max {
		out, err := q.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(q.QueueURL),
			MaxNumberOfMessages:         int32(min(10, max-len(msgs))),
			VisibilityTimeout:           int32(hold / time.Second),
			WaitTimeSeconds:             1, // short polls sample a few servers and may miss messages
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return msgs, fmt.Errorf("receive from %s: %w", q.QueueURL, err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, sm := range out.Messages {
			handles = append(handles, types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(len(handles))), ReceiptHandle: sm.ReceiptHandle, VisibilityTimeout: 0,
			})
			id := aws.ToString(sm.MessageId)
			if seen[id] {
				continue
			}
			seen[id] = true
			msgs = append(msgs, sqsMessage(sm))
		}
	}
	return msgs, nil
}

func sqsMessage(sm types.Message) dlq.Message {
	a := sm.Attributes
	m := dlq.Message{ID: aws.ToString(sm.MessageId), Body: []byte(aws.ToString(sm.Body))}
	m.ReceiveCount, _ = strconv.Atoi(a[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	m.SentAt = unixMillis(a[string(types.MessageSystemAttributeNameSentTimestamp)])
	m.SourceQueue = a[string(types.MessageSystemAttributeNameDeadLetterQueueSourceArn)]
	if v, ok := sm.MessageAttributes[ReasonAttribute]; ok {
		m.Reason = aws.ToString(v.StringValue)
	}
	m.Describe()
	return m
}

func unixMillis(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// release makes peeked messages visible again, ten per request (the SQS batch limit).
func (q *Queue) release(ctx context.Context, entries []types.ChangeMessageVisibilityBatchRequestEntry) error {
	for len(entries) > 0 {
		n := min(10, len(entries))
		out, err := q.Client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
			QueueUrl: aws.String(q.QueueURL), Entries: entries[:n],
		})
		if err != nil {
			return fmt.Errorf("make peeked messages visible again in %s: %w", q.QueueURL, err)
		}
		if len(out.Failed) > 0 {
			f := out.Failed[0]
			return fmt.Errorf("make %d peeked message(s) visible again in %s: %s: %s", len(out.Failed), q.QueueURL, aws.ToString(f.Code), aws.ToString(f.Message))
		}
		entries = entries[n:]
	}
	return nil
}

// Redrive implements Queue with SQS's own redrive: a message move task from the DLQ with no
// destination, which sends each message back to the queue it was dead-lettered from. SQS moves
// the messages asynchronously; the task handle identifies the task.
func (q *Queue) Redrive(ctx context.Context) (dlq.Redriven, error) {
	attrs, err := q.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(q.QueueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return dlq.Redriven{}, fmt.Errorf("read the ARN of %s: %w", q.QueueURL, err)
	}
	arn := attrs.Attributes[string(types.QueueAttributeNameQueueArn)]
	if arn == "" {
		return dlq.Redriven{}, fmt.Errorf("read the ARN of %s: no QueueArn attribute in the answer", q.QueueURL)
	}
	out, err := q.Client.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(arn)})
	if err != nil {
		return dlq.Redriven{}, fmt.Errorf("start a message move task from %s: %w", arn, err)
	}
	return dlq.Redriven{Moved: -1, TaskHandle: aws.ToString(out.TaskHandle), Source: arn}, nil
}
