package faulttest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/email"
	"hookline/pkg/event"
	"hookline/pkg/lambdaio"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/runner"
	"hookline/pkg/pipeline"
)

var eventsFlag = flag.Int("fault.events", 300, "distinct deliveries to send through ingest")

// defaultSeed is the faults' seed in `make test`: every run injects the same faults, so a
// failure reproduces. HOOKLINE_FAULT_SEED picks another seed, or "random" for one from the
// clock; the test logs the seed either way.
const defaultSeed = 20261127

// faultSeed returns the seed to inject faults with.
func faultSeed(t *testing.T) uint64 {
	t.Helper()
	v := os.Getenv("HOOKLINE_FAULT_SEED")
	switch v {
	case "":
		return defaultSeed
	case "random":
		return uint64(time.Now().UnixNano())
	}
	seed, err := strconv.ParseUint(v, 10, 64)
	if err != nil || seed == 0 {
		t.Fatalf("HOOKLINE_FAULT_SEED=%q: want a positive integer or \"random\"", v)
	}
	return seed
}

// Topology names, as in localrun (not imported, to keep this package's wiring explicit).
const (
	topic  = "events"
	queue  = "events"
	dlq    = "events-dlq"
	stream = "notifier"
	src    = "fault"
	token  = "fault-token-0123456"
)

