package faulttest

import (
	"context"
	"testing"
	"time"

	"hookline/pkg/email"
	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/local/runner"
)

// TestMailerOutage checks what happens to emails when the mailer is down. A short outage (1 s)
// with the runner's default retries (those `hookline local` runs with: 10, backing off from
// 100 ms to 30 s) only delays the emails: every one is sent once the mailer is back, none is
// given up. An outage longer than the retries (2 here, to keep the test short) gives the
// records up to the stream failures, with a reason, like a Lambda stream trigger's on-failure
// destination. In both, every acknowledged event is stored once and accounted for exactly one
// way — emailed and marked notified, or listed in the stream failures and neither.
func TestMailerOutage(t *testing.T) {
	for _, tc := range []struct {
		name      string
		retries   int // 0: the runner's default
		outage    time.Duration
		wantGiven bool
	}{
		{"short outage delays", 0, time.Second, false},
		{"long outage gives up", 2, -1, true}, // -1: down until every record is accounted for
	} {
		t.Run(tc.name, func(t *testing.T) { mailerOutage(t, tc.retries, tc.outage, tc.wantGiven) })
	}
}

func mailerOutage(t *testing.T, retries int, outage time.Duration, wantGivenUp bool) {
	in, led := newInjector(1), newLedger()
	// Small stream batches only to keep the run short: each given-up record costs its retries.
	rg := newRig(t, in, led, rates{}, func(r *runner.Runner) { r.StreamBatchSize = 3; r.StreamRetries = retries })
	ctx := context.Background()

	rg.mailer.down.Store(true)
	acked, unacked, _ := send(t, rg.ingest, 6)
	if len(unacked) > 0 {
		t.Fatalf("%d deliveries not acknowledged with no publish faults", len(unacked))
	}
	accounted := func() (notified map[string]bool, failed map[string]string) {
		notified, failed = map[string]bool{}, map[string]string{}
		fails, err := rg.eng.ListStreamFailures(ctx, stream, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fails {
			failed[f.Record.Keys["id"].String()] = f.Reason
		}
		for _, id := range acked {
			if rec, err := rg.eng.Events().Get(ctx, id); err == nil && !rec.NotifiedAt.IsZero() {
				notified[id] = true
			}
		}
		return notified, failed
	}
	if outage > 0 {
		time.Sleep(outage)
		rg.mailer.down.Store(false)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, f := accounted()
		if len(n)+len(f) >= len(acked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d notified, %d given up, of %d acknowledged", len(n), len(f), len(acked))
		}
		time.Sleep(50 * time.Millisecond)
	}
	rg.mailer.down.Store(false)
	// Every record is accounted for; once the consumer's checkpoint is past all of them, no
	// given-up record can be delivered again (the runner reads only after its checkpoint).
	enginetest.WaitCaughtUp(t, rg.eng, stream, time.Until(deadline))
	if err := rg.stop(); err != nil {
		t.Fatal(err)
	}

	notified, failed := accounted()
	for key, id := range acked {
		if _, err := rg.eng.Events().Get(ctx, id); err != nil {
			t.Errorf("acknowledged %s (%s) not stored: %v", id, key, err)
		}
		if n := led.get(led.inserted, id); n != 1 {
			t.Errorf("event %s inserted %d times, want 1", id, n)
		}
		sent := led.get(led.sent, id) // counted at the mailer: a second send would show
		_, readErr := (&email.Outbox{Dir: rg.outbox}).Email(id)
		inBox := readErr == nil
		reason, gaveUp := failed[id]
		switch {
		case notified[id] && sent == 1 && inBox && !gaveUp:
		case gaveUp && reason != "" && !notified[id] && sent == 0 && !inBox:
		default:
			t.Errorf("event %s: notified %v, sent %d times, in the outbox %v, in stream failures %v (reason %q): want exactly one outcome",
				id, notified[id], sent, inBox, gaveUp, reason)
		}
	}
	if wantGivenUp && len(failed) == 0 {
		t.Errorf("an outage longer than the retries gave nothing up")
	}
	if !wantGivenUp && len(failed) > 0 {
		t.Errorf("a 1 s outage gave %d of %d emails up; the retries should outlast it", len(failed), len(acked))
	}
	t.Logf("%d of %d emailed, %d given up", len(notified), len(acked), len(failed))
}
