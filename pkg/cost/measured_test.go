package cost

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"hookline/pkg/ddbitem"
	"hookline/pkg/email"
	"hookline/pkg/event"
	"hookline/pkg/lambdaio"
	"hookline/pkg/lambdarun"
	"hookline/pkg/metrics"
	"hookline/pkg/pipeline"
	"hookline/pkg/sender"
	"hookline/pkg/source"
	"hookline/pkg/wiring"
)

var update = flag.Bool("update", false, "rewrite logs.json (and the generated cost docs: docs/cost.md, the README summary) from what the code does now")

// TestMeasuredLogs runs each Lambda handler the way its functions/<fn>/main.go wires it — the
// Lambda JSON log handler (lambdacontext: slog JSON, timestamp/message keys, requestId) and the
// EMF writer on the same stdout — on one record and on a batch of ten, and derives the bytes
// and lines each invocation and each record adds. logs.json must say the same: the cost model
// prices exactly what the code writes. When a function starts logging more (or less), this
// fails; `go test ./pkg/cost -run TestMeasuredLogs -update` rewrites the file.
func TestMeasuredLogs(t *testing.T) {
	got := Measured{Functions: map[string]LogLines{
		wiring.Ingest:     measure(t, runIngest),
		wiring.Subscriber: measure(t, runSubscriber),
		wiring.Notifier:   measure(t, runNotifier),
	}}
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("logs.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := MeasuredLogs()
	if err != nil {
		t.Fatal(err)
	}
	// Timestamps and durations vary a few digits between runs; a change of a field, a line or a
	// metric is tens of bytes or more.
	const slack = 16
	approx := cmp.Comparer(func(a, b float64) bool { return a == b || (a-b < slack && b-a < slack) })
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("the functions log differently from logs.json (-file +now); run go test ./pkg/cost -run TestMeasuredLogs -update:\n%s", diff)
	}
}

// run invokes a handler once with n records and writes everything it logs to w.
type run func(t *testing.T, w *bytes.Buffer, n int)

// measure solves bytes(n) = perInvocation + n × perRecord from n = 1 and n = 10.
func measure(t *testing.T, fn run) LogLines {
	t.Helper()
	var one, ten bytes.Buffer
	fn(t, &one, 1)
	fn(t, &ten, 10)
	lines := func(b *bytes.Buffer) float64 { return float64(strings.Count(b.String(), "\n")) }
	perRecord := float64(ten.Len()-one.Len()) / 9
	linesPerRecord := (lines(&ten) - lines(&one)) / 9
	l := LogLines{
		BytesPerInvocation: float64(one.Len()) - perRecord, LinesPerInvocation: lines(&one) - linesPerRecord,
		BytesPerRecord: perRecord, LinesPerRecord: linesPerRecord,
	}
	// Round to whole bytes: timestamps and ids vary by a byte or two between runs.
	for _, p := range []*float64{&l.BytesPerInvocation, &l.BytesPerRecord} {
		*p = float64(int(*p/8+0.5) * 8)
	}
	return l
}

// lambdaLogger is the functions' own logger (lambdarun.Start with AWS_LAMBDA_LOG_FORMAT=JSON,
// which the stack sets), writing to w instead of stdout.
func lambdaLogger(w *bytes.Buffer) *slog.Logger {
	return slog.New(lambdarun.LogHandler(w, slog.LevelInfo))
}

func invocation() context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8f507cfc-0d14-4b2b-9b8a-5d1c3b1e9a2f"})
}

// clock is a fixed time that long after the sample's receipt.
func clock(after time.Duration) func() time.Time {
	at := Sample(1024).Event.ReceivedAt.Add(after)
	return func() time.Time { return at }
}

type discard struct{}

func (discard) Publish(context.Context, pipeline.Message) error { return nil }

