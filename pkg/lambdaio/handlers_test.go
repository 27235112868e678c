package lambdaio_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"hookline/internal/golden"
	"hookline/internal/sink"
	"hookline/pkg/ddbitem"
	"hookline/pkg/email"
	"hookline/pkg/emailpolicy"
	"hookline/pkg/event"
	"hookline/pkg/historyapi"
	"hookline/pkg/lambdaio"
	"hookline/pkg/metrics"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/digesttest"
	"hookline/pkg/pipeline/mailertest"
	"hookline/pkg/pipeline/storetest"
)

// goldenJSON checks got, as indented JSON, against testdata/name.
func goldenJSON(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, name, append(b, '\n'))
}

var storedAt = time.Date(2026, 11, 23, 10, 0, 0, 500_000_000, time.UTC)

func quiet() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func TestSubscriberFixture(t *testing.T) {
	t.Parallel()
	var ev events.SQSEvent
	golden.ReadJSON(t, "testdata/sqs_event.json", &ev)
	store := &storetest.Memory{}
	var logs strings.Builder
	h := &lambdaio.SubscriberHandler{
		Service: &pipeline.Record{Events: store, Now: func() time.Time { return storedAt }},
		Log:     slog.New(slog.NewJSONHandler(&logs, nil)),
	}
	resp, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	// The malformed message is reported (so it reaches the DLQ); the redelivered duplicate is a success.
	want := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "d0c1b2a3-9999-4999-8999-999999999999"}}}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if n := store.Inserts(); n != 2 {
		t.Errorf("inserts = %d, want 2 (the third message is a duplicate)", n)
	}
	stored := store.Records()
	sort.Slice(stored, func(i, j int) bool { return stored[i].Event.ID < stored[j].Event.ID })
	written := make([]historyapi.EventView, 0, len(stored))
	for _, r := range stored {
		written = append(written, historyapi.View(r, true))
	}
	goldenJSON(t, "sqs_event.written.golden.json", written)
	if !strings.Contains(logs.String(), `"duplicate":true`) || !strings.Contains(logs.String(), "malformed message") {
		t.Errorf("logs lack the duplicate or the malformed reason:\n%s", logs.String())
	}
}

// TestSubscriberBatchMetrics: with a sink that takes batches (EMF), a batch's outcome is one
// metrics line per source, whatever the number of messages; the failed message is not counted.
func TestSubscriberBatchMetrics(t *testing.T) {
	t.Parallel()
	var ev events.SQSEvent
	golden.ReadJSON(t, "testdata/sqs_event.json", &ev)
	var emf strings.Builder
	h := &lambdaio.SubscriberHandler{
		Service: &pipeline.Record{Events: &storetest.Memory{}, Now: func() time.Time { return storedAt }},
		Log:     quiet(), Metrics: &metrics.EMF{W: &emf},
	}
	if _, err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	// The fixture: github stored and redelivered (a duplicate), postman stored, one malformed.
	lines := sink.JSONLines(t, emf.String())
	if len(lines) != 2 {
		t.Fatalf("%d metric lines for a batch from two sources, want 2:\n%s", len(lines), emf.String())
	}
	got := map[string]map[string]any{}
	for _, m := range lines {
		got[m["Source"].(string)] = m
	}
	if g := got["github"]; g["Stored"] != 1.0 || g["Duplicate"] != 1.0 || len(g["ReceiptToStoredMs"].([]any)) != 1 {
		t.Errorf("github's line = %v; want Stored 1 with its latency, Duplicate 1", g)
	}
	if p := got["postman"]; p["Stored"] != 1.0 || p["Duplicate"] != nil {
		t.Errorf("postman's line = %v; want Stored 1", p)
	}
}

func TestSubscriberTransientFailure(t *testing.T) {
	t.Parallel()
	var ev events.SQSEvent
	golden.ReadJSON(t, "testdata/sqs_event.json", &ev)
	store := &storetest.Memory{}
	store.FailPuts(errors.New("ProvisionedThroughputExceededException"))
	h := &lambdaio.SubscriberHandler{Service: &pipeline.Record{Events: store}, Log: quiet()}
	resp, err := h.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != len(ev.Records) {
		t.Fatalf("err = %v, failures = %d; want every message reported, no handler error", err, len(resp.BatchItemFailures))
	}
}

