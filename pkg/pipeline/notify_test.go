package pipeline_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/mailertest"
)

// marks is a NotifiedMarker in memory whose calls can be made to fail.
type marks struct {
	mu      sync.Mutex
	at      map[string]time.Time // present = stored; zero = not yet notified
	readErr error                // NotifiedAt fails with it
	markErr error                // MarkNotified fails with it, without marking
	marked  int                  // MarkNotified calls
}

func (m *marks) NotifiedAt(_ context.Context, id string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.readErr != nil {
		return time.Time{}, m.readErr
	}
	at, ok := m.at[id]
	if !ok {
		return time.Time{}, pipeline.ErrNotFound
	}
	return at, nil
}

func (m *marks) MarkNotified(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.marked++
	if m.markErr != nil {
		return m.markErr
	}
	prev, ok := m.at[id]
	if !ok {
		return pipeline.ErrNotFound
	}
	if prev.IsZero() {
		m.at[id] = at
	}
	return nil
}

// subject composes an email naming the event, or fails with err.
type subject struct{ err error }

func (c subject) Compose(r *event.Record) (pipeline.Email, error) {
	if c.err != nil {
		return pipeline.Email{}, c.err
	}
	return pipeline.Email{EventID: r.Event.ID, Source: r.Event.Source, Type: r.Event.Type, Subject: "stored " + r.Event.ID, Text: "hello"}, nil
}

const notifyID = "0190b4c2-0000-7000-8000-00000000000a"

var markTime = time.Date(2026, 12, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600))

func notifyRecord() *event.Record {
	return &event.Record{Event: &event.Event{ID: notifyID, Source: "github", Type: "push"}}
}

func newNotify(store *marks, mb *mailertest.Recorder) *pipeline.Notify {
	return &pipeline.Notify{Store: store, Composer: subject{}, Mailer: mb, Now: func() time.Time { return markTime }}
}

func TestNotifySendsOnceAndMarks(t *testing.T) {
	t.Parallel()
	store := &marks{at: map[string]time.Time{notifyID: {}}}
	mb := &mailertest.Recorder{}
	n := newNotify(store, mb)
	res, err := n.Notify(context.Background(), notifyRecord())
	if err != nil || res.ID != notifyID || res.Skipped {
		t.Fatalf("Notify = %+v, %v; want sent", res, err)
	}
	if mb.Len() != 1 || mb.All()[0].EventID != notifyID || mb.All()[0].Source != "github" || mb.All()[0].Type != "push" {
		t.Fatalf("mailer got %+v, want one email for the event", mb.All())
	}
	if got := store.at[notifyID]; !got.Equal(markTime) || got.Location() != time.UTC {
		t.Errorf("marked at %v, want the clock's time in UTC", got)
	}
	// A redelivered stream record finds the mark and sends nothing.
	res, err = n.Notify(context.Background(), notifyRecord())
	if err != nil || !res.Skipped || res.ID != notifyID {
		t.Fatalf("second Notify = %+v, %v; want skipped", res, err)
	}
	if mb.Len() != 1 {
		t.Errorf("mailer sent %d emails after a redelivery, want 1", mb.Len())
	}
}

