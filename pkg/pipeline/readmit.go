package pipeline

import (
	"context"
	"fmt"
	"time"
)

// Readmitter turns kept rejections into events where the current sources config now accepts
// them (a secret added, an allowlist widened, a source created): re-verified as of the time
// the request arrived and published exactly as ingest would, so the event gets the id it would
// have got then and a second readmit publishes nothing.
type Readmitter struct {
	Ingest *Ingest // Sources: the config as it is now; Publisher: the events topic
	Store  RejectedStore
	Opener Opener
	Now    func() time.Time // nil means time.Now
}

// Readmission is the outcome for one rejection.
type Readmission struct {
	Rejection *Rejection
	EventID   string // the event it was published as (now or by an earlier readmit)
	Already   bool   // an earlier readmit published it; nothing was published now
}

// Readmit readmits the rejection id. An error with a kind says why it still fails (the
// client-safe detail names the cause: still unauthorized, the body was cut, ...).
func (r *Readmitter) Readmit(ctx context.Context, id string) (Readmission, error) {
	rej, err := r.Store.Get(ctx, id)
	if err != nil {
		if IsNotFound(err) {
			return Readmission{}, Errorf(KindNotFound, "no kept rejection with id %q (kept %v)", id, KeptFor)
		}
		return Readmission{}, err
	}
	return r.readmit(ctx, rej)
}

func (r *Readmitter) readmit(ctx context.Context, rej *Rejection) (Readmission, error) {
	out := Readmission{Rejection: rej, EventID: rej.EventID}
	if !rej.ReadmittedAt.IsZero() {
		out.Already = true
		return out, nil
	}
	headers, err := Unredact(ctx, rej, r.Opener)
	if err != nil {
		return out, err
	}
	req, err := RequestOf(rej, headers)
	if err != nil {
		return out, err
	}
	acc, err := r.Ingest.Readmit(ctx, req, rej.ReceivedAt)
	if err != nil {
		return out, err
	}
	if acc.Reply != nil {
		return out, Errorf(KindInvalid, "rejection %s is a handshake; there is nothing to publish", rej.ID)
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	out.EventID = acc.ID
	// Published first, marked after: a crash in between readmits again, which the event id
	// makes harmless (the subscriber stores a duplicate as nothing) for every source whose ids
	// come from the request; only dedup "none" sources would get a second event.
	if err := r.Store.MarkReadmitted(ctx, rej.ID, acc.ID, now().UTC()); err != nil {
		return out, fmt.Errorf("readmitted %s as event %s, but: %w", rej.ID, acc.ID, err)
	}
	return out, nil
}

// ReadmitAll readmits every kept rejection matching q, oldest first, calling report for each
// (err is its own outcome). It stops early only when listing fails or ctx ends.
func (r *Readmitter) ReadmitAll(ctx context.Context, q RejectedQuery, report func(Readmission, error)) error {
	var all []*Rejection
	err := WalkRejections(ctx, r.Store, q, 0, func(rj *Rejection) error {
		all = append(all, rj)
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(all) - 1; i >= 0; i-- { // oldest first, as they arrived
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := r.readmit(ctx, all[i])
		report(res, err)
	}
	return nil
}