func TestNotifierFixture(t *testing.T) {
	t.Parallel()
	var ev events.DynamoDBEvent
	golden.ReadJSON(t, "../ddbitem/testdata/stream_insert.json", &ev)
	store, box := &storetest.Memory{}, &mailertest.Recorder{}
	for _, rec := range ev.Records {
		if rec.EventName == "INSERT" {
			r, err := lambdaioRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			store.Add(r)
		}
	}
	composer, err := email.NewComposer("", 0)
	if err != nil {
		t.Fatal(err)
	}
	notifiedAt := storedAt.Add(time.Second)
	h := &lambdaio.NotifierHandler{
		DecodeImage: ddbitem.FromStreamImage,
		Service:     &pipeline.Notify{Store: store, Composer: composer, Mailer: box, Now: func() time.Time { return notifiedAt }},
		Log:         quiet(),
	}
	resp, err := h.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("err = %v, failures = %v", err, resp.BatchItemFailures)
	}
	goldenJSON(t, "stream_insert.published.golden.json", box.All())
	for _, r := range store.Records() {
		if !r.NotifiedAt.Equal(notifiedAt) {
			t.Errorf("event %s not marked notified", r.Event.ID)
		}
	}
	// Redelivery of the same stream batch sends nothing more.
	n := box.Len()
	if _, err := h.Handle(context.Background(), ev); err != nil || box.Len() != n {
		t.Errorf("redelivery sent %d more emails (err %v); want none", box.Len()-n, err)
	}
}

func TestNotifierReportsEachFailure(t *testing.T) {
	t.Parallel()
	var ev events.DynamoDBEvent
	golden.ReadJSON(t, "../ddbitem/testdata/stream_insert.json", &ev)
	if len(ev.Records) == 0 {
		t.Fatal("fixture has no records")
	}
	first := ev.Records[0]
	bad := first
	bad.Change.SequenceNumber = "999"
	bad.Change.NewImage = map[string]events.DynamoDBAttributeValue{"id": events.NewStringAttribute("x")}
	modify := first
	modify.EventName = "MODIFY"
	ev.Records = []events.DynamoDBEventRecord{modify, bad, first}
	box := &mailertest.Recorder{}
	composer, _ := email.NewComposer("", 0)
	stored := func() *storetest.Memory {
		r, err := lambdaioRecord(first)
		if err != nil {
			t.Fatal(err)
		}
		m := &storetest.Memory{}
		m.Add(r)
		return m
	}
	h := &lambdaio.NotifierHandler{DecodeImage: ddbitem.FromStreamImage, Service: &pipeline.Notify{Store: stored(), Composer: composer, Mailer: box}, Log: quiet()}
	resp, _ := h.Handle(context.Background(), ev)
	// The MODIFY is skipped, the bad image reported; the good record after it is emailed, and
	// the redelivery Lambda makes from the bad record on sends it no second email.
	want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: "999"}}
	if diff := cmp.Diff(want, resp.BatchItemFailures); diff != "" || box.Len() != 1 {
		t.Errorf("failures (-want +got):\n%s\nsent %d emails; want 1", diff, box.Len())
	}
	if _, err := h.Handle(context.Background(), events.DynamoDBEvent{Records: ev.Records[1:]}); err != nil || box.Len() != 1 {
		t.Errorf("redelivery from the failed record sent %d emails in all (err %v); want still 1", box.Len(), err)
	}
	// A failing mailer is reported too, and nothing is marked.
	h.Service.Store = stored()
	box.Fail(errors.New("sns: throttled"))
	ev.Records = []events.DynamoDBEventRecord{first}
	resp, _ = h.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != first.Change.SequenceNumber {
		t.Errorf("mailer failure: %+v", resp.BatchItemFailures)
	}
}