// TestNotifyMarkFailsAfterSend is the crash window the design documents: the email went out,
// the mark did not stick. The record must be reported failed (so it is retried, not lost), the
// mailer must have been handed exactly one email, and the redelivery sends at most once more.
func TestNotifyMarkFailsAfterSend(t *testing.T) {
	t.Parallel()
	store := &marks{at: map[string]time.Time{notifyID: {}}, markErr: errors.New("conditional update timed out")}
	mb := &mailertest.Recorder{}
	n := newNotify(store, mb)
	_, err := n.Notify(context.Background(), notifyRecord())
	if err == nil {
		t.Fatal("Notify succeeded although MarkNotified failed: the record would never be retried")
	}
	if !errors.Is(err, store.markErr) || pipeline.KindOf(err) != pipeline.KindInternal {
		t.Errorf("error %v: want the mark's cause, kind internal", err)
	}
	if mb.Len() != 1 {
		t.Fatalf("mailer sent %d emails before the mark failed, want exactly 1", mb.Len())
	}
	// Redelivery with the store back: one more send (the documented at-least-once), then marked.
	store.markErr = nil
	if res, err := n.Notify(context.Background(), notifyRecord()); err != nil || res.Skipped {
		t.Fatalf("redelivery = %+v, %v; want sent and marked", res, err)
	}
	if mb.Len() != 2 {
		t.Fatalf("mailer sent %d emails in all, want at most one more than the first (2)", mb.Len())
	}
	// And never again.
	if res, err := n.Notify(context.Background(), notifyRecord()); err != nil || !res.Skipped || mb.Len() != 2 {
		t.Fatalf("third delivery = %+v, %v, %d emails; want skipped with 2 emails", res, err, mb.Len())
	}
}

func TestNotifyFailures(t *testing.T) {
	t.Parallel()
	readErr := errors.New("read throttled")
	sendErr := errors.New("smtp 451")
	tests := []struct {
		name      string
		store     *marks
		composer  subject
		mailErr   error
		wantErr   error
		wantKind  pipeline.Kind
		wantSent  int
		wantMarks int
	}{
		{"read fails: no email", &marks{at: map[string]time.Time{notifyID: {}}, readErr: readErr}, subject{}, nil, readErr, pipeline.KindInternal, 0, 0},
		{"compose fails: invalid, no email", &marks{at: map[string]time.Time{notifyID: {}}}, subject{err: errors.New("template")}, nil, nil, pipeline.KindInvalid, 0, 0},
		{"send fails: not marked", &marks{at: map[string]time.Time{notifyID: {}}}, subject{}, sendErr, sendErr, pipeline.KindInternal, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mb := &mailertest.Recorder{}
			mb.Fail(tt.mailErr)
			n := &pipeline.Notify{Store: tt.store, Composer: tt.composer, Mailer: mb}
			res, err := n.Notify(context.Background(), notifyRecord())
			if err == nil || res.ID != notifyID || res.Skipped {
				t.Fatalf("Notify = %+v, %v; want a failure for the event", res, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tt.wantErr)
			}
			if k := pipeline.KindOf(err); k != tt.wantKind {
				t.Errorf("kind %v, want %v", k, tt.wantKind)
			}
			if mb.Len() != tt.wantSent || tt.store.marked != tt.wantMarks {
				t.Errorf("sent %d, marks %d; want %d, %d", mb.Len(), tt.store.marked, tt.wantSent, tt.wantMarks)
			}
		})
	}
}

// A stream image outlives its item (deleted, expired): the email still goes out, and the
// missing item is no reason to retry.
func TestNotifyItemGone(t *testing.T) {
	t.Parallel()
	store := &marks{at: map[string]time.Time{}}
	mb := &mailertest.Recorder{}
	before := time.Now()
	n := &pipeline.Notify{Store: store, Composer: subject{}, Mailer: mb} // Now nil: the real clock
	res, err := n.Notify(context.Background(), notifyRecord())
	if err != nil || res.Skipped || mb.Len() != 1 || store.marked != 1 {
		t.Fatalf("Notify = %+v, %v; sent %d, marks %d; want one email and one mark attempt", res, err, mb.Len(), store.marked)
	}
	// The real clock marks (checked with an item present).
	store.at[notifyID] = time.Time{}
	if _, err := (&pipeline.Notify{Store: store, Composer: subject{}, Mailer: mb}).Notify(context.Background(), notifyRecord()); err != nil {
		t.Fatal(err)
	}
	if at := store.at[notifyID]; at.Before(before.Round(0)) || at.Location() != time.UTC {
		t.Errorf("marked at %v with the real clock, want now in UTC", at)
	}
}
