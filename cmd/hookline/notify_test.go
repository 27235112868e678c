package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/internal/testenv"
	"hookline/pkg/email"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/localrun"
)

// TestNotifyPendingAfterAMailerOutage: with the mailer broken, events are stored but not
// emailed; once it works, hookline notify --pending sends each missing email once, a second
// run sends none, and neither the restarted notifier nor --resend sends any again.
func TestNotifyPendingAfterAMailerOutage(t *testing.T) {
	t.Parallel()
	const n = 5
	const secret = "notify-test-secret-0123"
	data, sources := githubLocal(t, secret)
	// A port nobody listens on: every send fails, the notifier keeps retrying.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	url, stop := runLocalWith(t, localrun.Config{DataDir: data, SourcesFile: sources, SMTPAddr: dead})

	var ids []string
	for i := range n {
		id, err := push(url, secret, i)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		eventually(t, 10*time.Second, func() string {
			if code, b := testenv.Get(t, url+"/events/"+id); code != 200 || !strings.Contains(b, `"notified_at":null`) {
				return fmt.Sprintf("event %s: %d %s (want stored, not notified)", id, code, b)
			}
			return ""
		})
	}
	// The notifier fails on them: the failures are counted, the pending age grows.
	eventually(t, 10*time.Second, func() string {
		if _, b := testenv.Get(t, url+"/metrics"); !strings.Contains(b, `hookline_notify_failed_total{source="github"}`) {
			return "no notify failure counted"
		}
		return ""
	})
	stop()

	outbox := &email.Outbox{Dir: filepath.Join(data, "outbox")}
	emails := func() int {
		m, _ := outbox.IDs()
		return len(m)
	}
	if emails() != 0 {
		t.Fatalf("%d emails with the mailer broken", emails())
	}
	// The mailer is fixed (the outbox): every missing email is sent once. Locally the engine
	// indexes pending events, so a received window that holds none of them does not matter.
	out, err := cli(t, "notify", "--pending", "--older-than", "0s", "--since", "48h", "--until", "24h", "--data", data)
	if err != nil || !strings.Contains(out, fmt.Sprintf("sent %d of %d pending (0 notified meanwhile, 0 failed)", n, n)) {
		t.Fatalf("notify --pending: %v\n%s", err, out)
	}
	perEvent := map[string]int{}
	all, _ := outbox.IDs()
	for _, id := range all {
		perEvent[id]++
	}
	for _, id := range ids {
		if perEvent[id] != 1 {
			t.Errorf("event %s: %d emails, want 1", id, perEvent[id])
		}
	}
	out, err = cli(t, "notify", "--pending", "--older-than", "0s", "--data", data)
	if err != nil || !strings.Contains(out, "sent 0 of 0 pending") {
		t.Errorf("second notify --pending: %v\n%s", err, out)
	}
	out, err = cli(t, "notify", "--resend", ids[0], "--data", data)
	if err != nil || !strings.Contains(out, "already notified at") {
		t.Errorf("notify --resend of a notified event: %v\n%s", err, out)
	}
	before, err := outbox.Email(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(data, "outbox", email.MboxFile)); err != nil { // the inbox lost it
		t.Fatal(err)
	}
	out, err = cli(t, "notify", "--resend", ids[0], "--force", "--data", data)
	after, rerr := (&email.Outbox{Dir: filepath.Join(data, "outbox")}).Email(ids[0])
	if err != nil || rerr != nil || !strings.Contains(out, ids[0]+"  sent") || withoutDate(after) != withoutDate(before) {
		t.Errorf("notify --resend --force: %v %v\n%s", err, rerr, out)
	}
	// The restarted pipeline's notifier resumes its stream and finds every event marked.
	url, _ = runLocal(t, data, sources)
	for _, id := range ids {
		if code, b := testenv.Get(t, url+"/events/"+id); code != 200 || !strings.Contains(b, `"notified_at":"`) {
			t.Errorf("event %s after notify: %d %s", id, code, b)
		}
	}
	eventually(t, 10*time.Second, func() string {
		if _, b := testenv.Get(t, url+"/metrics"); !strings.Contains(b, "hookline_pending_notification_age_ms 0") {
			return "pending notifications remain"
		}
		return ""
	})
	// Wait until the restarted notifier has checkpointed past every stream record.
	eng, err := engine.Open(filepath.Join(data, localrun.DBFile), engine.Options{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	enginetest.WaitCaughtUp(t, eng, localrun.StreamConsumer, 30*time.Second)
	if got := emails(); got != n {
		t.Errorf("%d emails after the restart, want %d", got, n)
	}
}

// withoutDate is an email without its Date header, which says when it was sent: a resend in a
// later second is the same email otherwise.
func withoutDate(msg []byte) string {
	var kept []string
	for _, line := range strings.SplitAfter(string(msg), "\r\n") {
		if !strings.HasPrefix(line, "Date: ") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "")
}