func TestHistoryHandler(t *testing.T) {
	t.Parallel()
	hist := &fakeHistory{store: &storetest.Memory{}}
	r := &event.Record{Event: &event.Event{ID: event.DeliveryID("github", "d"), Source: "github", Type: "push", Time: storedAt, ReceivedAt: storedAt}, StoredAt: storedAt}
	_ = r.Event.SetData("application/json", []byte(`{"a":1}`))
	hist.store.Add(r)
	h := &lambdaio.HistoryHandler{History: hist, Log: quiet(), Now: func() time.Time { return storedAt }}
	get := func(path string, params, query map[string]string) events.APIGatewayV2HTTPResponse {
		resp, err := h.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
			RawPath: path, PathParameters: params, QueryStringParameters: query,
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := get("/events/"+r.Event.ID, map[string]string{"id": r.Event.ID}, nil)
	var v historyapi.EventView
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil || resp.StatusCode != 200 || string(v.Data) != `{"a":1}` || v.Status != "stored" || v.NotifiedAt != nil {
		t.Errorf("get: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := get("/events/nope", map[string]string{"id": "nope"}, nil); resp.StatusCode != 404 {
		t.Errorf("bad id: %d", resp.StatusCode)
	}
	missing := event.DeliveryID("github", "missing")
	if resp := get("/events/"+missing, map[string]string{"id": missing}, nil); resp.StatusCode != 404 || !strings.Contains(resp.Body, missing) {
		t.Errorf("missing id: %d %s", resp.StatusCode, resp.Body)
	}
	resp = get("/events", nil, map[string]string{"source": "github", "since": "1h", "limit": "10"})
	if resp.StatusCode != 200 || hist.last.Source != "github" || hist.last.Limit != 10 || !hist.last.Since.Equal(storedAt.Add(-time.Hour)) {
		t.Errorf("list: %d %s, query %+v", resp.StatusCode, resp.Body, hist.last)
	}
	// The raw query string is what shows a parameter given twice (queryStringParameters has
	// it joined: "github,stripe") or one the route does not take; nothing is listed.
	hist.last = pipeline.Query{}
	for raw, want := range map[string]string{"source=github&source=stripe": "source: given 2 times", "sourse=github": `unknown query parameter \"sourse\"`} {
		resp, _ := h.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
			RawPath: "/events", RawQueryString: raw, QueryStringParameters: map[string]string{"source": "github,stripe"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}},
		})
		if resp.StatusCode != 400 || !strings.Contains(resp.Body, want) || hist.last != (pipeline.Query{}) {
			t.Errorf("%s: %d %s (listed %+v); want 400 naming it, nothing listed", raw, resp.StatusCode, resp.Body, hist.last)
		}
	}
	for q, want := range map[string]string{"limit=0": "limit", "since=yesterday": "since", "until=-1h": "until"} {
		k, v, _ := strings.Cut(q, "=")
		resp := get("/events", nil, map[string]string{k: v})
		if resp.StatusCode != 400 || !strings.Contains(resp.Body, want) {
			t.Errorf("%s: %d %s", q, resp.StatusCode, resp.Body)
		}
	}
}

type fakeHistory struct {
	store *storetest.Memory
	last  pipeline.Query
}

func (f *fakeHistory) Get(ctx context.Context, id string) (*event.Record, error) {
	return f.store.Get(ctx, id)
}

func (f *fakeHistory) List(_ context.Context, q pipeline.Query) (pipeline.Page, error) {
	f.last = q
	return pipeline.Page{Records: f.store.Records()}, nil
}

type panickyMailer struct{}

func (panickyMailer) Send(context.Context, pipeline.Email) error { panic("mailer bug") }

// TestNotifierPanicFailsOnlyThatRecord: records run in goroutines, where a panic would end the
// process; it must become that record's failure.
func TestNotifierPanicFailsOnlyThatRecord(t *testing.T) {
	t.Parallel()
	var ev events.DynamoDBEvent
	golden.ReadJSON(t, "../ddbitem/testdata/stream_insert.json", &ev)
	composer, _ := email.NewComposer("", 0)
	logs := &sink.Buffer{}
	h := &lambdaio.NotifierHandler{DecodeImage: ddbitem.FromStreamImage, Service: &pipeline.Notify{Store: &storetest.Memory{}, Composer: composer, Mailer: panickyMailer{}},
		Log: slog.New(slog.NewJSONHandler(logs, nil))}
	resp, err := h.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Change.SequenceNumber {
		t.Errorf("resp = %+v, err = %v; want the record reported failed", resp, err)
	}
	// The panic is logged once, as an error naming the record and the panic.
	var panics []map[string]any
	for _, l := range logs.TakeLines(t) {
		if l["panic"] != nil {
			panics = append(panics, l)
		}
	}
	if len(panics) != 1 || panics[0]["level"] != "ERROR" || panics[0]["panic"] != "mailer bug" || panics[0]["item"] != ev.Records[0].Change.SequenceNumber {
		t.Errorf("panic log lines %v; want one ERROR naming the record and the panic", panics)
	}
}

