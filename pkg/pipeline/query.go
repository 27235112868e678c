package pipeline

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"hookline/pkg/source"
)

// listParams are the query parameters GET /events (and the web view's event list) takes,
// each at most once.
var listParams = []string{"source", "type", "since", "until", "limit", "cursor"}

// CheckRawQuery refuses, by name, what ParseQuery would otherwise pass over in silence: a
// parameter GET /events does not take (a misspelt "sourse" would list everything), or one
// given more than once (API Gateway joins repeated values with a comma, so source=a&source=b
// would be the source "a,b" and match nothing). raw is the request's raw query string.
func CheckRawQuery(raw string) error { return CheckParams(raw, "the event list", listParams) }

// CheckParams is CheckRawQuery for a list that takes the parameters names; list names it in
// the error ("the rejected list").
func CheckParams(raw, list string, names []string) error {
	if raw == "" {
		return nil
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return Errorf(KindInvalid, "the query string cannot be read: %v", err)
	}
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		if !slices.Contains(names, k) {
			return Errorf(KindInvalid, "unknown query parameter %q: %s takes %s", clip(k, 64), list, strings.Join(names, ", "))
		}
		if n := len(vals[k]); n > 1 {
			return Errorf(KindInvalid, "%s: given %d times; it takes one value", k, n)
		}
	}
	return nil
}

// clip cuts s to at most n bytes, marking the cut, so an error cannot echo a huge input. It
// cuts before a UTF-8 sequence, never inside one (which %q would show as \x bytes the sender
// never sent).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return cutUTF8(s, n) + "…"
}

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
		if durationShaped(s) { // "2562048h": a duration, past the longest time.Duration
			return time.Time{}, Errorf(KindInvalid, "%s: duration %q is longer than any hookline takes (about 292 years)", field, s)
		}
		return time.Time{}, Errorf(KindInvalid, "%s: %q is neither an RFC 3339 time (2026-01-02T15:04:05Z) nor a duration (1h)", field, s)
	}
	return t.UTC(), nil
}

// durationShaped reports whether s is written as a Go duration is, whether or not it fits one:
// numbers (digits, perhaps a fraction) each followed by a unit time.ParseDuration takes. Then
// ParseDuration refused it for its size alone; "5mm" or "1.5.5h" are no durations at all.
func durationShaped(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if s == "" {
		return false
	}
	for s != "" {
		n := len(s) // the number: digits, then perhaps '.' and digits, one digit at least
		s = strings.TrimLeft(s, "0123456789")
		digits := n - len(s)
		if strings.HasPrefix(s, ".") {
			n = len(s) - 1
			s = strings.TrimLeft(s[1:], "0123456789")
			digits += n - len(s)
		}
		if digits == 0 {
			return false
		}
		unit := ""
		for _, u := range durationUnits {
			if strings.HasPrefix(s, u) {
				unit = u
				break
			}
		}
		if unit == "" {
			return false
		}
		s = s[len(unit):]
	}
	return true
}

// durationUnits are time.ParseDuration's units, each before any unit that is its prefix.
var durationUnits = []string{"ns", "us", "\u00b5s", "\u03bcs", "ms", "s", "m", "h"}

// CheckSourceFilter refuses a source filter that no event can have: events are stored under
// their configured source's name, so "GitHub" or "github,stripe" (API Gateway's join of a
// repeated parameter) would list nothing, silently. "" (no filter) is taken.
func CheckSourceFilter(s string) error {
	if s == "" || source.ValidName(s) {
		return nil
	}
	return Errorf(KindInvalid, "source: %q is not a source name (%s)", clip(s, 64), source.NameRule)
}

// ParseQuery builds a Query from string parameters as they come from a URL or flags, with
// errors that name the parameter.
func ParseQuery(get func(string) string, now time.Time) (Query, error) {
	q := Query{
		Source: strings.TrimSpace(get("source")),
		Type:   strings.TrimSpace(get("type")),
		Cursor: get("cursor"),
	}
	err := CheckSourceFilter(q.Source)
	if err != nil {
		return Query{}, err
	}
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
