package pipeline

import (
	"context"
	"fmt"

	"hookline/pkg/event"
)

// WalkEvents calls fn for up to limit records q selects (limit <= 0: all of them), newest
// first, following cursors page by page; q.Limit and q.Cursor are managed here.
func WalkEvents(ctx context.Context, h History, q Query, limit int, fn func(*event.Record) error) error {
	return walkPages("list events", limit, func(cursor string, n int) ([]*event.Record, string, error) {
		q.Cursor, q.Limit = cursor, n
		page, err := h.List(ctx, q)
		return page.Records, page.Cursor, err
	}, fn)
}

// WalkRejections calls fn for up to limit rejections q selects (limit <= 0: all of them),
// newest first, following cursors as WalkEvents does.
func WalkRejections(ctx context.Context, s RejectedStore, q RejectedQuery, limit int, fn func(*Rejection) error) error {
	return walkPages("list rejections", limit, func(cursor string, n int) ([]*Rejection, string, error) {
		q.Cursor, q.Limit = cursor, n
		page, err := s.List(ctx, q)
		return page.Rejections, page.Cursor, err
	}, fn)
}

// walkPages calls fn for up to limit items (limit <= 0: all), reading pages of at most
// MaxLimit with list: the page at cursor ("" = the first) of at most n items, and the cursor
// of the page after it ("" after the last); what names the listing in its error.
func walkPages[T any](what string, limit int, list func(cursor string, n int) ([]T, string, error), fn func(T) error) error {
	cursor := ""
	for left := limit; ; {
		n := MaxLimit
		if limit > 0 {
			n = min(left, MaxLimit)
		}
		items, next, err := list(cursor, n)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for _, v := range items {
			if err := fn(v); err != nil {
				return err
			}
			if left--; limit > 0 && left == 0 {
				return nil
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}
