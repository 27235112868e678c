// Package digesttest is the contract suite of pipeline.DigestStore, run against every adapter
// (the local engine's SQLite, DynamoDB through dynalite, and Memory, the reference), and the
// digest scenario of issue 12: 500 events of one source in two minutes, with a one-minute
// digest, make two or three emails that together list every event — time driven by a fake
// clock, never by sleeping.
package digesttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hookline/pkg/emailpolicy"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/storetest"
)

// Run runs the contract suite; newStore returns an empty store for each test.
func Run(t *testing.T, newStore func(t *testing.T) pipeline.DigestStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, pipeline.DigestStore)
	}{
		{"AddTakeDone", testAddTakeDone},
		{"TakenRefusesAdds", testTakenRefusesAdds},
		{"SourcesAndDuesApart", testApart},
		{"ManyIDs", testManyIDs},
		{"FiveHundredEventsTwoMinutes", testScenario},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

var due = time.Date(2026, 12, 1, 12, 5, 0, 0, time.UTC)

func ctx() context.Context { return context.Background() }

func testAddTakeDone(t *testing.T, s pipeline.DigestStore) {
	for _, id := range []string{"b", "a", "c", "a"} { // a second add of an id is harmless
		if err := s.AddToDigest(ctx(), "github", due, id); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := s.TakeDigest(ctx(), "github", due)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Errorf("TakeDigest = %v, want a b c once each", ids)
	}
	again, err := s.TakeDigest(ctx(), "github", due)
	slices.Sort(again)
	if err != nil || !slices.Equal(again, ids) {
		t.Errorf("second TakeDigest before done = %v, %v; want the same ids (a failed send is retried)", again, err)
	}
	if err := s.DoneDigest(ctx(), "github", due); err != nil {
		t.Fatal(err)
	}
	if after, err := s.TakeDigest(ctx(), "github", due); err != nil || len(after) != 0 {
		t.Errorf("TakeDigest after done = %v, %v; want none", after, err)
	}
	if empty, err := s.TakeDigest(ctx(), "github", due.Add(time.Minute)); err != nil || len(empty) != 0 {
		t.Errorf("TakeDigest of an empty digest = %v, %v", empty, err)
	}
}

func testTakenRefusesAdds(t *testing.T, s pipeline.DigestStore) {
	if err := s.AddToDigest(ctx(), "github", due, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeDigest(ctx(), "github", due); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToDigest(ctx(), "github", due, "late"); !errors.Is(err, pipeline.ErrDigestTaken) {
		t.Errorf("add to a taken digest = %v, want ErrDigestTaken", err)
	}
	// Even an empty digest, once taken, refuses: the late add goes to the next one.
	if _, err := s.TakeDigest(ctx(), "github", due.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToDigest(ctx(), "github", due.Add(time.Minute), "late"); !errors.Is(err, pipeline.ErrDigestTaken) {
		t.Errorf("add to a taken empty digest = %v, want ErrDigestTaken", err)
	}
}

func testApart(t *testing.T, s pipeline.DigestStore) {
	for _, a := range []struct {
		source string
		due    time.Time
		id     string
	}{{"github", due, "g1"}, {"stripe", due, "s1"}, {"github", due.Add(time.Minute), "g2"}} {
		if err := s.AddToDigest(ctx(), a.source, a.due, a.id); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []struct {
		source string
		due    time.Time
		want   string
	}{{"github", due, "g1"}, {"stripe", due, "s1"}, {"github", due.Add(time.Minute), "g2"}} {
		if ids, err := s.TakeDigest(ctx(), w.source, w.due); err != nil || !slices.Equal(ids, []string{w.want}) {
			t.Errorf("TakeDigest(%s, %s) = %v, %v; want [%s]", w.source, w.due.Format(time.Kitchen), ids, err, w.want)
		}
	}
}

func testManyIDs(t *testing.T, s pipeline.DigestStore) {
	var want []string
	for i := range 300 {
		id := fmt.Sprintf("0190b4c2-0000-7000-8000-%012d", i)
		want = append(want, id)
		if err := s.AddToDigest(ctx(), "github", due, id); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := s.TakeDigest(ctx(), "github", due)
	slices.Sort(ids)
	if err != nil || !slices.Equal(ids, want) {
		t.Errorf("TakeDigest = %d ids, %v; want all 300", len(ids), err)
	}
}

type mailbox struct {
	sent []pipeline.Email
}

func (m *mailbox) Send(_ context.Context, e pipeline.Email) error {
	m.sent = append(m.sent, e)
	return nil
}

// lister composes a digest whose text lists each event id on a line of its own.
type lister struct{}

func (lister) ComposeDigest(source string, due time.Time, every time.Duration, rs []*event.Record) (pipeline.Email, error) {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Event.ID + "\n")
	}
	return pipeline.Email{EventID: "digest", Source: source, Type: emailpolicy.DigestType, Subject: fmt.Sprintf("%d events", len(rs)), Text: b.String()}, nil
}

type never struct{}

func (never) Compose(*event.Record) (pipeline.Email, error) {
	return pipeline.Email{}, errors.New("a digested source got an email of its own")
}

// testScenario: 500 events of one source arrive over two minutes, starting 20 s into a minute,
// the policy gives the source a one-minute digest, and the digest flush runs every minute of
// the fake clock (as the scheduled invocation does). Two or three emails go out, and together
// they list each of the 500 events exactly once; every event ends notified.
func testScenario(t *testing.T, s pipeline.DigestStore) {
	policy, err := emailpolicy.Parse(`{"sources": {"github": {"digest": "1m"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 12, 0, 20, 0, time.UTC)
	clock := start
	now := func() time.Time { return clock }
	store := &storetest.Memory{} // the history and the marks: what the digest reads and marks
	box := &mailbox{}
	notify := &pipeline.Notify{Store: store, Composer: never{}, Mailer: box, Now: now, Policy: policy.Decide, Digests: s}
	digest := &pipeline.Digest{Every: policy.Digests(), Store: s, Events: store, Marker: store, Composer: lister{}, Mailer: box, Now: now}

	const n = 500
	step := 2 * time.Minute / n
	nextFlush := start.Truncate(time.Minute).Add(time.Minute)
	var ids []string
	for i := range n {
		clock = start.Add(time.Duration(i) * step)
		for !clock.Before(nextFlush) { // the scheduled flush, on every minute of the clock
			if _, err := digest.Flush(ctx()); err != nil {
				t.Fatal(err)
			}
			nextFlush = nextFlush.Add(time.Minute)
		}
		id := fmt.Sprintf("0190b4c2-0000-7000-8000-%012d", i)
		ids = append(ids, id)
		r := &event.Record{Event: &event.Event{ID: id, Source: "github", Type: "push", Time: clock, ReceivedAt: clock}, StoredAt: clock}
		store.Add(r)
		res, err := notify.Notify(ctx(), r)
		if err != nil || res.Digest.IsZero() {
			t.Fatalf("event %d: %+v, %v; want it digested", i, res, err)
		}
	}
	// The clock runs on past the last digest's due time and its grace.
	for end := clock.Add(2 * time.Minute); !nextFlush.After(end); nextFlush = nextFlush.Add(time.Minute) {
		clock = nextFlush
		if _, err := digest.Flush(ctx()); err != nil {
			t.Fatal(err)
		}
	}

	if len(box.sent) < 2 || len(box.sent) > 3 {
		t.Errorf("%d emails, want 2 or 3", len(box.sent))
	}
	listed := map[string]int{}
	for _, m := range box.sent {
		if m.Source != "github" || m.Type != emailpolicy.DigestType {
			t.Errorf("email %q is not github's digest (source %q, type %q)", m.Subject, m.Source, m.Type)
		}
		for _, line := range strings.Fields(m.Text) {
			listed[line]++
		}
	}
	for _, id := range ids {
		if listed[id] != 1 {
			t.Errorf("event %s listed %d times, want once", id, listed[id])
		}
		if store.Record(id).NotifiedAt.IsZero() {
			t.Errorf("event %s not marked notified", id)
		}
	}
	if len(listed) != n {
		t.Errorf("the emails list %d ids, want the %d events", len(listed), n)
	}
	t.Logf("%d events from %s to %s: %d digest emails of %v events", n, start.Format(time.TimeOnly), clock.Format(time.TimeOnly), len(box.sent), sizes(box.sent))
}

func sizes(ms []pipeline.Email) []int {
	var out []int
	for _, m := range ms {
		out = append(out, len(strings.Fields(m.Text)))
	}
	return out
}

// Memory is a DigestStore in memory: the reference the adapters are held to.
type Memory struct {
	mu      sync.Mutex
	digests map[string]*memDigest
}

type memDigest struct {
	ids         []string
	taken, done bool
}

func key(source string, due time.Time) string { return source + "#" + due.UTC().Format(time.RFC3339) }

func (m *Memory) get(source string, due time.Time) *memDigest {
	if m.digests == nil {
		m.digests = map[string]*memDigest{}
	}
	d := m.digests[key(source, due)]
	if d == nil {
		d = &memDigest{}
		m.digests[key(source, due)] = d
	}
	return d
}

// AddToDigest implements pipeline.DigestStore.
func (m *Memory) AddToDigest(_ context.Context, source string, due time.Time, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.get(source, due)
	if d.taken {
		return pipeline.ErrDigestTaken
	}
	if !slices.Contains(d.ids, id) {
		d.ids = append(d.ids, id)
	}
	return nil
}

// TakeDigest implements pipeline.DigestStore.
func (m *Memory) TakeDigest(_ context.Context, source string, due time.Time) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.get(source, due)
	d.taken = true
	if d.done {
		return nil, nil
	}
	return slices.Clone(d.ids), nil
}

// DoneDigest implements pipeline.DigestStore.
func (m *Memory) DoneDigest(_ context.Context, source string, due time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.get(source, due).done = true
	return nil
}

var _ pipeline.DigestStore = (*Memory)(nil)
