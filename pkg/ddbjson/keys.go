package ddbjson

import (
	"fmt"
	"strings"
	"time"

	"hookline/pkg/event"
)

// The history index's keys and the control items' prefix, for the adapters without the SDK
// (ddbhistory's cursor and key range); ddbitem's FormatTime, ReceivedKey, ParseReceivedKey,
// SourceGroup, ControlPrefix and IsControl are these.

// FormatTime formats t in UTC with TimeFormat.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeFormat)
}

// ReceivedKey is the sort key of the history index: the receive time, then the id, so events
// received in the same nanosecond still have distinct, totally ordered keys.
func ReceivedKey(receivedAt time.Time, id string) string {
	return FormatTime(receivedAt) + "#" + id
}

// SourceGroup is the history index's partition key of an event: its source and its type group
// (event.TypeGroup), "github#issues" for an issues.opened from github. Source names cannot
// contain '#' (source.ValidName), so the first '#' splits it back.
func SourceGroup(source, typ string) string {
	return source + "#" + event.TypeGroup(typ)
}

// ParseReceivedKey splits a ReceivedKey back into its time and id.
func ParseReceivedKey(key string) (time.Time, string, error) {
	ts, id, ok := strings.Cut(key, "#")
	if !ok || id == "" {
		return time.Time{}, "", fmt.Errorf("received key %q: want <time>#<id>", key)
	}
	t, err := time.Parse(TimeFormat, ts)
	if err != nil || FormatTime(t) != ts {
		return time.Time{}, "", fmt.Errorf("received key %q: time is not in the fixed format", key)
	}
	return t, id, nil
}

// ControlPrefix starts the id of every item in the events table that is not an event (the
// history index's registry of partitions, the digests). Event ids are UUIDs, so none starts
// with it; the stores refuse to store an event whose id does.
const ControlPrefix = "~"

// IsControl reports whether id names a control item rather than an event.
func IsControl(id string) bool { return strings.HasPrefix(id, ControlPrefix) }
