// Package envconf reads a Lambda function's configuration from its environment once, at cold
// start, with errors that name the variable. Each function's main collects every problem so a
// misconfigured deploy fails with the whole list, not one variable at a time.
package envconf

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Reader reads variables through getenv and remembers every problem.
type Reader struct {
	getenv func(string) string
	errs   []error
}

// New returns a Reader over getenv (os.Getenv in mains, a map in tests).
func New(getenv func(string) string) *Reader { return &Reader{getenv: getenv} }

// Required returns the variable's value; empty is an error.
func (r *Reader) Required(name string) string {
	v := r.getenv(name)
	if v == "" {
		r.errs = append(r.errs, fmt.Errorf("%s: required but not set", name))
	}
	return v
}

// String returns the variable or def when it is unset.
func (r *Reader) String(name, def string) string {
	if v := r.getenv(name); v != "" {
		return v
	}
	return def
}

// Duration returns the variable as a positive Go duration ("90s", "2160h"), or def.
func (r *Reader) Duration(name string, def time.Duration) time.Duration {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.errs = append(r.errs, fmt.Errorf("%s: %q is not a positive duration such as \"5m\"", name, v))
		return def
	}
	return d
}

// Int returns the variable as an integer in [min, max], or def.
func (r *Reader) Int(name string, def, min, max int) int {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		r.errs = append(r.errs, fmt.Errorf("%s: %q is not a whole number from %d to %d", name, v, min, max))
		return def
	}
	return n
}

// Err returns every problem found, joined, or nil.
func (r *Reader) Err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %w", errors.Join(r.errs...))
}
