package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind classifies a failure by what the caller can do about it. pkg/problem maps each kind to
// an HTTP status in one table; nothing else decides statuses.
type Kind int

// The kinds of failure. KindInternal is the zero value so an unclassified error is never
// mistaken for the client's fault.
const (
	KindInternal         Kind = iota // our fault; the detail is never shown
	KindInvalid                      // malformed request
	KindUnauthorized                 // missing, bad or stale signature or token
	KindForbidden                    // the caller's address is not in the source's allowlist
	KindNotFound                     // unknown source or event
	KindMethodNotAllowed             // wrong HTTP method for the route
	KindTooLarge                     // body or resulting message over a limit
	KindUnsupportedMedia             // a body we will not carry
	KindThrottled                    // over a rate limit, or a downstream asked us to slow down
	KindUnavailable                  // the bus or store is down: retry later
	KindMisdirected                  // a request for another host name (hookline local's Host check)
)

// Error is a failure with a kind and a detail that is safe to show the client.
type Error struct {
	Kind   Kind
	Detail string // shown to the client for every kind but KindInternal
	Err    error  // the cause, for logs; may be nil
	// RetryAfter is when a throttled or unavailable caller may try again; zero means the
	// default the HTTP layer picks.
	RetryAfter time.Duration
	// Allow lists the methods the resource takes, for KindMethodNotAllowed ("" means POST).
	Allow string
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Detail
	}
	// The detail often is, or ends with, the cause's own text (a verifier's refusal shown to the
	// client, Errorf's %w): the log line says it once.
	if cause := e.Err.Error(); !strings.HasSuffix(e.Detail, cause) {
		return e.Detail + ": " + cause
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind whose detail is the formatted message. A %w verb also sets
// the cause, so only use it with errors whose text is safe to show.
func Errorf(kind Kind, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Kind: kind, Detail: err.Error(), Err: errors.Unwrap(err)}
}

// KindOf returns the kind of the first *Error in err's chain, KindInternal when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// RetryAfterOf returns the RetryAfter of the first *Error in err's chain, zero when none.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// DetailOf returns the client-safe detail of err: the *Error detail, or "" for internal errors
// whose text must never reach a client.
func DetailOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != KindInternal {
		return e.Detail
	}
	return ""
}

// Rejection reasons: why a webhook request was refused, as the Rejected metric's Reason
// dimension and the quarantine name them. Only refusals the caller caused have one; a bus or
// store outage (503) and internal errors are not rejections.
const (
	ReasonUnauthorized     = "unauthorized"      // 401: missing, bad or stale signature or token
	ReasonNotFound         = "not_found"         // 404: no such source
	ReasonForbidden        = "forbidden"         // 403: caller not in the source's allowlist
	ReasonTooLarge         = "too_large"         // 413
	ReasonUnsupportedMedia = "unsupported_media" // 415
	ReasonInvalid          = "invalid"           // 400 (and 405: a webhook is a POST)
	ReasonRateLimited      = "rate_limited"      // 429
)

// Reasons lists every rejection reason, in the order above.
func Reasons() []string {
	return []string{ReasonUnauthorized, ReasonNotFound, ReasonForbidden, ReasonTooLarge, ReasonUnsupportedMedia, ReasonInvalid, ReasonRateLimited}
}

// RejectReason returns the reason of a refusal the caller caused, and false for every other
// error (nil included).
func RejectReason(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	switch KindOf(err) {
	case KindUnauthorized:
		return ReasonUnauthorized, true
	case KindNotFound:
		return ReasonNotFound, true
	case KindForbidden:
		return ReasonForbidden, true
	case KindTooLarge:
		return ReasonTooLarge, true
	case KindUnsupportedMedia:
		return ReasonUnsupportedMedia, true
	case KindInvalid, KindMethodNotAllowed:
		return ReasonInvalid, true
	case KindThrottled:
		return ReasonRateLimited, true
	}
	return "", false
}