// TestFaultsLoseNothingAcknowledged drives a few hundred deliveries through the real ingest
// handler while every port fails, throttles or crashes a seeded share of calls, lets the runner
// recover, and then asserts what hookline promises (docs/operations.md, "Delivery guarantees"):
//
//  1. every delivery answered 202 is stored exactly once (one real insert, one history row)
//     and marked notified; retried deliveries got the same id;
//  2. no delivery that never got a 202 is stored (a publish failure is a 503 and nothing else);
//  3. the mailer really sent each event's email exactly once, plus exactly once more for each
//     injected fault that struck after a send and before the mark (a crash there is the one
//     documented way to send twice): counted at the mailer, where a second send shows, not in
//     the outbox, which keeps one email per event whatever it is handed;
//  4. the DLQ holds exactly the injected poison messages, each with a reason, and the stream
//     consumer gave up on no record; the queue is empty.
func TestFaultsLoseNothingAcknowledged(t *testing.T) {
	seed := faultSeed(t)
	t.Logf("seed %d (the same faults again: HOOKLINE_FAULT_SEED=%d go test ./internal/faulttest -run %s)", seed, seed, t.Name())

	r := rates{
		publishFail: 0.2, putFailBefore: 0.15, putFailAfter: 0.1, putSlow: 0.1, readFail: 0.05,
		sendFail: 0.15, crashAfterSend: 0.05, markFailBefore: 0.1, markFailAfter: 0.1,
		subscriberCrash: 0.05, notifierCrash: 0.1,
	}
	in, led := newInjector(seed), newLedger()
	rg := newRig(t, in, led, r, func(run *runner.Runner) {
		// Lambda gives up on a stream record after its retries and sends it to the on-failure
		// destination: its email would then never go out (TestMailerOutage shows that path).
		// Here the retries outlast any run of injected faults (0.4^40 ≈ 1e-16).
		run.StreamRetries, run.RetryDelay = 40, 2*time.Millisecond
	})
	eng, ingest, outbox, ctx := rg.eng, rg.ingest, rg.outbox, context.Background()

	start := time.Now()
	acked, unacked, stats := send(t, ingest, *eventsFlag)
	poison := publishPoison(t, eng)
	t.Logf("ingest: %d deliveries, %d acknowledged, %d never acknowledged (%d requests, %d × 503, %d redeliveries of acknowledged ones) in %v",
		*eventsFlag, len(acked), len(unacked), stats.requests, stats.unavailable, stats.redeliveries, time.Since(start).Round(time.Millisecond))

	waitRecovered(t, eng, acked, len(poison), 60*time.Second)
	if err := rg.stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("recovered %v after start; injected faults: %v", time.Since(start).Round(time.Millisecond), in.counts())

	// 1. Acknowledged: stored once, notified; 2. unacknowledged: absent.
	for key, id := range acked {
		if want := event.DeliveryID(src, key); id != want {
			t.Errorf("delivery %s acknowledged as %s, want the delivery-derived id %s", key, id, want)
		}
		rec, err := eng.Events().Get(ctx, id)
		if err != nil {
			t.Errorf("acknowledged event %s (delivery %s) is not stored: %v", id, key, err)
			continue
		}
		if n := led.get(led.inserted, id); n != 1 {
			t.Errorf("acknowledged event %s was inserted %d times, want 1", id, n)
		}
		if rec.NotifiedAt.IsZero() {
			t.Errorf("acknowledged event %s is not marked notified", id)
		}
	}
	for _, key := range unacked {
		id := event.DeliveryID(src, key)
		if _, err := eng.Events().Get(ctx, id); !pipeline.IsNotFound(err) {
			t.Errorf("delivery %s never got a 202 but event %s is stored (err %v)", key, id, err)
		}
	}
	if n := countHistory(t, eng); n != len(acked) {
		t.Errorf("history lists %d events, want the %d acknowledged", n, len(acked))
	}

	// 3. Exactly one send per acknowledged event, and one more per fault between send and mark.
	resent := 0
	for _, id := range acked {
		sent, want := led.get(led.sent, id), 1+led.get(led.resendsOK, id)
		if sent != want {
			t.Errorf("event %s: the mailer sent %d times, want exactly %d (1 + faults between send and mark)", id, sent, want)
		}
		resent += sent - 1
	}
	if n := led.total(led.sent); n != len(acked)+resent {
		t.Errorf("the mailer sent %d emails in all, %d of them for events that were never acknowledged", n, n-len(acked)-resent)
	}
	// The outbox, handed every send, keeps one whole email per event.
	box := &email.Outbox{Dir: outbox}
	ids, err := box.IDs()
	if err != nil {
		t.Fatal(err)
	}
	inBox := map[string]bool{}
	for _, id := range ids {
		if inBox[id] {
			t.Errorf("event %s has more than one email in the outbox", id)
		}
		inBox[id] = true
		// A whole email, not one cut short: it names its event.
		if b, err := box.Email(id); err != nil || !strings.Contains(string(b), "\r\n\r\n") || !strings.Contains(string(b), id) {
			t.Errorf("email %s is unreadable or does not mention its event (err %v)", id, err)
		}
	}
	for _, id := range acked {
		if !inBox[id] {
			t.Errorf("acknowledged event %s has no email in the outbox", id)
		}
	}
	if len(ids) != len(acked) {
		t.Errorf("outbox holds %d emails, want one per acknowledged event (%d)", len(ids), len(acked))
	}
	t.Logf("emails: %d sent once each; %d sent again, each after an injected fault between send and mark", len(acked), resent)

	// 4. The DLQ holds exactly the poison, each with a reason; no stream record was given up.
	dead, err := eng.ListDLQ(ctx, dlq, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var deadBodies []string
	for _, d := range dead {
		deadBodies = append(deadBodies, string(d.Body))
		if d.Reason == "" {
			t.Errorf("dead letter %q has no reason", d.Body)
		}
	}
	slices.Sort(deadBodies)
	if !slices.Equal(deadBodies, poison) {
		t.Errorf("DLQ bodies\n %q\nwant exactly the poison\n %q", deadBodies, poison)
	}
	if len(dead) > 0 {
		t.Logf("a DLQ reason: %s", dead[0].Reason)
	}
	if fails, err := eng.ListStreamFailures(ctx, stream, 100); err != nil || len(fails) > 0 {
		t.Errorf("stream consumer gave up on %d records (err %v): %+v", len(fails), err, fails)
	}
	if visible, inflight, err := eng.Depth(ctx, queue); err != nil || visible+inflight > 0 {
		t.Errorf("queue still holds %d visible, %d in flight (err %v)", visible, inflight, err)
	}
}

type sendStats struct{ requests, unavailable, redeliveries int }

// send delivers n distinct deliveries (Idempotency-Key d-<i>) from 4 concurrent senders. A 503
// is retried up to twice, as senders do, and then abandoned; a tenth of the acknowledged
// deliveries are sent once more (a sender that missed our 202) and must get the same id.
func send(t *testing.T, h *lambdaio.IngestHandler, n int) (acked map[string]string, unacked []string, st sendStats) {
	t.Helper()
	acked = map[string]string{}
	var mu sync.Mutex
	keys := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range keys {
				key := fmt.Sprintf("d-%04d", i)
				id, reqs, unavail := deliver(t, h, key, 3)
				redelivered := false
				if id != "" && i%10 == 0 {
					again, r2, u2 := deliver(t, h, key, 3)
					reqs, unavail, redelivered = reqs+r2, unavail+u2, true
					if again != "" && again != id {
						t.Errorf("redelivery of %s got id %s, first %s", key, again, id)
					}
				}
				mu.Lock()
				st.requests += reqs
				st.unavailable += unavail
				if redelivered {
					st.redeliveries++
				}
				if id != "" {
					acked[key] = id
				} else {
					unacked = append(unacked, key)
				}
				mu.Unlock()
			}
		})
	}
	for i := range n {
		keys <- i
	}
	close(keys)
	wg.Wait()
	return acked, unacked, st
}

