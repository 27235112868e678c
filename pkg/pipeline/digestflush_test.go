package pipeline_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/digesttest"
	"hookline/pkg/pipeline/mailertest"
)

// digestEvents is the event store of TestDigestFlushWindow: every id is an event, except
// those of the 11:20 digest, gone (expired) meanwhile.
type digestEvents struct{}

func (digestEvents) Get(_ context.Context, id string) (*event.Record, error) {
	if id == "e-11:20" {
		return nil, pipeline.ErrNotFound
	}
	return &event.Record{Event: &event.Event{ID: id, Source: "s", Type: "t"}}, nil
}

// digestMarks records what was marked notified.
type digestMarks struct{ ids []string }

func (m *digestMarks) MarkNotified(_ context.Context, id string, _ time.Time) error {
	m.ids = append(m.ids, id)
	return nil
}
func (m *digestMarks) NotifiedAt(context.Context, string) (time.Time, error) {
	return time.Time{}, nil
}

// digestComposer names the digest by its due time.
type digestComposer struct{}

func (digestComposer) ComposeDigest(source string, due time.Time, _ time.Duration, rs []*event.Record) (pipeline.Email, error) {
	return pipeline.Email{Source: source, Subject: due.Format("15:04"), Text: rs[0].Event.ID}, nil
}

// TestDigestFlushWindow: Flush sends the digests due from the lookback up to now minus the
// grace — the defaults when those are 0 — and counts the emails it sent (none for a digest
// whose events are all gone).
func TestDigestFlushWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	every := 10 * time.Minute
	for _, tc := range []struct {
		name            string
		grace, lookback time.Duration
		want            []string // the due times of the digests sent, in order
	}{
		// Default lookback 1 h: the first due after 11:00 is 11:10; default grace 30 s: 12:00 waits.
		{"defaults", 0, 0, []string{"11:10", "11:50"}},
		{"lookback 15m", 0, 15 * time.Minute, []string{"11:50"}},
		{"grace over 10m", every + time.Nanosecond, 0, []string{"11:10"}},
	} {
		store := &digesttest.Memory{}
		ctx := context.Background()
		for _, due := range []string{"11:00", "11:10", "11:20", "11:50", "12:00"} {
			at, _ := time.Parse("15:04", due)
			d := time.Date(2026, 12, 1, at.Hour(), at.Minute(), 0, 0, time.UTC)
			if err := store.AddToDigest(ctx, "s", d, "e-"+due); err != nil {
				t.Fatal(err)
			}
		}
		mail, marks := &mailertest.Recorder{}, &digestMarks{}
		d := &pipeline.Digest{Every: map[string]time.Duration{"s": every}, Store: store, Events: digestEvents{},
			Marker: marks, Composer: digestComposer{}, Mailer: mail, Now: func() time.Time { return now },
			Grace: tc.grace, Lookback: tc.lookback}
		sent, err := d.Flush(ctx)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got, marked []string
		for _, m := range mail.All() {
			got = append(got, m.Subject)
			marked = append(marked, "e-"+m.Subject)
		}
		if sent != len(tc.want) || !slices.Equal(got, tc.want) || !slices.Equal(marks.ids, marked) {
			t.Errorf("%s: Flush sent %d %v, marked %v; want %v, each marked", tc.name, sent, got, marks.ids, tc.want)
		}
	}
}
