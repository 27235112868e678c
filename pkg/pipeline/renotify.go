package pipeline

import (
	"context"
	"fmt"
	"time"

	"hookline/pkg/event"
)

// Renotifier sends the completion emails the notifier did not: for stored events whose
// notified_at is empty (the stream gave up on them, the mailer was down) and for one chosen
// event. It sends through the notifier's own service, so the mark decides: an event already
// notified is skipped, and one sent here is marked as the notifier would.
type Renotifier struct {
	History History // where pending events are found (index queries over a time window)
	Notify  *Notify
	Now     func() time.Time // nil means time.Now
}

// RenotifyResult says what a pass did.
type RenotifyResult struct {
	Pending int      // events found without their email
	Sent    int      // emails sent now
	Skipped int      // marked meanwhile (the notifier got there first)
	Failed  []string // ids whose email failed again
}

// PendingLister lists every stored event still without its email, stored before a time,
// oldest first, from an index of its own (the local engine has one: events_pending). A
// History that is one lets Pending find them all, whenever they arrived.
type PendingLister interface {
	Pending(ctx context.Context, storedBefore time.Time, max int) ([]*event.Record, error)
}

// Pending emails every event that is still not notified and was stored before olderThan ago
// (younger ones are left to the notifier, which is probably on them): all of them when
// History is a PendingLister, else those received in q's window (q.Since, q.Until; q.Source
// and q.Type narrow it), read from the history's indexes. report is called per event.
func (r *Renotifier) Pending(ctx context.Context, q Query, olderThan time.Duration, report func(id string, sent bool, err error)) (RenotifyResult, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	cutoff := now().Add(-olderThan)
	var res RenotifyResult
	var pending []*event.Record
	if pl, ok := r.History.(PendingLister); ok {
		recs, err := pl.Pending(ctx, cutoff, 0)
		if err != nil {
			return res, err
		}
		for i := len(recs) - 1; i >= 0; i-- { // newest first, like a history page
			rec := recs[i]
			if (q.Source == "" || rec.Event.Source == q.Source) && (q.Type == "" || rec.Event.Type == q.Type) {
				pending = append(pending, rec)
			}
		}
		return r.send(ctx, pending, report)
	}
	err := WalkEvents(ctx, r.History, q, 0, func(rec *event.Record) error {
		if rec.NotifiedAt.IsZero() && rec.StoredAt.Before(cutoff) {
			pending = append(pending, rec)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	return r.send(ctx, pending, report)
}

// send emails pending (newest first) oldest first.
func (r *Renotifier) send(ctx context.Context, pending []*event.Record, report func(id string, sent bool, err error)) (RenotifyResult, error) {
	var res RenotifyResult
	res.Pending = len(pending)
	for i := len(pending) - 1; i >= 0; i-- { // oldest first
		if err := ctx.Err(); err != nil {
			return res, err
		}
		rec := pending[i]
		n, err := r.Notify.Notify(ctx, rec)
		switch {
		case err != nil:
			res.Failed = append(res.Failed, rec.Event.ID)
		case n.Skipped:
			res.Skipped++
		default:
			res.Sent++
		}
		if report != nil {
			report(rec.Event.ID, err == nil && !n.Skipped, err)
		}
	}
	return res, nil
}

// Resend emails the event id unless it is already notified (then it returns its notified
// time and sends nothing). force sends even then (an email SNS could not deliver to the inbox,
// a lost one) and keeps the first notified time.
func (r *Renotifier) Resend(ctx context.Context, id string, force bool) (notifiedBefore time.Time, err error) {
	rec, err := r.History.Get(ctx, id)
	if err != nil {
		if IsNotFound(err) {
			return time.Time{}, Errorf(KindNotFound, "no event with id %q", id)
		}
		return time.Time{}, err
	}
	if force && !rec.NotifiedAt.IsZero() {
		m, err := r.Notify.Composer.Compose(rec)
		if err != nil {
			return time.Time{}, fmt.Errorf("compose email for %s: %w", id, err)
		}
		if err := r.Notify.Mailer.Send(ctx, m); err != nil {
			return time.Time{}, fmt.Errorf("send email for %s: %w", id, err)
		}
		return time.Time{}, nil
	}
	if !rec.NotifiedAt.IsZero() {
		return rec.NotifiedAt, nil
	}
	n, err := r.Notify.Notify(ctx, rec)
	if err != nil {
		return time.Time{}, err
	}
	if n.Skipped {
		at, err := r.Notify.Store.NotifiedAt(ctx, id)
		return at, err
	}
	return time.Time{}, nil
}