func runIngest(t *testing.T, w *bytes.Buffer, n int) {
	if n != 1 {
		w.Reset()
		runIngest(t, w, 1)
		one := w.String()
		w.Reset()
		for range n {
			w.WriteString(one) // one request per invocation: a batch of n is n invocations
		}
		return
	}
	const secret = "it's-a-secret-of-16-bytes"
	set, err := source.Parse([]byte(`{"sources":{"github":{"scheme":"github","secrets":["` + secret + `"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	body := jsonBody(1024)
	h, err := sender.Sign(sender.Request{Scheme: sender.GitHub, Secret: secret, Body: body, Type: "issues", DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958"})
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	for k := range h {
		headers[strings.ToLower(k)] = h.Get(k)
	}
	handler := &lambdaio.IngestHandler{
		Service: &pipeline.Ingest{Sources: set, Publisher: discard{}},
		Log:     lambdaLogger(w),
		Metrics: &metrics.EMF{W: w},
	}
	req := events.APIGatewayV2HTTPRequest{
		RawPath: "/webhooks/github", Headers: headers, Body: string(body),
		PathParameters: map[string]string{"source": "github"},
	}
	req.RequestContext.HTTP.Method = "POST"
	req.RequestContext.HTTP.SourceIP = "192.0.2.10"
	resp, err := handler.Handle(invocation(), req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("ingest: %d %s %v", resp.StatusCode, resp.Body, err)
	}
}

type store struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (s *store) PutNew(_ context.Context, r *event.Record) (bool, error) { return true, nil }
func (s *store) MarkNotified(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[id] = at
	return nil
}
func (s *store) NotifiedAt(context.Context, string) (time.Time, error) { return time.Time{}, nil }

type mailer struct{}

func (mailer) Send(context.Context, pipeline.Email) error { return nil }

// records are n distinct stored events of the model's sample.
func records(n int) []*event.Record {
	out := make([]*event.Record, n)
	for i := range out {
		r := Sample(1024)
		e := *r.Event
		e.ID = e.ID[:len(e.ID)-2] + strconv.Itoa(10+i)
		out[i] = &event.Record{Event: &e, StoredAt: r.StoredAt}
	}
	return out
}

func runSubscriber(t *testing.T, w *bytes.Buffer, n int) {
	// Fixed clocks: the latencies the metrics carry then have the same digits every run.
	h := &lambdaio.SubscriberHandler{Service: &pipeline.Record{Events: &store{}, Now: clock(250 * time.Millisecond)}, Log: lambdaLogger(w), Metrics: &metrics.EMF{W: w}}
	var ev events.SQSEvent
	for i, r := range records(n) {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: "c80e8021-a70a-42c7-a470-796e1186f7" + strconv.Itoa(10+i), Body: string(r.Event.Marshal()),
			Attributes: map[string]string{"ApproximateReceiveCount": "1"},
		})
	}
	resp, err := h.Handle(invocation(), ev)
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("subscriber: %+v %v", resp, err)
	}
}

func runNotifier(t *testing.T, w *bytes.Buffer, n int) {
	composer, err := email.NewComposer("", 0)
	if err != nil {
		t.Fatal(err)
	}
	h := &lambdaio.NotifierHandler{
		DecodeImage: ddbitem.FromStreamImage,
		Service:     &pipeline.Notify{Store: &store{seen: map[string]time.Time{}}, Composer: composer, Mailer: mailer{}},
		Log:         lambdaLogger(w),
		Metrics:     &metrics.EMF{W: w},
		Now:         clock(1300 * time.Millisecond),
	}
	var ev events.DynamoDBEvent
	for i, r := range records(n) {
		item, err := ddbitem.Marshal(r, r.Event.ReceivedAt.Add(wiring.Retention))
		if err != nil {
			t.Fatal(err)
		}
		img, err := ddbitem.ToStreamImage(item)
		if err != nil {
			t.Fatal(err)
		}
		ev.Records = append(ev.Records, events.DynamoDBEventRecord{
			EventName: "INSERT",
			Change:    events.DynamoDBStreamRecord{NewImage: img, SequenceNumber: "4000000000000000000000" + strconv.Itoa(10+i)},
		})
	}
	resp, err := h.Handle(invocation(), ev)
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("notifier: %+v %v", resp, err)
	}
}
