package sqsdlq_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"hookline/internal/fakeaws"
	"hookline/pkg/dlq"
	"hookline/pkg/dlq/dlqtest"
	"hookline/pkg/dlq/sqsdlq"
)

// call is one request the fake SQS received: its X-Amz-Target and decoded JSON body.
type call struct {
	Target string
	Body   map[string]any
}

// fakeSQS speaks SQS's AWS JSON 1.0 protocol: it records each request and answers it from
// replies, keyed by operation, in order.
type fakeSQS struct {
	mu      sync.Mutex
	calls   []call
	replies map[string][]string
}

func (f *fakeSQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	target := r.Header.Get("X-Amz-Target")
	f.mu.Lock()
	f.calls = append(f.calls, call{Target: target, Body: body})
	op := strings.TrimPrefix(target, "AmazonSQS.")
	var reply string
	if rs := f.replies[op]; len(rs) > 0 {
		reply, f.replies[op] = rs[0], rs[1:]
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if r.Header.Get("Content-Type") != "application/x-amz-json-1.0" || reply == "" {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"__type":"com.amazonaws.sqs#InvalidAction","message":"unexpected request ` + target + `"}`))
		return
	}
	if strings.Contains(reply, `"__type"`) {
		w.WriteHeader(http.StatusBadRequest)
	}
	w.Write([]byte(reply))
}

func client(t *testing.T, f *fakeSQS) *sqs.Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return clientAt(srv.URL)
}

func clientAt(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	})
}

// TestContract: the SQS adapter passes the contract every dlq.Queue adapter passes, on the
// wire, against a stateful fake SQS (internal/fakeaws) whose events queue dead-letters after
// one receive.
func TestContract(t *testing.T) {
	t.Parallel()
	dlqtest.Run(t, func(t *testing.T) dlqtest.Harness {
		srv, err := fakeaws.Start(fakeaws.Options{Region: "eu-west-1"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		const eventsARN, dlqARN = "arn:aws:sqs:eu-west-1:000000000000:events", "arn:aws:sqs:eu-west-1:000000000000:events-dlq"
		dlqURL := srv.AddQueue(dlqARN, fakeaws.QueueOptions{})
		eventsURL := srv.AddQueue(eventsARN, fakeaws.QueueOptions{DeadLetterARN: dlqARN, MaxReceiveCount: 1})
		c := clientAt(srv.URL)
		return dlqtest.Harness{
			Queue: &sqsdlq.Queue{Client: c, QueueURL: dlqURL},
			Kill: func(t *testing.T, bodies ...[]byte) {
				ctx := context.Background()
				for _, b := range bodies {
					if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(eventsURL), MessageBody: aws.String(string(b))}); err != nil {
						t.Fatal(err)
					}
				}
				// One receive uses up maxReceiveCount 1; released, the next receive moves the
				// messages to the DLQ.
				out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(eventsURL), MaxNumberOfMessages: 10})
				if err != nil {
					t.Fatal(err)
				}
				release := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(eventsURL)}
				for i, m := range out.Messages {
					release.Entries = append(release.Entries, types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
				}
				if _, err := c.ChangeMessageVisibilityBatch(ctx, release); err != nil {
					t.Fatal(err)
				}
				if _, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(eventsURL), MaxNumberOfMessages: 10}); err != nil {
					t.Fatal(err)
				}
				if n := len(srv.Messages(dlqARN)); n != len(bodies) {
					t.Fatalf("%d of %d messages dead-lettered", n, len(bodies))
				}
			},
			Returned: func(t *testing.T) [][]byte {
				var bodies [][]byte
				for _, m := range srv.Messages(eventsARN) {
					bodies = append(bodies, []byte(m.Body))
				}
				return bodies
			},
		}
	})
}

func sqsMessage(t *testing.T, id, receipt, body string, extra string) string {
	sum := md5.Sum([]byte(body))
	b, _ := json.Marshal(body)
	return `{"MessageId":"` + id + `","ReceiptHandle":"` + receipt + `","MD5OfBody":"` + hex.EncodeToString(sum[:]) + `","Body":` + string(b) +
		`,"Attributes":{"ApproximateReceiveCount":"6","SentTimestamp":"1795428000000","DeadLetterQueueSourceArn":"arn:aws:sqs:eu-west-1:123456789012:events"}` + extra + `}`
}

const dlqURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq"

func TestSQSList(t *testing.T) {
	t.Parallel()
	id1 := "0193a1b2-0000-7000-8000-000000000001"
	f := &fakeSQS{replies: map[string][]string{
		"ReceiveMessage": {
			`{"Messages":[` + sqsMessage(t, "m-1", "rh-1", string(dlqtest.Envelope(t, id1, "github", "push")), `,"MessageAttributes":{"reason":{"DataType":"String","StringValue":"put event: throttled"}}`) +
				`,` + sqsMessage(t, "m-2", "rh-2", "not an envelope", "") + `]}`,
			`{"Messages":[` + sqsMessage(t, "m-1", "rh-1b", string(dlqtest.Envelope(t, id1, "github", "push")), "") + `]}`,
			`{"Messages":[]}`,
		},
		"ChangeMessageVisibilityBatch": {`{"Successful":[{"Id":"0"},{"Id":"1"},{"Id":"2"}],"Failed":[]}`},
	}}
	q := &sqsdlq.Queue{Client: client(t, f), QueueURL: dlqURL, Hold: 20 * time.Second}
	msgs, err := q.List(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		msgs[i].Body = nil
	}
	sent := time.UnixMilli(1795428000000).UTC()
	want := []dlq.Message{
		{ID: "m-1", ReceiveCount: 6, SentAt: sent, SourceQueue: "arn:aws:sqs:eu-west-1:123456789012:events", Reason: "put event: throttled", EventID: id1, EventType: "push", EventSource: "github"},
		{ID: "m-2", ReceiveCount: 6, SentAt: sent, SourceQueue: "arn:aws:sqs:eu-west-1:123456789012:events"},
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	receive := map[string]any{
		"QueueUrl": dlqURL, "MaxNumberOfMessages": 10.0, "VisibilityTimeout": 20.0, "WaitTimeSeconds": 1.0,
		"MessageSystemAttributeNames": []any{"All"}, "MessageAttributeNames": []any{"All"},
	}
	wantCalls := []call{
		{"AmazonSQS.ReceiveMessage", receive},
		{"AmazonSQS.ReceiveMessage", receive},
		{"AmazonSQS.ReceiveMessage", receive},
		{"AmazonSQS.ChangeMessageVisibilityBatch", map[string]any{"QueueUrl": dlqURL, "Entries": []any{
			map[string]any{"Id": "0", "ReceiptHandle": "rh-1", "VisibilityTimeout": 0.0},
			map[string]any{"Id": "1", "ReceiptHandle": "rh-2", "VisibilityTimeout": 0.0},
			map[string]any{"Id": "2", "ReceiptHandle": "rh-1b", "VisibilityTimeout": 0.0},
		}}},
	}
	if diff := cmp.Diff(wantCalls, f.calls); diff != "" {
		t.Errorf("wire requests (-want +got):\n%s", diff)
	}
}

func TestSQSListReleasesOnError(t *testing.T) {
	t.Parallel()
	f := &fakeSQS{replies: map[string][]string{
		"ReceiveMessage": {
			`{"Messages":[` + sqsMessage(t, "m-1", "rh-1", "x", "") + `]}`,
			`{"__type":"com.amazonaws.sqs#RequestThrottled","message":"slow down"}`,
		},
		"ChangeMessageVisibilityBatch": {`{"Successful":[{"Id":"0"}],"Failed":[]}`},
	}}
	q := &sqsdlq.Queue{Client: client(t, f), QueueURL: dlqURL}
	_, err := q.List(context.Background(), 100)
	if err == nil || !strings.Contains(err.Error(), "receive from "+dlqURL) || !strings.Contains(err.Error(), "slow down") {
		t.Errorf("error %v", err)
	}
	if last := f.calls[len(f.calls)-1]; last.Target != "AmazonSQS.ChangeMessageVisibilityBatch" {
		t.Errorf("last request %s; the peeked message was not released", last.Target)
	}
}

func TestSQSRedrive(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:sqs:eu-west-1:123456789012:events-dlq"
	f := &fakeSQS{replies: map[string][]string{
		"GetQueueAttributes":   {`{"Attributes":{"QueueArn":"` + arn + `"}}`},
		"StartMessageMoveTask": {`{"TaskHandle":"eyJ0YXNrSWQiOiJ0LTEifQ=="}`},
	}}
	q := &sqsdlq.Queue{Client: client(t, f), QueueURL: dlqURL}
	r, err := q.Redrive(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dlq.Redriven{Moved: -1, TaskHandle: "eyJ0YXNrSWQiOiJ0LTEifQ==", Source: arn}, r); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	// No DestinationArn: SQS sends each message back to the queue it came from.
	wantCalls := []call{
		{"AmazonSQS.GetQueueAttributes", map[string]any{"QueueUrl": dlqURL, "AttributeNames": []any{"QueueArn"}}},
		{"AmazonSQS.StartMessageMoveTask", map[string]any{"SourceArn": arn}},
	}
	if diff := cmp.Diff(wantCalls, f.calls); diff != "" {
		t.Errorf("wire requests (-want +got):\n%s", diff)
	}
}

func TestSQSRedriveError(t *testing.T) {
	t.Parallel()
	f := &fakeSQS{replies: map[string][]string{
		"GetQueueAttributes":   {`{"Attributes":{"QueueArn":"arn:aws:sqs:eu-west-1:1:events-dlq"}}`},
		"StartMessageMoveTask": {`{"__type":"com.amazonaws.sqs#UnsupportedOperation","message":"Source queue must be configured as a Dead Letter Queue."}`},
	}}
	_, err := (&sqsdlq.Queue{Client: client(t, f), QueueURL: dlqURL}).Redrive(context.Background())
	if err == nil || !strings.Contains(err.Error(), "start a message move task from arn:aws:sqs:eu-west-1:1:events-dlq") || !strings.Contains(err.Error(), "Dead Letter Queue") {
		t.Errorf("error %v", err)
	}
}
