package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"hookline/pkg/ddbitem"
	"hookline/pkg/pipeline"
)

// Rejected is the quarantine table: refused webhook requests, kept pipeline.KeptFor, listed
// newest first from their own indexes (never mixed into the events).
type Rejected struct {
	e *Engine
}

var _ pipeline.RejectedStore = (*Rejected)(nil)

// Rejected returns the quarantine table.
func (e *Engine) Rejected() *Rejected { return &Rejected{e: e} }

// rejectedRecord is a Rejection as the record column keeps it (the body has its own column).
type rejectedRecord struct {
	Source     string            `json:"source"`
	Reason     string            `json:"reason"`
	Detail     string            `json:"detail"`
	ReceivedAt time.Time         `json:"received_at"`
	SourceIP   string            `json:"source_ip,omitempty"`
	RawPath    string            `json:"raw_path,omitempty"`
	RawQuery   string            `json:"raw_query,omitempty"`
	Header     map[string]string `json:"header"`
	Sealed     []byte            `json:"sealed,omitempty"`
	BodySize   int               `json:"body_size"`
}

// Keep stores r until pipeline.KeptFor after it was received.
func (q *Rejected) Keep(ctx context.Context, r *pipeline.Rejection) error {
	rec, err := json.Marshal(rejectedRecord{
		Source: r.Source, Reason: r.Reason, Detail: r.Detail, ReceivedAt: r.ReceivedAt.UTC(), SourceIP: r.SourceIP,
		RawPath: r.RawPath, RawQuery: r.RawQuery, Header: r.Header, Sealed: r.Sealed, BodySize: r.BodySize,
	})
	if err != nil {
		return fmt.Errorf("keep rejection %s: %w", r.ID, err)
	}
	body := r.Body
	if body == nil {
		body = []byte{}
	}
	err = q.e.write(ctx, func(w *wtx) error {
		_, err := w.Exec(`INSERT INTO rejected (id, source, reason, received_key, record, body, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Source, r.Reason, ddbitem.ReceivedKey(r.ReceivedAt, r.ID), string(rec), body, r.ReceivedAt.Add(pipeline.KeptFor).Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("keep rejection %s: %w", r.ID, err)
	}
	return nil
}

const rejectedColumns = `id, record, body, readmitted_at, event_id, received_key`

func scanRejection(sc interface{ Scan(...any) error }) (*pipeline.Rejection, string, error) {
	var (
		id, rec, key string
		body         []byte
		readmitted   sql.NullInt64
		eventID      sql.NullString
	)
	if err := sc.Scan(&id, &rec, &body, &readmitted, &eventID, &key); err != nil {
		return nil, "", err
	}
	var r rejectedRecord
	if err := json.Unmarshal([]byte(rec), &r); err != nil {
		return nil, "", fmt.Errorf("rejection %s: %w", id, err)
	}
	out := &pipeline.Rejection{
		ID: id, Source: r.Source, Reason: r.Reason, Detail: r.Detail, ReceivedAt: r.ReceivedAt, SourceIP: r.SourceIP,
		RawPath: r.RawPath, RawQuery: r.RawQuery, Header: r.Header, Sealed: r.Sealed, Body: body, BodySize: r.BodySize,
		EventID: eventID.String,
	}
	if readmitted.Valid {
		out.ReadmittedAt = time.Unix(0, readmitted.Int64).UTC()
	}
	return out, key, nil
}

// Get returns the kept rejection id, or an error wrapping pipeline.ErrNotFound.
func (q *Rejected) Get(ctx context.Context, id string) (*pipeline.Rejection, error) {
	r, _, err := scanRejection(q.e.rdb.QueryRowContext(ctx, `SELECT `+rejectedColumns+` FROM rejected WHERE id = ? AND expires_at >= ?`, id, time.Now().Unix()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get rejection %s: %w", id, pipeline.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get rejection %s: %w", id, err)
	}
	return r, nil
}

// List answers q newest first from the received_key indexes.
func (q *Rejected) List(ctx context.Context, rq pipeline.RejectedQuery) (pipeline.RejectedPage, error) {
	limit := rq.Limit
	switch {
	case limit <= 0:
		limit = pipeline.DefaultLimit
	case limit > pipeline.MaxLimit:
		limit = pipeline.MaxLimit
	}
	where := []string{"expires_at >= ?"}
	args := []any{time.Now().Unix()}
	if rq.Source != "" {
		where, args = append(where, "source = ?"), append(args, rq.Source)
	}
	if rq.Reason != "" {
		where, args = append(where, "reason = ?"), append(args, rq.Reason)
	}
	where, args, err := receivedRange(where, args, rq.Since, rq.Until, rq.Cursor)
	if err != nil {
		return pipeline.RejectedPage{}, err
	}
	var page pipeline.RejectedPage
	page.Rejections, page.Cursor, err = readPage(ctx, q.e.rdb, `SELECT `+rejectedColumns+` FROM rejected WHERE `+strings.Join(where, " AND ")+
		` ORDER BY received_key DESC LIMIT ?`, args, limit, scanRejection)
	if err != nil {
		return pipeline.RejectedPage{}, fmt.Errorf("list rejections: %w", err)
	}
	return page, nil
}

// MarkReadmitted records that id was readmitted as eventID, unless it already was.
func (q *Rejected) MarkReadmitted(ctx context.Context, id, eventID string, at time.Time) error {
	err := q.e.write(ctx, func(w *wtx) error {
		res, err := w.Exec(`UPDATE rejected SET readmitted_at = ?, event_id = ? WHERE id = ? AND readmitted_at IS NULL`, at.UnixNano(), eventID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		var one int
		if err := w.QueryRow(`SELECT 1 FROM rejected WHERE id = ?`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return pipeline.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark rejection %s readmitted: %w", id, err)
	}
	return nil
}
