package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"hookline/pkg/event"
)

// ErrDigestTaken is what AddToDigest returns for a digest already taken for sending.
var ErrDigestTaken = errors.New("digest already taken")

// DigestStore keeps the events that wait for their source's next digest email. A digest is
// named by its source and when it is due; it is open until taken.
type DigestStore interface {
	// AddToDigest lists id in the digest of source due at due; ErrDigestTaken when that
	// digest was already taken (the caller adds to the next one).
	AddToDigest(ctx context.Context, source string, due time.Time, id string) error
	// TakeDigest closes the digest (later adds fail) and returns its ids, nil when it holds
	// none or was done. Until DoneDigest, taking it again returns the same ids: a send that
	// failed is retried.
	TakeDigest(ctx context.Context, source string, due time.Time) ([]string, error)
	// DoneDigest records that the digest's email went out.
	DoneDigest(ctx context.Context, source string, due time.Time) error
}

// DigestComposer renders a digest: the events of one source gathered until due.
type DigestComposer interface {
	ComposeDigest(source string, due time.Time, every time.Duration, rs []*event.Record) (Email, error)
}

// DigestDue is when the digest that an event noticed at now joins is due: the end of the
// every-long interval (aligned to the epoch, so UTC minutes and hours) that holds now.
func DigestDue(now time.Time, every time.Duration) time.Time {
	return now.UTC().Truncate(every).Add(every)
}

// Digest defaults.
const (
	// A digest is taken this long after it is due, so the adds of records the notifier was
	// handling when it became due land first.
	DefaultDigestGrace = 30 * time.Second
	// Flush looks this far back for digests not yet sent (a flush that failed, a notifier that
	// was down), so a restart still sends them. A new process takes every digest in it once
	// (4 writes each on DynamoDB: 240 for a 1-minute digest), so it stays short; the stream
	// itself gives up on records after an hour (wiring.NotifierMaxRecordAge).
	DefaultDigestLookback = time.Hour
)

// Digest sends the digests that are due: for each source in digest mode, one email listing the
// events gathered in an interval, then marks each event notified. It runs on a schedule (every
// minute: the notifier's scheduled invocation on AWS, a ticker locally).
type Digest struct {
	Every  map[string]time.Duration // source → interval (emailpolicy.Policy.Digests)
	Store  DigestStore
	Events interface {
		Get(context.Context, string) (*event.Record, error)
	}
	Marker   NotifiedMarker
	Composer DigestComposer
	Mailer   Mailer
	Now      func() time.Time // nil means time.Now
	Grace    time.Duration    // 0 means DefaultDigestGrace
	Lookback time.Duration    // 0 means DefaultDigestLookback

	done map[string]time.Time // per source, the latest due this Digest finished
}

// Flush sends every digest due by now minus the grace that is not done, oldest first per
// source, and returns how many emails it sent. It stops at the first failure: the digest stays
// taken and not done, and the next Flush sends it.
func (d *Digest) Flush(ctx context.Context) (int, error) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	grace, lookback := d.Grace, d.Lookback
	if grace <= 0 {
		grace = DefaultDigestGrace
	}
	if lookback <= 0 {
		lookback = DefaultDigestLookback
	}
	if d.done == nil {
		d.done = map[string]time.Time{}
	}
	t := now().UTC()
	sources := make([]string, 0, len(d.Every))
	for s := range d.Every {
		sources = append(sources, s)
	}
	slices.Sort(sources)
	sent := 0
	for _, source := range sources {
		every := d.Every[source]
		due := DigestDue(t.Add(-lookback), every)
		if last, ok := d.done[source]; ok && !last.Before(due) {
			due = last.Add(every)
		}
		for ; !due.After(t.Add(-grace)); due = due.Add(every) {
			ok, err := d.send(ctx, source, due, every, t)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
			d.done[source] = due
		}
	}
	return sent, nil
}

// send takes one digest and, when it lists events, emails and marks them.
func (d *Digest) send(ctx context.Context, source string, due time.Time, every time.Duration, now time.Time) (bool, error) {
	ids, err := d.Store.TakeDigest(ctx, source, due)
	if err != nil {
		return false, fmt.Errorf("take the %s digest due %s: %w", source, due.Format(time.RFC3339), err)
	}
	if len(ids) == 0 {
		return false, nil
	}
	rs := make([]*event.Record, 0, len(ids))
	for _, id := range ids {
		r, err := d.Events.Get(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			continue // expired or deleted meanwhile
		case err != nil:
			return false, fmt.Errorf("read event %s for the %s digest: %w", id, source, err)
		}
		rs = append(rs, r)
	}
	if len(rs) > 0 {
		m, err := d.Composer.ComposeDigest(source, due, every, rs)
		if err != nil {
			return false, fmt.Errorf("compose the %s digest: %w", source, err)
		}
		if err := d.Mailer.Send(ctx, m); err != nil {
			return false, fmt.Errorf("send the %s digest due %s: %w", source, due.Format(time.RFC3339), err)
		}
		for _, r := range rs {
			if err := d.Marker.MarkNotified(ctx, r.Event.ID, now); err != nil && !errors.Is(err, ErrNotFound) {
				return false, fmt.Errorf("mark event %s notified: %w", r.Event.ID, err)
			}
		}
	}
	if err := d.Store.DoneDigest(ctx, source, due); err != nil {
		return false, fmt.Errorf("finish the %s digest due %s: %w", source, due.Format(time.RFC3339), err)
	}
	return len(rs) > 0, nil
}
