package pipeline

import (
	"context"
	"errors"
	"time"

	"hookline/pkg/event"
)

// ErrNotFound is returned (wrapped) by history stores when no event has the id.
var ErrNotFound = errors.New("event not found")

// Query selects events from the history, newest first. Zero values mean "any".
type Query struct {
	Source string
	Type   string
	Since  time.Time // received at or after
	Until  time.Time // received before
	Limit  int       // page size; 0 means DefaultLimit, capped at MaxLimit
	Cursor string    // opaque, from a previous Page
}

// Page limits.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Page is one page of a history query. Cursor is empty on the last page.
type Page struct {
	Records []*event.Record
	Cursor  string
}

// History reads stored events. Implementations answer every Query with index lookups, never a
// scan of the whole table, and return records newest first by ReceivedAt (ties by id).
type History interface {
	Get(ctx context.Context, id string) (*event.Record, error)
	List(ctx context.Context, q Query) (Page, error)
}

// NotifiedMarker records that an event's completion email was sent. Marking an event that is
// already marked is not an error and keeps the first time. NotifiedAt reads the mark (zero
// while unmarked; ErrNotFound for an unknown id) with a strongly consistent read, without
// decoding the event.
type NotifiedMarker interface {
	MarkNotified(ctx context.Context, id string, at time.Time) error
	NotifiedAt(ctx context.Context, id string) (time.Time, error)
}

// Store is everything an event store adapter provides; the contract suite in storetest runs
// against each one.
type Store interface {
	EventWriter
	NotifiedMarker
	History
}

// IsNotFound reports whether err says the event does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNotFound)
}
