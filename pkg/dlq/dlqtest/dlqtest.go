// Package dlqtest is the contract every dlq.Queue adapter passes (pkg/dlq/sqsdlq against a fake
// SQS on 127.0.0.1, pkg/local/localdlq against a real engine), in the manner of
// net/http/httptest: the adapter's own tests call Run with a way to build a fresh harness.
package dlqtest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"hookline/internal/testctx"
	"hookline/pkg/dlq"
	"hookline/pkg/event"
)

// Harness is one adapter under test, over an empty dead-letter queue of its own.
type Harness struct {
	Queue dlq.Queue
	// Kill makes each body a dead message, the way its queue does: delivered to the events
	// queue, received until its maxReceiveCount ran out, moved to the dead-letter queue.
	Kill func(t *testing.T, bodies ...[]byte)
	// Returned lists the bodies waiting in the events queue (where Redrive sends them back).
	Returned func(t *testing.T) [][]byte
}

// Run runs the contract against the harnesses newHarness builds, a fresh one per subtest.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("EmptyListsNothing", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		msgs, err := h.Queue.List(testctx.New(t), 10)
		if err != nil || len(msgs) != 0 {
			t.Fatalf("List of an empty DLQ = %d messages, %v; want none", len(msgs), err)
		}
	})
	t.Run("ListDescribesEachMessage", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		env, id := envelope(t, "github", "push")
		h.Kill(t, env, []byte("not an envelope"))
		msgs := list(t, h.Queue, 10)
		if len(msgs) != 2 {
			t.Fatalf("List = %d messages, want 2", len(msgs))
		}
		byBody := map[string]dlq.Message{}
		for _, m := range msgs {
			if m.ID == "" || m.ReceiveCount < 1 || m.SentAt.IsZero() || m.SourceQueue == "" {
				t.Errorf("message lacks its id, receive count, send time or source queue: %s", show(m))
			}
			byBody[string(m.Body)] = m
		}
		if msgs[0].ID == msgs[1].ID {
			t.Errorf("two messages with one id %q", msgs[0].ID)
		}
		if m, ok := byBody[string(env)]; !ok || m.EventID != id || m.EventSource != "github" || m.EventType != "push" {
			t.Errorf("the envelope's message is %s; want event %s from github, type push", show(m), id)
		}
		if m, ok := byBody["not an envelope"]; !ok || m.EventID != "" || m.EventSource != "" || m.EventType != "" {
			t.Errorf("the other message is %s; want its body and no event", show(m))
		}
	})
	t.Run("ListDoesNotConsume", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		env, _ := envelope(t, "stripe", "charge.succeeded")
		h.Kill(t, env)
		first, second := list(t, h.Queue, 10), list(t, h.Queue, 10)
		if len(first) != 1 || len(second) != 1 || first[0].ID != second[0].ID {
			t.Fatalf("listed %v, then %v; want the same one message twice", ids(first), ids(second))
		}
	})
	t.Run("ListHonoursMax", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.Kill(t, []byte("a"), []byte("b"), []byte("c"))
		if got := list(t, h.Queue, 2); len(got) != 2 {
			t.Fatalf("List(max 2) = %d messages", len(got))
		}
		if got := list(t, h.Queue, 10); len(got) != 3 {
			t.Fatalf("List(max 10) = %d messages, want all 3", len(got))
		}
	})
	t.Run("RedriveSendsEverythingBack", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		env, _ := envelope(t, "github", "push")
		h.Kill(t, env, []byte("second"))
		r, err := h.Queue.Redrive(testctx.New(t))
		switch {
		case err != nil:
			t.Fatalf("Redrive: %v", err)
		case r.Source == "":
			t.Errorf("Redrive = %+v: no source", r)
		case r.Moved == -1 && r.TaskHandle == "":
			t.Errorf("Redrive = %+v: asynchronous without a task handle", r)
		case r.Moved != -1 && r.Moved != 2:
			t.Errorf("Redrive = %+v: moved %d, want 2", r, r.Moved)
		}
		// An asynchronous move (SQS) finishes on its own; the bound only catches a hang.
		deadline := time.Now().Add(10 * time.Second)
		for len(list(t, h.Queue, 10)) > 0 {
			if time.Now().After(deadline) {
				t.Fatal("the DLQ still holds messages 10 s after the redrive")
			}
			time.Sleep(10 * time.Millisecond)
		}
		back := h.Returned(t)
		want := [][]byte{env, []byte("second")}
		slices.SortFunc(back, func(a, b []byte) int { return slices.Compare(a, b) })
		slices.SortFunc(want, func(a, b []byte) int { return slices.Compare(a, b) })
		if !slices.EqualFunc(back, want, slices.Equal) {
			t.Errorf("back on the events queue: %q; want %q", back, want)
		}
	})
}

func list(t *testing.T, q dlq.Queue, max int) []dlq.Message {
	t.Helper()
	msgs, err := q.List(testctx.New(t), max)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return msgs
}

// show is m without its body.
func show(m dlq.Message) string {
	m.Body = nil
	return fmt.Sprintf("%+v", m)
}

func ids(msgs []dlq.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// envelope is a new event's envelope from source, and its id.
func envelope(t *testing.T, source, typ string) ([]byte, string) {
	t.Helper()
	id, err := event.NewID()
	if err != nil {
		t.Fatal(err)
	}
	return Envelope(t, id, source, typ), id
}

// Envelope is the hookline envelope of event id, as the events queue carries it.
func Envelope(t testing.TB, id, source, typ string) []byte {
	t.Helper()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	e := &event.Event{ID: id, Source: source, Type: typ, Time: at, ReceivedAt: at}
	if err := e.SetData("application/json", []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	return e.Marshal()
}
