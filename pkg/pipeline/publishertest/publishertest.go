// Package publishertest is the contract every pipeline.Publisher adapter passes (the local
// engine's topic, snsbus.Publisher on the wire against a fake SNS on 127.0.0.1), in the manner
// of net/http/httptest: each adapter's tests call Run with a way to build a fresh harness.
package publishertest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"hookline/internal/testctx"
	"hookline/pkg/pipeline"
)

// Received is one message as a subscriber of the topic gets it.
type Received struct {
	Body         []byte
	Source, Type string // the "source" and "type" message attributes
}

// Harness is one adapter under test, over a fresh topic with two subscribers.
type Harness struct {
	Publisher pipeline.Publisher
	// Received returns what each of the two subscribers got so far, one slice per subscriber.
	Received func(t *testing.T) [2][]Received
	// Broken publishes to a topic that cannot take messages (closed, or not there).
	Broken pipeline.Publisher
}

// Run runs the contract against the harnesses newHarness builds, a fresh one per subtest.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("EveryMessageReachesEverySubscriber", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		msgs := []pipeline.Message{
			message("github", "push", `{"ref":"refs/heads/main"}`),
			message("stripe", "charge.succeeded", `{"id":"evt_1"}`),
			message("intdash", "measurement.finished", `{"resource_type":"measurement","action":"finished"}`),
		}
		for _, m := range msgs {
			if err := h.Publisher.Publish(testctx.New(t), m); err != nil {
				t.Fatalf("Publish %s: %v", m.ID, err)
			}
		}
		for i, got := range h.Received(t) {
			if len(got) != len(msgs) {
				t.Errorf("subscriber %d got %d messages, want %d", i, len(got), len(msgs))
				continue
			}
			for _, m := range msgs {
				j := slices.IndexFunc(got, func(r Received) bool { return bytes.Equal(r.Body, m.Body) })
				if j < 0 {
					t.Errorf("subscriber %d never got %s", i, m.Body)
				} else if got[j].Source != m.Source || got[j].Type != m.Type {
					t.Errorf("subscriber %d got %s with source %q, type %q; want %q, %q", i, m.Body, got[j].Source, got[j].Type, m.Source, m.Type)
				}
			}
		}
	})
	t.Run("LargestMessageArrivesIntact", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		m := message("github", "push", "")
		// A JSON body that brings the message to exactly the bus's limit, escapes and
		// non-ASCII text included: the bytes must arrive as they left.
		head, tail := `{"text":"Grüße \u00e9 \"quoted\" <tag> & ✓","pad":"`, `"}`
		m.Body = []byte(head + tail)
		m.Body = []byte(head + strings.Repeat("x", pipeline.MaxMessageBytes-m.Size()) + tail)
		if err := h.Publisher.Publish(testctx.New(t), m); err != nil {
			t.Fatalf("Publish of a %d-byte message (the limit): %v", m.Size(), err)
		}
		for i, got := range h.Received(t) {
			if len(got) != 1 || !bytes.Equal(got[0].Body, m.Body) {
				t.Errorf("subscriber %d: %d messages; the body did not arrive byte for byte", i, len(got))
			}
		}
	})
	t.Run("FailureIsAnError", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		// Ingest answers 202 only after Publish returned nil: a lost message must be an error.
		if err := h.Broken.Publish(testctx.New(t), message("github", "push", `{}`)); err == nil {
			t.Fatal("Publish to a broken topic returned nil")
		}
	})
}

var seq atomic.Int64 // distinct message ids across parallel subtests

func message(source, typ, body string) pipeline.Message {
	id := fmt.Sprintf("0193a1b2-0000-7000-8000-%012d", seq.Add(1))
	return pipeline.Message{ID: id, Source: source, Type: typ, Body: []byte(body)}
}
