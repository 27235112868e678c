package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hookline/pkg/emailpolicy"
	"hookline/pkg/event"
)

// Email is a completion email, ready to send. Source and Type travel as attributes so email
// subscriptions can filter (SNS filter policies) without parsing the text.
type Email struct {
	EventID string
	Source  string
	Type    string
	Subject string // ASCII, one line, under 100 characters (SNS's rules)
	Text    string
}

// Mailer sends a completion email.
type Mailer interface {
	Send(ctx context.Context, m Email) error
}

// Composer renders the completion email of a record.
type Composer interface {
	Compose(r *event.Record) (Email, error)
}

// Notified is the outcome of notifying one event.
type Notified struct {
	ID      string
	Skipped bool // already notified by an earlier delivery of the same stream record
	// NoEmail: the email policy gives the event no email (it is not marked notified).
	NoEmail bool
	// Digest is when the event's digest email is due, when the policy digests its source.
	Digest time.Time
}

// Notify is the notifier's service: one stored event → one completion email → marked notified,
// or, as the email policy says, no email or a place in its source's next digest.
type Notify struct {
	Store    NotifiedMarker // whether an event was already emailed, and marking it
	Composer Composer
	Mailer   Mailer
	Now      func() time.Time // nil means time.Now
	// Policy says what an event of a source and type gets (emailpolicy.Policy.Decide); nil
	// emails every event.
	Policy func(source, typ string) (emailpolicy.Mode, time.Duration)
	// Digests keeps the events that wait for a digest; needed when Policy digests.
	Digests DigestStore
}

// Notify sends r's completion email unless an earlier attempt already did, then marks the
// event notified. Stream records are delivered at least once; checking notified_at first makes
// a redelivery send nothing. (A crash between Send and MarkNotified can still send twice: the
// email is at-least-once by design, never lost.)
func (s *Notify) Notify(ctx context.Context, r *event.Record) (Notified, error) {
	id := r.Event.ID
	mode, every := emailpolicy.Immediate, time.Duration(0)
	if s.Policy != nil {
		mode, every = s.Policy(r.Event.Source, r.Event.Type)
	}
	if mode == emailpolicy.None {
		return Notified{ID: id, NoEmail: true}, nil
	}
	// The stream image is the record as inserted, so it is what the email reports; the store
	// only has to say whether an earlier delivery already sent it. A missing item was deleted
	// or expired since its INSERT: the email still reports what arrived.
	at, err := s.Store.NotifiedAt(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return Notified{ID: id}, fmt.Errorf("read event %s: %w", id, err)
	case !at.IsZero():
		return Notified{ID: id, Skipped: true}, nil
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if mode == emailpolicy.Digested {
		due, err := s.addToDigest(ctx, r.Event.Source, id, now(), every)
		if err != nil {
			return Notified{ID: id}, err
		}
		return Notified{ID: id, Digest: due}, nil
	}
	m, err := s.Composer.Compose(r)
	if err != nil {
		return Notified{ID: id}, &Error{Kind: KindInvalid, Detail: "cannot compose the email", Err: fmt.Errorf("compose email for %s: %w", id, err)}
	}
	if err := s.Mailer.Send(ctx, m); err != nil {
		return Notified{ID: id}, fmt.Errorf("send email for %s: %w", id, err)
	}
	if err := s.Store.MarkNotified(ctx, id, now().UTC()); err != nil && !errors.Is(err, ErrNotFound) {
		return Notified{ID: id}, fmt.Errorf("mark event %s notified: %w", id, err)
	}
	return Notified{ID: id}, nil
}

// addToDigest lists id in the digest its source's interval puts now in. A digest already taken
// for sending (a record that waited long) moves the event to the next one.
func (s *Notify) addToDigest(ctx context.Context, source, id string, now time.Time, every time.Duration) (time.Time, error) {
	if s.Digests == nil {
		return time.Time{}, fmt.Errorf("digest event %s: the email policy digests %s but the notifier has no digest store", id, source)
	}
	due := DigestDue(now, every)
	for range 3 {
		err := s.Digests.AddToDigest(ctx, source, due, id)
		if !errors.Is(err, ErrDigestTaken) {
			if err != nil {
				return time.Time{}, fmt.Errorf("digest event %s: %w", id, err)
			}
			return due, nil
		}
		due = due.Add(every)
	}
	return time.Time{}, fmt.Errorf("digest event %s: three digests of %s in a row were already taken", id, source)
}