// TestNotifierMarkFailsAfterSend: the email went out but the mark failed. The record is
// reported failed (Lambda retries it rather than checkpointing past it), the mailer was handed
// exactly one email, and the redelivery sends at most once more.
func TestNotifierMarkFailsAfterSend(t *testing.T) {
	t.Parallel()
	var ev events.DynamoDBEvent
	golden.ReadJSON(t, "../ddbitem/testdata/stream_insert.json", &ev)
	first := ev.Records[0]
	ev.Records = []events.DynamoDBEventRecord{first}
	r, err := lambdaioRecord(first)
	if err != nil {
		t.Fatal(err)
	}
	store := &storetest.Memory{}
	store.Add(r)
	store.FailMarks(errors.New("conditional update timed out"))
	box := &mailertest.Recorder{}
	composer, _ := email.NewComposer("", 0)
	h := &lambdaio.NotifierHandler{DecodeImage: ddbitem.FromStreamImage, Service: &pipeline.Notify{Store: store, Composer: composer, Mailer: box}, Log: quiet()}
	resp, err := h.Handle(context.Background(), ev)
	want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: first.Change.SequenceNumber}}
	if diff := cmp.Diff(want, resp.BatchItemFailures); err != nil || diff != "" {
		t.Fatalf("failures (-want +got):\n%s (err %v); the record must be retried", diff, err)
	}
	if box.Len() != 1 {
		t.Fatalf("mailer was handed %d emails, want exactly 1", box.Len())
	}
	store.FailMarks(nil)
	for range 2 { // the redelivery, then one more
		if resp, err := h.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("redelivery: %+v, %v", resp.BatchItemFailures, err)
		}
	}
	if box.Len() != 2 {
		t.Errorf("mailer was handed %d emails in all, want 2 (at most one more after the failed mark)", box.Len())
	}
}

