package pipeline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// writer is an EventWriter in memory that can be made to fail.
type writer struct {
	got map[string]*event.Record
	err error
}

func (w *writer) PutNew(_ context.Context, r *event.Record) (bool, error) {
	if w.err != nil {
		return false, w.err
	}
	if _, ok := w.got[r.Event.ID]; ok {
		return false, nil
	}
	w.got[r.Event.ID] = r
	return true, nil
}

func envelope(t *testing.T) []byte {
	t.Helper()
	e := &event.Event{ID: event.DeliveryID("github", "d"), Source: "github", Type: "push", Time: received, ReceivedAt: received}
	if err := e.SetData("application/json", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	return e.Marshal()
}

func TestRecordStoresOnce(t *testing.T) {
	t.Parallel()
	w := &writer{got: map[string]*event.Record{}}
	storedAt := received.Add(time.Second).In(time.FixedZone("CET", 3600))
	s := &pipeline.Record{Events: w, Now: func() time.Time { return storedAt }}
	body := envelope(t)
	first, err := s.Store(context.Background(), body)
	want := pipeline.Stored{ID: event.DeliveryID("github", "d"), Source: "github", Type: "push", ReceivedAt: received, StoredAt: storedAt.UTC()}
	if err != nil || first != want {
		t.Fatalf("Store = %+v, %v; want %+v", first, err, want)
	}
	if r := w.got[want.ID]; r == nil || !r.StoredAt.Equal(storedAt) || r.StoredAt.Location() != time.UTC {
		t.Errorf("stored record %+v, want stored at the clock's time in UTC", r)
	}
	again, err := s.Store(context.Background(), body)
	want.Duplicate = true
	if err != nil || again != want {
		t.Errorf("redelivery = %+v, %v; want a duplicate, not an error", again, err)
	}
}

func TestRecordFailures(t *testing.T) {
	t.Parallel()
	storeErr := errors.New("throttled")
	for _, tc := range []struct {
		name   string
		body   []byte
		err    error
		kind   pipeline.Kind
		detail string
		id     bool
	}{
		{"not an envelope", []byte(`{"hello":1}`), nil, pipeline.KindInvalid, "message is not a hookline event", false},
		{"store down", nil, storeErr, pipeline.KindInternal, "", true},
	} {
		body := tc.body
		if body == nil {
			body = envelope(t)
		}
		s := &pipeline.Record{Events: &writer{got: map[string]*event.Record{}, err: tc.err}}
		res, err := s.Store(context.Background(), body)
		if pipeline.KindOf(err) != tc.kind || pipeline.DetailOf(err) != tc.detail || (res.ID != "") != tc.id {
			t.Errorf("%s: %+v, %v (kind %v); want kind %v, detail %q", tc.name, res, err, pipeline.KindOf(err), tc.kind, tc.detail)
		}
		if tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("%s: %v does not wrap the store's error", tc.name, err)
		}
	}
	// With the real clock, an envelope that decodes but is not a valid record cannot happen:
	// Decode validates. The record is still made from the clock.
	w := &writer{got: map[string]*event.Record{}}
	before := time.Now().Round(0)
	if _, err := (&pipeline.Record{Events: w}).Store(context.Background(), envelope(t)); err != nil {
		t.Fatal(err)
	}
	for _, r := range w.got {
		if r.StoredAt.Before(before.Truncate(time.Second)) {
			t.Errorf("stored at %v, before the call at %v", r.StoredAt, before)
		}
	}
}
