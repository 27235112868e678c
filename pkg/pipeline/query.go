package pipeline

import (
	"strconv"
	"strings"
	"time"
)

// ParseTimeBound reads a --since/--until or ?since=/?until= value: an RFC 3339 time, or a Go
// duration meaning that long before now ("1h", "90m"). field names the parameter in errors.
func ParseTimeBound(field, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, Errorf(KindInvalid, "%s: duration %q must not be negative", field, s)
		}
		return now.Add(-d).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, Errorf(KindInvalid, "%s: %q is neither an RFC 3339 time (2026-01-02T15:04:05Z) nor a duration (1h)", field, s)
	}
	return t.UTC(), nil
}

// ParseQuery builds a Query from string parameters as they come from a URL or flags, with
// errors that name the parameter.
func ParseQuery(get func(string) string, now time.Time) (Query, error) {
	q := Query{
		Source: strings.TrimSpace(get("source")),
		Type:   strings.TrimSpace(get("type")),
		Cursor: get("cursor"),
	}
	var err error
	if q.Since, err = ParseTimeBound("since", get("since"), now); err != nil {
		return Query{}, err
	}
	if q.Until, err = ParseTimeBound("until", get("until"), now); err != nil {
		return Query{}, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return Query{}, Errorf(KindInvalid, "since (%s) must be before until (%s)", q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339))
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return Query{}, Errorf(KindInvalid, "limit: %q is not a whole number from 1 to %d", s, MaxLimit)
		}
		q.Limit = n
	}
	return q, nil
}
