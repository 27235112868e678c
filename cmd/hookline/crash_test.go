package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"hookline/internal/smtptest"
	"hookline/internal/testenv"
	"hookline/pkg/event"
	"hookline/pkg/historyapi"
	"hookline/pkg/sender"
)

const crashSecret = "crash-test-secret-0123"

// TestKill9LosesNothingAcknowledged builds the real binary and, HOOKLINE_CRASH_KILLS times
// (default 3), starts it on the same data dir, posts deliveries concurrently and kills it with
// SIGKILL mid-stream. Then it restarts it once more and checks that every id that got a 202 in
// any round is stored exactly once, and that nothing un-acknowledged appears twice.
//
// Emails are counted where they arrive: each process sends to its own SMTP server
// (internal/smtptest), so a send is attributed to the process that made it. Every acknowledged
// event is emailed, and no process sends any event's email twice. A second email from a later
// process is the documented crash window (sent, killed before the mark) and is only counted.
// Bounded: 300 requests a round, 60 s of waiting at most.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	kills := 3
	if v := os.Getenv("HOOKLINE_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 50 {
			t.Fatalf("HOOKLINE_CRASH_KILLS=%q: want 1 to 50", v)
		}
		kills = n
	}
	bin := sharedCLI(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	sources := filepath.Join(dir, "sources.json")
	must(t, os.WriteFile(sources, []byte(`{"sources":{"gh":{"scheme":"github","secrets":["`+crashSecret+`"]}}}`), 0o600))
	addr := freeAddr(t)

	const perRound, workers = 300, 8
	total := kills * perRound
	acked := map[string]string{} // delivery → event id, over every round
	client := &http.Client{Timeout: 5 * time.Second}
	var relays []*smtptest.Server // one per process, in order
	for round := range kills {
		relays = append(relays, smtptest.Start(t, smtptest.Options{}))
		p := startBinary(t, bin, addr, data, sources, relays[round].Addr)
		var (
			mu        sync.Mutex
			roundAcks int
			wg        sync.WaitGroup
			next      = make(chan int)
		)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					delivery := fmt.Sprintf("d-%04d", i)
					if id, ok := postSigned(client, addr, delivery); ok {
						mu.Lock()
						acked[delivery] = id
						roundAcks++
						mu.Unlock()
					}
				}
			}()
		}
		killed := false
		for i := round * perRound; i < (round+1)*perRound; i++ {
			next <- i
			mu.Lock()
			n := roundAcks
			mu.Unlock()
			if !killed && n >= perRound/3 {
				must(t, p.Process.Signal(syscall.SIGKILL)) // mid-stream: workers still have requests in flight
				killed = true
			}
		}
		close(next)
		wg.Wait()
		_ = p.Wait()
		if !killed || roundAcks == perRound {
			t.Fatalf("round %d: acknowledged %d of %d: the kill did not land mid-stream", round, roundAcks, perRound)
		}
		t.Logf("round %d: %d of %d requests acknowledged before and around the kill", round, roundAcks, perRound)
	}

	relays = append(relays, smtptest.Start(t, smtptest.Options{}))
	p2 := startBinary(t, bin, addr, data, sources, relays[kills].Addr)
	sentIDs, ackedIDs := map[string]bool{}, map[string]bool{}
	for i := range total {
		sentIDs[event.BodyID("gh", []byte(crashBody(fmt.Sprintf("d-%04d", i))))] = true
	}
	for _, id := range acked {
		ackedIDs[id] = true
	}
	deadline := time.Now().Add(60 * time.Second)
	for delivery, id := range acked {
		if want := event.BodyID("gh", []byte(crashBody(delivery))); id != want {
			t.Fatalf("delivery %s got id %s, want %s", delivery, id, want)
		}
		for {
			v, code := getEvent(t, client, addr, id)
			if code == 200 && v.NotifiedAt != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("acknowledged event %s (%s) not stored and notified after restart: %d %+v", id, delivery, code, v)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Notified means sent: the mark follows the send. Count per process.
	perProcess := make([]map[string]int, len(relays))
	for i, r := range relays {
		perProcess[i] = r.PerEvent()
	}
	resent := 0
	for _, id := range acked {
		total := 0
		for i, sent := range perProcess {
			if sent[id] > 1 {
				t.Errorf("event %s: process %d sent its email %d times, want at most once per process", id, i, sent[id])
			}
			total += sent[id]
		}
		if total < 1 {
			t.Errorf("acknowledged event %s is marked notified but no mail server got its email", id)
		}
		resent += max(total-1, 0)
	}
	for i, sent := range perProcess {
		for id := range sent {
			if !ackedIDs[id] && !sentIDs[id] {
				t.Errorf("process %d emailed %q, which is no event we sent", i, id)
			}
		}
	}
	t.Logf("emails: %d sent again by a later process after a kill between send and mark", resent)
	// Every stored event, acknowledged or not, appears once, and is one we sent.
	seen := map[string]int{}
	cursor := ""
	for {
		page := listEvents(t, client, addr, cursor)
		for _, e := range page.Events {
			seen[e.ID]++
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	for id, n := range seen {
		if n != 1 || !sentIDs[id] {
			t.Errorf("stored event %s appears %d times (sent by us: %v)", id, n, sentIDs[id])
		}
	}
	t.Logf("stored after restart: %d events (%d acknowledged, %d more that were accepted as the process died)", len(seen), len(acked), len(seen)-len(acked))

	// SIGTERM drains and exits cleanly.
	must(t, p2.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- p2.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		_ = p2.Process.Kill()
		t.Error("did not exit within 20s of SIGTERM")
	}
}

func startBinary(t *testing.T, bin, addr, data, sources, smtpAddr string) *exec.Cmd {
	t.Helper()
	// Messages in flight at the kill are redelivered after the visibility timeout, as on SQS;
	// a short one keeps the test fast.
	cmd := testenv.Peer(bin, "local", "--addr", addr, "--data", data, "--sources", sources, "--log-level", "warn", "--visibility-timeout", "2s",
		"--smtp", smtpAddr)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("hookline did not become healthy: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// crashBody is the body of one delivery: GitHub signs no delivery id, so each delivery's
// identity is its (distinct) signed body.
func crashBody(delivery string) string {
	return `{"delivery":"` + delivery + `","zen":"Anything added dilutes everything else."}`
}

func postSigned(c *http.Client, addr, delivery string) (string, bool) {
	resp, err := sender.Send(context.Background(), c, "http://"+addr, "gh", sender.Request{
		Scheme: sender.GitHub, Secret: crashSecret, Body: []byte(crashBody(delivery)), Type: "push", DeliveryID: delivery,
	})
	if err != nil || resp.StatusCode != http.StatusAccepted || resp.EventID == "" {
		return "", false
	}
	return resp.EventID, true
}

func getEvent(t *testing.T, c *http.Client, addr, id string) (historyapi.EventView, int) {
	t.Helper()
	resp, err := c.Get("http://" + addr + "/events/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v historyapi.EventView
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return v, resp.StatusCode
}

func listEvents(t *testing.T, c *http.Client, addr, cursor string) historyapi.ListView {
	t.Helper()
	resp, err := c.Get("http://" + addr + "/events?limit=100&cursor=" + cursor)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v historyapi.ListView
	if resp.StatusCode != 200 || json.Unmarshal(b, &v) != nil {
		t.Fatalf("GET /events: %d %s", resp.StatusCode, b)
	}
	return v
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
