package faulttest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hookline/pkg/local"
)

// TestMailerOutage pins what happens to emails when the mailer is down for longer than the
// stream consumer retries, with the runner's default retry settings (those `hookline local`
// runs with: 3 retries, 100 ms apart). Like a Lambda stream trigger with an on-failure
// destination, the runner gives up on the record and records it with a reason; the mailer
// coming back does not resend it. Asserted: every acknowledged event is stored once and is
// accounted for exactly one way — emailed and marked notified, or listed in the stream
// failures with a reason (then neither emailed nor marked). Nothing falls between the two.
func TestMailerOutage(t *testing.T) {
	in, led := newInjector(1), newLedger()
	// Small stream batches only to keep the run short: each given-up record costs its retries.
	rg := newRig(t, in, led, rates{}, func(r *local.Runner) { r.StreamBatchSize = 3 })
	ctx := context.Background()

	down := time.Now()
	rg.mailer.down.Store(true)
	acked, unacked, _ := send(t, rg.ingest, 6)
	if len(unacked) > 0 {
		t.Fatalf("%d deliveries not acknowledged with no publish faults", len(unacked))
	}
	// Wait until every event is either notified or given up, then end the outage and give the
	// runner time to (not) pick the given-up records up again.
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
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, f := accounted()
		if len(n)+len(f) >= len(acked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %d notified, %d given up, of %d acknowledged", len(n), len(f), len(acked))
		}
		time.Sleep(50 * time.Millisecond)
	}
	outage := time.Since(down)
	rg.mailer.down.Store(false)
	time.Sleep(500 * time.Millisecond)
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
		_, statErr := os.Stat(filepath.Join(rg.outbox, id+".eml"))
		emailed := statErr == nil
		reason, gaveUp := failed[id]
		switch {
		case notified[id] && emailed && !gaveUp:
		case gaveUp && reason != "" && !notified[id] && !emailed:
		default:
			t.Errorf("event %s: notified %v, emailed %v, in stream failures %v (reason %q): want exactly one outcome",
				id, notified[id], emailed, gaveUp, reason)
		}
	}
	var some string
	for _, r := range failed {
		some = r
		break
	}
	t.Logf("mailer down %v: %d of %d emails given up and recorded as stream failures (still unsent 500 ms after the mailer came back); a reason: %s",
		outage.Round(time.Millisecond), len(failed), len(acked), some)
}