// TestNotifierInvoke: the notifier's one handler takes its two triggers — a stream batch, which
// the email policy decides on (here: github gets a digest, so no email now), and the digest
// schedule's tick, which sends the digest that is due and marks the event.
func TestNotifierInvoke(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../ddbitem/testdata/stream_insert.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	store, r := storedInsert(t, ev)
	box := &mailertest.Recorder{}
	composer, _ := email.NewComposer("", 0)
	policy, err := emailpolicy.Parse(`{"sources": {"github": {"digest": "1m"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 12, 1, 12, 0, 10, 0, time.UTC)
	now := func() time.Time { return clock }
	digests := &digesttest.Memory{}
	logs := &sink.Buffer{}
	h := &lambdaio.NotifierHandler{
		DecodeImage: ddbitem.FromStreamImage, Log: slog.New(slog.NewJSONHandler(logs, nil)),
		Service: &pipeline.Notify{Store: store, Composer: composer, Mailer: box, Now: now, Policy: policy.Decide, Digests: digests},
		Digest:  &pipeline.Digest{Every: policy.Digests(), Store: digests, Events: store, Marker: store, Composer: composer, Mailer: box, Now: now},
	}
	out, err := h.Invoke(context.Background(), raw)
	if resp, ok := out.(events.DynamoDBEventResponse); err != nil || !ok || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("stream batch: %v, %v", out, err)
	}
	if box.Len() != 0 || !store.Record(r.Event.ID).NotifiedAt.IsZero() {
		t.Fatalf("a digested event was emailed at once (%d emails)", box.Len())
	}
	tick := []byte(`{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events","time":"2026-12-01T12:01:31Z","resources":[],"detail":{}}`)
	clock = time.Date(2026, 12, 1, 12, 1, 31, 0, time.UTC) // the digest was due at 12:01, plus its grace
	if _, err := h.Invoke(context.Background(), tick); err != nil {
		t.Fatal(err)
	}
	if box.Len() != 1 || !strings.Contains(box.All()[0].Text, r.Event.ID) || store.Record(r.Event.ID).NotifiedAt.IsZero() {
		t.Errorf("after the tick: %d emails, event marked %v; want its digest sent and the event marked", box.Len(), store.Record(r.Event.ID).NotifiedAt)
	}
	// A tick that sent something says how many; a tick with nothing due says nothing.
	sentLines := func() (n int, sent []any) {
		for _, l := range logs.TakeLines(t) {
			if l["msg"] == "digests sent" {
				n, sent = n+1, append(sent, l["sent"])
			}
		}
		return n, sent
	}
	if n, sent := sentLines(); n != 1 || sent[0] != 1.0 {
		t.Errorf("after the tick that sent one digest: %d \"digests sent\" lines %v, want one with sent 1", n, sent)
	}
	if _, err := h.Invoke(context.Background(), tick); err != nil {
		t.Fatal(err)
	}
	if n, _ := sentLines(); n != 0 || box.Len() != 1 {
		t.Errorf("a tick with nothing due: %d \"digests sent\" lines, %d emails in all; want none and still 1", n, box.Len())
	}
	if _, err := h.Invoke(context.Background(), []byte(`not json`)); err == nil {
		t.Error("a payload that is not JSON is accepted")
	}
}

// TestNotifierSkipsControlItems: a control item of the table (a quarantined request, a
// counter: an id starting with "~") is not an event; the stack's filter drops its stream
// records, and a stream that still carries one gets it skipped, not failed or emailed.
func TestNotifierSkipsControlItems(t *testing.T) {
	t.Parallel()
	var ev events.DynamoDBEvent
	golden.ReadJSON(t, "../ddbitem/testdata/stream_insert.json", &ev)
	store, r := storedInsert(t, ev)
	control := ev.Records[0]
	control.Change.SequenceNumber = "1"
	control.Change.Keys = map[string]events.DynamoDBAttributeValue{"id": events.NewStringAttribute("~rejected#0193a0a0-0000-7000-8000-000000000001")}
	control.Change.NewImage = map[string]events.DynamoDBAttributeValue{
		"id":     events.NewStringAttribute("~rejected#0193a0a0-0000-7000-8000-000000000001"),
		"source": events.NewStringAttribute("github"),
	}
	ev.Records = append([]events.DynamoDBEventRecord{control}, ev.Records...)
	box := &mailertest.Recorder{}
	composer, _ := email.NewComposer("", 0)
	h := &lambdaio.NotifierHandler{DecodeImage: ddbitem.FromStreamImage, Log: quiet(),
		Service: &pipeline.Notify{Store: store, Composer: composer, Mailer: box}}
	resp, err := h.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("a batch with a control item: %+v, %v; want no failures", resp, err)
	}
	if box.Len() != 1 || box.All()[0].EventID != r.Event.ID {
		t.Errorf("%d emails, want exactly the event's one", box.Len())
	}
}

// TestNotifierNoEmail: an event the policy gives no email is neither sent nor marked.
func TestNotifierNoEmail(t *testing.T) {
	t.Parallel()
	var ev events.DynamoDBEvent
	golden.ReadJSON(t, "../ddbitem/testdata/stream_insert.json", &ev)
	store, r := storedInsert(t, ev)
	box := &mailertest.Recorder{}
	composer, _ := email.NewComposer("", 0)
	policy, _ := emailpolicy.Parse(`{"sources": {"stripe": {}}}`)
	h := &lambdaio.NotifierHandler{DecodeImage: ddbitem.FromStreamImage, Log: quiet(),
		Service: &pipeline.Notify{Store: store, Composer: composer, Mailer: box, Policy: policy.Decide}}
	if resp, err := h.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v, %v", resp, err)
	}
	if box.Len() != 0 || !store.Record(r.Event.ID).NotifiedAt.IsZero() {
		t.Errorf("a github event under a stripe-only policy: %d emails, marked %v", box.Len(), store.Record(r.Event.ID).NotifiedAt)
	}
}
