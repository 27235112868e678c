package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hookline/internal/testenv"
	"hookline/pkg/email"
	"hookline/pkg/event"
	"hookline/pkg/local/engine"
	"hookline/pkg/localrun"
)

// TestReplayToASecondSubscriber: hookline replay over 1,000 stored events delivers 1,000
// envelopes, marked replay=true, to a second queue subscribed to the local topic, while
// hookline's own subscriber counts them as duplicates: no new item, no new email.
func TestReplayToASecondSubscriber(t *testing.T) {
	t.Parallel()
	const n = 1000
	const secret = "replay-test-secret-0123"
	data, sources := githubLocal(t, secret)
	url, _ := runLocal(t, data, sources)

	ids := make(chan string, n)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				id, err := push(url, secret, i)
				if err != nil {
					t.Error(err)
					return
				}
				ids <- id
			}
		})
	}
	wg.Wait()
	close(ids)
	want := map[string]bool{}
	for id := range ids {
		want[id] = true
	}
	if len(want) != n {
		t.Fatalf("%d distinct event ids, want %d", len(want), n)
	}
	emails := func() int {
		m, _ := (&email.Outbox{Dir: filepath.Join(data, "outbox")}).IDs()
		return len(m)
	}
	eventually(t, 60*time.Second, func() string {
		if got := emails(); got != n {
			return fmt.Sprintf("%d of %d emails", got, n)
		}
		return ""
	})

	// A second subscriber: its own queue on the same topic (the file is shared with the server).
	eng, err := engine.Open(filepath.Join(data, localrun.DBFile), engine.Options{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := t.Context()
	if err := eng.CreateQueue(ctx, "backfill", engine.QueueConfig{VisibilityTimeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := eng.Subscribe(ctx, localrun.EventsTopic, "backfill"); err != nil {
		t.Fatal(err)
	}

	out, err := cli(t, "replay", "--since", "1h", "--source", "github", "--dry-run", "--data", data)
	if err != nil || !strings.Contains(out, fmt.Sprintf("would replay %d events", n)) {
		t.Fatalf("replay --dry-run: %v\n%s", err, out)
	}
	out, err = cli(t, "replay", "--since", "1h", "--source", "github", "--data", data)
	if err != nil || !strings.Contains(out, fmt.Sprintf("replayed %d of %d events", n, n)) {
		t.Fatalf("replay: %v\n%s", err, out)
	}

	got := map[string]bool{}
	for {
		msgs, err := eng.Receive(ctx, "backfill", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			e, err := event.Decode(m.Body)
			if err != nil {
				t.Fatalf("backfill message is not an envelope: %v", err)
			}
			if m.Attributes["replay"] != "true" || m.Attributes["source"] != "github" || m.Attributes["type"] != "push" {
				t.Fatalf("attributes %v", m.Attributes)
			}
			got[e.ID] = true
		}
	}
	if len(got) != n {
		t.Errorf("the second queue received %d distinct envelopes, want %d", len(got), n)
	}
	for id := range want {
		if !got[id] {
			t.Errorf("event %s was not replayed", id)
			break
		}
	}
	// hookline's own subscriber took every replayed message as a duplicate.
	eventually(t, 60*time.Second, func() string {
		_, b := testenv.Get(t, url+"/metrics")
		if !strings.Contains(b, fmt.Sprintf(`hookline_duplicate_total{source="github"} %d`, n)) {
			return "the subscriber has not counted every replay as a duplicate yet"
		}
		return ""
	})
	out, err = cli(t, "events", "list", "--json", "--limit", "5000", "--data", data)
	if err != nil || strings.Count(out, "\n") != n || emails() != n {
		t.Errorf("after the replay: %d events and %d emails, want %d and %d (%v)", strings.Count(out, "\n"), emails(), n, n, err)
	}
}