// deliver posts one delivery up to tries times until it gets a 202; it returns the event id ("" if
// never acknowledged). Anything but 202 or a 503 problem with Retry-After fails the test.
func deliver(t *testing.T, h *lambdaio.IngestHandler, key string, tries int) (id string, requests, unavailable int) {
	for range tries {
		req := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "ANY /webhooks/{source}", RawPath: "/webhooks/" + src,
			PathParameters: map[string]string{"source": src},
			Headers: map[string]string{"content-type": "application/json", "authorization": "Bearer " + token,
				"idempotency-key": key},
			Body: `{"type":"fault.test","key":"` + key + `"}`,
		}
		req.RequestContext.HTTP.Method = "POST"
		resp, err := h.Handle(context.Background(), req)
		requests++
		if err != nil {
			t.Errorf("ingest returned an error: %v", err)
			return "", requests, unavailable
		}
		switch resp.StatusCode {
		case 202:
			id = resp.Headers["Location"][len("/events/"):]
			return id, requests, unavailable
		case 503:
			unavailable++
			if resp.Headers["Retry-After"] == "" || !strings.HasPrefix(resp.Headers["Content-Type"], "application/problem+json") {
				t.Errorf("503 without Retry-After or problem JSON: %+v", resp)
			}
		default:
			t.Errorf("delivery %s: status %d %s", key, resp.StatusCode, resp.Body)
			return "", requests, unavailable
		}
	}
	return "", requests, unavailable
}

// publishPoison puts messages on the topic that no subscriber can ever store; they must end up
// in the DLQ and nowhere else. It returns their bodies, sorted.
func publishPoison(t *testing.T, eng *engine.Engine) []string {
	t.Helper()
	bodies := []string{
		`not json at all`,
		`{}`,
		`{"specversion":"1.0","id":"not-a-uuid","source":"fault","type":"x"}`,
		`{"specversion":"0.3","id":"0190b4c2-0000-7000-8000-000000000001","source":"fault","type":"x","time":"2026-01-01T00:00:00Z"}`,
		"\x00\xff binary",
	}
	for i, b := range bodies {
		m := pipeline.Message{ID: fmt.Sprintf("poison-%d", i), Source: src, Type: "poison", Body: []byte(b)}
		if err := eng.Topic(topic).Publish(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(bodies)
	return bodies
}

// waitRecovered polls until every acknowledged event is marked notified, the DLQ holds want
// messages and the queue is empty, or fails the test after timeout.
func waitRecovered(t *testing.T, eng *engine.Engine, acked map[string]string, wantDead int, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	pending := map[string]bool{}
	for _, id := range acked {
		pending[id] = true
	}
	for {
		for id := range pending {
			rec, err := eng.Events().Get(ctx, id)
			if err == nil && !rec.NotifiedAt.IsZero() {
				delete(pending, id)
			} else if err != nil && !pipeline.IsNotFound(err) {
				t.Fatal(err)
			}
		}
		dead, _, err := eng.Depth(ctx, dlq)
		if err != nil {
			t.Fatal(err)
		}
		visible, inflight, err := eng.Depth(ctx, queue)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 && dead >= wantDead && visible+inflight == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered after %v: %d acknowledged events not notified, DLQ %d/%d, queue %d visible %d in flight",
				timeout, len(pending), dead, wantDead, visible, inflight)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// countHistory pages through the whole history (index reads, newest first).
func countHistory(t *testing.T, eng *engine.Engine) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		page, err := eng.Events().List(context.Background(), pipeline.Query{Limit: pipeline.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Records)
		if page.Cursor == "" {
			return n
		}
		cursor = page.Cursor
	}
}
