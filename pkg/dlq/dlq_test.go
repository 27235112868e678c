package dlq_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"hookline/pkg/dlq"
	"hookline/pkg/event"
	"hookline/pkg/local/engine"
	"hookline/pkg/pipeline"
)

var received = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func envelope(t *testing.T, id, source, typ string) []byte {
	t.Helper()
	e := &event.Event{ID: id, Source: source, Type: typ, Time: received, ReceivedAt: received}
	if err := e.SetData("application/json", []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	return e.Marshal()
}

// TestLocal kills two messages in a real engine (one with a recorded reason, one by receive
// count alone), lists them, and redrives them back to the events queue.
func TestLocal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng, err := engine.Open(filepath.Join(t.TempDir(), "hookline.db"), engine.Options{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	must(t, eng.CreateQueue(ctx, "events-dlq", engine.QueueConfig{}))
	must(t, eng.CreateQueue(ctx, "events", engine.QueueConfig{VisibilityTimeout: time.Minute, MaxReceiveCount: 1, DeadLetterQueue: "events-dlq"}))
	must(t, eng.Subscribe(ctx, "events", "events"))
	id1, id2 := "0193a1b2-0000-7000-8000-000000000001", "0193a1b2-0000-7000-8000-000000000002"
	must(t, eng.Topic("events").Publish(ctx, pipeline.Message{ID: id1, Source: "github", Type: "push", Body: envelope(t, id1, "github", "push")}))
	must(t, eng.Topic("events").Publish(ctx, pipeline.Message{ID: id2, Source: "x", Type: "y", Body: []byte("not an envelope")}))
	msgs, err := eng.Receive(ctx, "events", 10)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("receive: %d messages, %v", len(msgs), err)
	}
	must(t, eng.SetFailureReason(ctx, "events", msgs[0].ID, "put event: throttled"))
	for _, m := range msgs {
		must(t, eng.ChangeVisibility(ctx, "events", m.ReceiptHandle, 0))
	}
	if again, _ := eng.Receive(ctx, "events", 10); len(again) != 0 {
		t.Fatalf("%d messages not dead-lettered", len(again))
	}

	q := &dlq.Local{Engine: eng, Name: "events-dlq"}
	dead, err := q.List(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range dead {
		if dead[i].SentAt.IsZero() || dead[i].DiedAt.IsZero() || dead[i].DiedAt.Before(dead[i].SentAt) {
			t.Errorf("message %d times: sent %v died %v", i, dead[i].SentAt, dead[i].DiedAt)
		}
		dead[i].SentAt, dead[i].DiedAt, dead[i].Body = time.Time{}, time.Time{}, nil
	}
	want := []dlq.Message{
		{ID: msgs[0].ID, ReceiveCount: 1, SourceQueue: "events", Reason: "put event: throttled", EventID: id1, EventType: "push", EventSource: "github"},
		{ID: msgs[1].ID, ReceiveCount: 1, SourceQueue: "events", Reason: "received 1 times (maxReceiveCount 1) without being deleted"},
	}
	if diff := cmp.Diff(want, dead); diff != "" {
		t.Errorf("dead messages (-want +got):\n%s", diff)
	}

	r, err := q.Redrive(ctx)
	if err != nil || r.Moved != 2 {
		t.Fatalf("redrive: %+v, %v", r, err)
	}
	if visible, _, _ := eng.Depth(ctx, "events"); visible != 2 {
		t.Errorf("%d messages back on events, want 2", visible)
	}
	if left, _ := q.List(ctx, 10); len(left) != 0 {
		t.Errorf("%d messages left in the DLQ", len(left))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

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
	return sqs.New(sqs.Options{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
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
			`{"Messages":[` + sqsMessage(t, "m-1", "rh-1", string(envelope(t, id1, "github", "push")), `,"MessageAttributes":{"reason":{"DataType":"String","StringValue":"put event: throttled"}}`) +
				`,` + sqsMessage(t, "m-2", "rh-2", "not an envelope", "") + `]}`,
			`{"Messages":[` + sqsMessage(t, "m-1", "rh-1b", string(envelope(t, id1, "github", "push")), "") + `]}`,
			`{"Messages":[]}`,
		},
		"ChangeMessageVisibilityBatch": {`{"Successful":[{"Id":"0"},{"Id":"1"},{"Id":"2"}],"Failed":[]}`},
	}}
	q := &dlq.SQS{Client: client(t, f), QueueURL: dlqURL, Hold: 20 * time.Second}
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
	q := &dlq.SQS{Client: client(t, f), QueueURL: dlqURL}
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
	q := &dlq.SQS{Client: client(t, f), QueueURL: dlqURL}
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
	var out strings.Builder
	dlq.PrintRedriven(&out, r)
	if want := "started a message move task from " + arn + " back to the source queues\ntask handle: eyJ0YXNrSWQiOiJ0LTEifQ==\n"; out.String() != want {
		t.Errorf("printed %q", out.String())
	}
}

func TestSQSRedriveError(t *testing.T) {
	t.Parallel()
	f := &fakeSQS{replies: map[string][]string{
		"GetQueueAttributes":   {`{"Attributes":{"QueueArn":"arn:aws:sqs:eu-west-1:1:events-dlq"}}`},
		"StartMessageMoveTask": {`{"__type":"com.amazonaws.sqs#UnsupportedOperation","message":"Source queue must be configured as a Dead Letter Queue."}`},
	}}
	_, err := (&dlq.SQS{Client: client(t, f), QueueURL: dlqURL}).Redrive(context.Background())
	if err == nil || !strings.Contains(err.Error(), "start a message move task from arn:aws:sqs:eu-west-1:1:events-dlq") || !strings.Contains(err.Error(), "Dead Letter Queue") {
		t.Errorf("error %v", err)
	}
}

func TestPrint(t *testing.T) {
	t.Parallel()
	msgs := []dlq.Message{
		{ID: "m-1", ReceiveCount: 5, SentAt: received, DiedAt: received.Add(5 * time.Minute), SourceQueue: "events", Reason: "put event: throttled", EventID: "e-1", EventType: "push", EventSource: "github"},
		{ID: "m-2", ReceiveCount: 6, SentAt: received},
	}
	var out strings.Builder
	must(t, dlq.Print(&out, msgs, false))
	want := `MESSAGE  RECEIVES  SENT                  DIED                  EVENT  SOURCE  TYPE  REASON
m-1      5         2026-11-23T10:00:00Z  2026-11-23T10:05:00Z  e-1    github  push  put event: throttled
m-2      6         2026-11-23T10:00:00Z  -                     -      -       -     unknown
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	out.Reset()
	must(t, dlq.Print(&out, msgs[1:], true))
	if want := `{"id":"m-2","receive_count":6,"sent_at":"2026-11-23T10:00:00Z"}` + "\n"; out.String() != want {
		t.Errorf("json %q, want %q", out.String(), want)
	}
	out.Reset()
	must(t, dlq.Print(&out, nil, false))
	if out.String() != "the dead-letter queue is empty\n" {
		t.Errorf("empty: %q", out.String())
	}
}

// TestStreamFailures lists what the local notifier gave up on, with the event each record
// carries, read from the engine's stream failures.
func TestStreamFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng, err := engine.Open(filepath.Join(t.TempDir(), "hookline.db"), engine.Options{SweepInterval: -1})
	must(t, err)
	defer eng.Close()
	e, err := event.Decode(envelope(t, event.DeliveryID("github", "d-1"), "github", "push"))
	must(t, err)
	if _, err := eng.Events().PutNew(ctx, &event.Record{Event: e, StoredAt: e.ReceivedAt}); err != nil {
		t.Fatal(err)
	}
	recs, err := eng.ReadStream(ctx, "notifier", 10)
	must(t, err)
	if len(recs) != 1 {
		t.Fatalf("stream has %d records, want 1", len(recs))
	}
	must(t, eng.RecordStreamFailure(ctx, "notifier", recs[0], "send email: smtp 127.0.0.1:1025: connection refused"))

	got, err := (&dlq.StreamFailures{Engine: eng, Consumer: "notifier"}).List(ctx, 10)
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("listed %d failures, want 1", len(got))
	}
	g := got[0]
	if g.EventID != e.ID || g.EventType != "push" || g.EventSource != "github" || !strings.Contains(g.Reason, "connection refused") || g.SourceQueue != "stream:notifier" {
		t.Errorf("failure = %+v", g)
	}
	var out strings.Builder
	must(t, dlq.Print(&out, got, false))
	if !strings.Contains(out.String(), e.ID) {
		t.Errorf("printed table lacks the event id:\n%s", out.String())
	}
}
