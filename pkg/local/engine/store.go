package engine

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/rotation"
)

// Store is the events table: conditional writes, the notified mark and the history, with a
// change stream written in the same transaction as each new item (DynamoDB + Streams).
type Store struct {
	e *Engine
	// unmarked holds ids this process stored and has not marked notified: NotifiedAt answers
	// those from memory instead of a read per email. Only a fact is kept (an id leaves before
	// its mark is written); anything else is read from the table.
	unmarked struct {
		sync.Mutex
		ids map[string]struct{}
	}
	marks marks
}

// maxUnmarked bounds the memory kept for NotifiedAt (a notifier down for long); past it the
// table answers.
const maxUnmarked = 100_000

var (
	_ pipeline.Store         = (*Store)(nil)
	_ pipeline.PendingLister = (*Store)(nil)
	_ rotation.Usage         = (*Store)(nil)
)

// StreamInsert is the EventName of a stream record for a new item.
const StreamInsert = "INSERT"

// PutNew stores r unless an event with its id exists and, in the same transaction, appends an
// INSERT stream record whose NewImage is the item exactly as DynamoDB Streams would deliver it.
// A duplicate appends nothing.
func (s *Store) PutNew(ctx context.Context, r *event.Record) (bool, error) {
	if r == nil || r.Event == nil {
		return false, errors.New("put event: nil record")
	}
	e := r.Event
	if err := e.Validate(); err != nil {
		return false, fmt.Errorf("put event %s: %w", e.ID, err)
	}
	storedAt := r.StoredAt
	if storedAt.IsZero() {
		storedAt = time.Now()
	}
	var ttl time.Time
	var expires int64
	if s.e.opts.TTL > 0 {
		ttl = storedAt.Add(s.e.opts.TTL).UTC()
		expires = ttl.Unix()
	}
	var notified, verifyKey any
	if !r.NotifiedAt.IsZero() {
		notified = r.NotifiedAt.UnixNano()
	}
	if e.Verification.Present() {
		verifyKey = e.Verification.Key
	}
	envelope := e.Marshal()
	created := time.Now()
	// The record refers to the events row, and ReadStream builds its image from that row,
	// when the row stays as it is now while the record lives: only a mark changes an event
	// (so not one marked already), and the sweep deletes an event only once its record is
	// trimmed (so not one that expires sooner; Sweep checks that too). An image repeats the
	// envelope: two records to a 4 KiB page, 1.35 WAL frames per event at 1,000 req/s.
	byRef := notified == nil && !r.StoredAt.IsZero() && time.Unix(0, storedAt.UnixNano()).Equal(storedAt) &&
		(ttl.IsZero() || expires > created.Add(s.e.opts.StreamRetention).Unix()+1)
	var image []byte
	if !byRef {
		// Encode outside the writer: it is the one serial section of the engine.
		item, err := ddbitem.Marshal(r, ttl)
		if err != nil {
			return false, fmt.Errorf("put event %s: %w", e.ID, err)
		}
		img, err := ddbitem.ToStreamImage(item)
		if err != nil {
			return false, fmt.Errorf("put event %s: stream image: %w", e.ID, err)
		}
		if image, err = appendImage(nil, img); err != nil {
			return false, fmt.Errorf("put event %s: stream image: %w", e.ID, err)
		}
	}
	typeGroup, receivedKey := event.TypeGroup(e.Type), ddbitem.ReceivedKey(e.ReceivedAt, e.ID) // outside the writer too
	var inserted bool
	err := s.e.writeSibling(ctx, func(w *wtx) error {
		res, err := w.Exec(`INSERT INTO events (id, source, type, type_group, received_key, envelope, stored_at, notified_at, expires_at, verify_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			e.ID, e.Source, e.Type, typeGroup, receivedKey, envelope, storedAt.UnixNano(), notified, expires, verifyKey)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		inserted = true
		if byRef {
			_, err = w.Exec(`INSERT INTO stream (event_name, keys, new_image, event_id, size_bytes, created_at) VALUES (?, '', '', ?, 0, ?)`,
				StreamInsert, e.ID, created.UnixNano())
		} else {
			// SizeBytes approximates DynamoDB's: the encoded image.
			_, err = w.Exec(`INSERT INTO stream (event_name, keys, new_image, image, size_bytes, created_at) VALUES (?, '', '', ?, ?, ?)`,
				StreamInsert, image, len(image), created.UnixNano())
		}
		if err != nil {
			return fmt.Errorf("append stream record: %w", err)
		}
		// Known unmarked before the commit makes the stream record readable: a notifier may
		// read it, send and mark the event before this op's after-commit signals run, and an
		// id added after its mark would answer "unmarked" to a redelivery (a second email).
		if notified == nil {
			s.addUnmarked(e.ID)
		}
		w.afterCommit(s.e.stream.notify)
		return nil
	})
	if err != nil {
		if inserted && notified == nil {
			s.forgetUnmarked(e.ID) // not committed after all; forgetting only costs a read
		}
		return false, fmt.Errorf("put event %s: %w", e.ID, err)
	}
	return inserted, nil
}

// forgetUnmarked drops id from the cache: NotifiedAt then reads the table.
func (s *Store) forgetUnmarked(id string) {
	s.unmarked.Lock()
	delete(s.unmarked.ids, id)
	s.unmarked.Unlock()
}

func (s *Store) addUnmarked(id string) {
	s.unmarked.Lock()
	defer s.unmarked.Unlock()
	if s.unmarked.ids == nil {
		s.unmarked.ids = map[string]struct{}{}
	}
	if len(s.unmarked.ids) < maxUnmarked {
		s.unmarked.ids[id] = struct{}{}
	}
}

const recordColumns = `envelope, stored_at, notified_at`

func scanRecord(sc interface{ Scan(...any) error }) (*event.Record, string, error) {
	var env []byte
	var stored int64
	var notified sql.NullInt64
	var key string
	if err := sc.Scan(&env, &stored, &notified, &key); err != nil {
		return nil, "", err
	}
	e, err := event.Decode(env)
	if err != nil {
		return nil, "", fmt.Errorf("decode stored envelope: %w", err)
	}
	r := &event.Record{Event: e, StoredAt: time.Unix(0, stored).UTC()}
	if notified.Valid {
		r.NotifiedAt = time.Unix(0, notified.Int64).UTC()
	}
	return r, key, nil
}

// live is the condition that keeps events past their TTL out of history reads: the sweep
// deletes them only hourly (DynamoDB within days), and until then they are gone to a reader, as
// DynamoDB advises (a TTL at or before now is past).
const live = `(expires_at = 0 OR expires_at > ?)`

// Get returns the event with id, or an error wrapping pipeline.ErrNotFound, also for an event
// past its TTL.
func (s *Store) Get(ctx context.Context, id string) (*event.Record, error) {
	r, _, err := scanRecord(s.e.rdb.QueryRowContext(ctx, `SELECT `+recordColumns+`, received_key FROM events WHERE id = ? AND `+live, id, time.Now().Unix()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get event %s: %w", id, pipeline.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", id, err)
	}
	return r, nil
}

// NotifiedAt reads the mark alone (the envelope stays undecoded).
func (s *Store) NotifiedAt(ctx context.Context, id string) (time.Time, error) {
	s.unmarked.Lock()
	_, unmarked := s.unmarked.ids[id]
	s.unmarked.Unlock()
	if unmarked {
		return time.Time{}, nil
	}
	var at sql.NullInt64
	err := s.e.rdb.QueryRowContext(ctx, `SELECT notified_at FROM events WHERE id = ?`, id).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("read notified_at of %s: %w", id, pipeline.ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read notified_at of %s: %w", id, err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return time.Unix(0, at.Int64).UTC(), nil
}

// List answers q newest first from the received_key indexes.
func (s *Store) List(ctx context.Context, q pipeline.Query) (pipeline.Page, error) {
	limit := q.Limit
	switch {
	case limit < 0:
		return pipeline.Page{}, pipeline.Errorf(pipeline.KindInvalid, "limit %d is negative", limit)
	case limit == 0:
		limit = pipeline.DefaultLimit
	case limit > pipeline.MaxLimit:
		limit = pipeline.MaxLimit
	}
	var where []string
	var args []any
	// The equality filter picks the index (source, received_key) or (type_group, received_key);
	// the range conditions then bound the scan of that index. A type reads its group (see
	// event.TypeGroup): the exact type, or for a prefix every type one segment below it.
	if q.Source != "" {
		where, args = append(where, "source = ?"), append(args, q.Source)
	}
	if q.Type != "" {
		where, args = append(where, "type_group = ?"), append(args, event.TypeFilterGroup(q.Type))
		if event.IsTypePrefix(q.Type) {
			// A byte range, not LIKE (which ignores ASCII case and treats % and _ as wildcards):
			// the prefix ends in '.' or '/', and the next byte value bounds every type under it.
			last := len(q.Type) - 1
			where, args = append(where, "type >= ? AND type < ?"), append(args, q.Type, q.Type[:last]+string(rune(q.Type[last]+1)))
		} else {
			where, args = append(where, "type = ?"), append(args, q.Type)
		}
	}
	where, args, err := receivedRange(where, args, q.Since, q.Until, q.Cursor)
	if err != nil {
		return pipeline.Page{}, err
	}
	where, args = append(where, live), append(args, time.Now().Unix())
	query := `SELECT ` + recordColumns + `, received_key FROM events WHERE ` + strings.Join(where, " AND ") +
		" ORDER BY received_key DESC LIMIT ?"
	var page pipeline.Page
	page.Records, page.Cursor, err = readPage(ctx, s.e.rdb, query, args, limit, scanRecord)
	if err != nil {
		return pipeline.Page{}, fmt.Errorf("list events: %w", err)
	}
	return page, nil
}

// receivedRange adds to where and args the bounds on received_key: since (inclusive), until
// (exclusive) and the cursor of the previous page (strictly older than its last key).
func receivedRange(where []string, args []any, since, until time.Time, cursor string) ([]string, []any, error) {
	// Keys are "<fixed-width time>#<id>" and '#' sorts before every digit, so comparing with
	// the bare time string makes since inclusive and until exclusive.
	if !since.IsZero() {
		where, args = append(where, "received_key >= ?"), append(args, ddbitem.FormatTime(since))
	}
	if !until.IsZero() {
		where, args = append(where, "received_key < ?"), append(args, ddbitem.FormatTime(until))
	}
	if cursor != "" {
		key, err := decodeCursor(cursor)
		if err != nil {
			return nil, nil, err
		}
		where, args = append(where, "received_key < ?"), append(args, key)
	}
	return where, args, nil
}

// readPage runs query (ordered by received_key, ending in "LIMIT ?") for limit+1 rows: the
// extra row only tells that another page exists, whose cursor is the last key returned.
func readPage[T any](ctx context.Context, db *sql.DB, query string, args []any, limit int, scan func(interface{ Scan(...any) error }) (T, string, error)) ([]T, string, error) {
	rows, err := db.QueryContext(ctx, query, append(args, limit+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []T
	var last string
	for rows.Next() {
		if len(out) == limit {
			return out, base64.RawURLEncoding.EncodeToString([]byte(last)), rows.Err()
		}
		v, key, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		out, last = append(out, v), key
	}
	return out, "", rows.Err()
}

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		_, _, err = ddbitem.ParseReceivedKey(string(b))
	}
	if err != nil {
		return "", pipeline.Errorf(pipeline.KindInvalid, "cursor %q is not one this server returned", c)
	}
	return string(b), nil
}

// StreamRecord is one change-stream record, the local equivalent of a DynamoDB Streams record.
type StreamRecord struct {
	Seq       int64
	EventName string // "INSERT"
	Keys      map[string]events.DynamoDBAttributeValue
	NewImage  map[string]events.DynamoDBAttributeValue
	SizeBytes int64
	CreatedAt time.Time
}

// StreamFailure is a stream record a consumer gave up on (the on-failure destination).
type StreamFailure struct {
	ID       int64
	Consumer string
	Record   StreamRecord
	Reason   string
	FailedAt time.Time
}

// ReadStream returns up to max records after consumer's checkpoint, in sequence order.
func (e *Engine) ReadStream(ctx context.Context, consumer string, max int) ([]StreamRecord, error) {
	return byConsumer(ctx, e.rdb, "read stream for", consumer, max, scanStreamRecord, `SELECT s.seq, s.event_name, s.keys, s.new_image, s.image, s.size_bytes, s.created_at,
			s.event_id, e.source, e.type, e.received_key, e.envelope, e.stored_at, e.expires_at
		FROM stream s LEFT JOIN events e ON e.id = s.event_id
		WHERE s.seq > COALESCE((SELECT seq FROM checkpoints WHERE consumer = ?), 0) AND s.event_name != '`+streamTrimmed+`' ORDER BY s.seq LIMIT ?`)
}

// byConsumer reads with scan the rows of query, whose arguments are consumer and the limit, max
// (100 when max <= 0). Its errors begin with what and consumer.
func byConsumer[T any](ctx context.Context, db *sql.DB, what, consumer string, max int, scan func(*sql.Rows) (T, error), query string) ([]T, error) {
	if max <= 0 {
		max = 100
	}
	rows, err := db.QueryContext(ctx, query, consumer, max)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, consumer, err)
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, consumer, err)
	}
	return out, nil
}

// scanStreamRecord reads a row of ReadStream's query.
func scanStreamRecord(rows *sql.Rows) (StreamRecord, error) {
	var r StreamRecord
	var keys, img string
	var image []byte
	// The envelope is read where the driver put it and copied once, into the image's string:
	// a []byte would be a second copy (database/sql clones a driver's bytes for it) of ~1.4 KB
	// per event, the stream's largest allocation.
	var envelope sql.RawBytes
	var created int64
	var id, source, typ, receivedKey sql.NullString
	var stored, expires sql.NullInt64
	if err := rows.Scan(&r.Seq, &r.EventName, &keys, &img, &image, &r.SizeBytes, &created,
		&id, &source, &typ, &receivedKey, &envelope, &stored, &expires); err != nil {
		return r, err
	}
	r.CreatedAt = time.Unix(0, created)
	if id.Valid {
		if !source.Valid {
			return r, fmt.Errorf("record %d: its event %s is gone", r.Seq, id.String)
		}
		r.NewImage = streamImage(id.String, source.String, typ.String, receivedKey.String, envelope, stored.Int64, expires.Int64)
		r.Keys = map[string]events.DynamoDBAttributeValue{ddbitem.AttrID: r.NewImage[ddbitem.AttrID]}
		r.SizeBytes = flatImageSize(r.NewImage)
		return r, nil
	}
	if err := decodeImages(&r, keys, img, image); err != nil {
		return r, fmt.Errorf("record %d: %w", r.Seq, err)
	}
	return r, nil
}

// streamImage is the NewImage of a record that refers to its events row: what
// ddbitem.ToStreamImage(ddbitem.Marshal(record, ttl)) made of the record PutNew stored —
// never marked (PutNew refers only to unmarked events, and only a mark changes a row), its
// TTL the expires_at column (0: none). Built from the row's columns, without decoding the
// envelope; TestStreamImageIsDdbitems pins it to ddbitem.
func streamImage(id, source, typ, receivedKey string, envelope []byte, storedAt, expires int64) map[string]events.DynamoDBAttributeValue {
	img := map[string]events.DynamoDBAttributeValue{
		ddbitem.AttrID:          events.NewStringAttribute(id),
		ddbitem.AttrSource:      events.NewStringAttribute(source),
		ddbitem.AttrType:        events.NewStringAttribute(typ),
		ddbitem.AttrStoredAt:    events.NewStringAttribute(ddbitem.FormatTime(time.Unix(0, storedAt))),
		ddbitem.AttrEnvelope:    events.NewStringAttribute(string(envelope)),
		ddbitem.AttrReceivedKey: events.NewStringAttribute(receivedKey),
		ddbitem.AttrSourceGroup: events.NewStringAttribute(ddbitem.SourceGroup(source, typ)),
	}
	if expires != 0 {
		img[ddbitem.AttrExpiresAt] = events.NewNumberAttribute(strconv.FormatInt(expires, 10))
	}
	return img
}

// decodeImages fills r's Keys and NewImage from the binary image, or from the DynamoDB JSON
// of records written before schema version 5.
func decodeImages(r *StreamRecord, keys, img string, image []byte) error {
	if image == nil {
		if err := json.Unmarshal([]byte(keys), &r.Keys); err != nil {
			return fmt.Errorf("keys: %w", err)
		}
		if err := json.Unmarshal([]byte(img), &r.NewImage); err != nil {
			return fmt.Errorf("image: %w", err)
		}
		return nil
	}
	var err error
	if r.NewImage, err = parseImage(image); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	id, ok := r.NewImage[ddbitem.AttrID]
	if !ok {
		return fmt.Errorf("image: no %s attribute", ddbitem.AttrID)
	}
	r.Keys = map[string]events.DynamoDBAttributeValue{ddbitem.AttrID: id}
	return nil
}

// StreamWait returns a channel closed by the next stream append. Take it before reading the
// stream, so an append in between is not missed.
func (e *Engine) StreamWait() <-chan struct{} { return e.stream.wait() }

// Checkpoint records that consumer has processed every record up to and including seq.
// Checkpoints never move backwards.
func (e *Engine) Checkpoint(ctx context.Context, consumer string, seq int64) error {
	err := e.write(ctx, func(w *wtx) error {
		_, err := w.Exec(`INSERT INTO checkpoints (consumer, seq) VALUES (?, ?)
			ON CONFLICT (consumer) DO UPDATE SET seq = max(seq, excluded.seq)`, consumer, seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("checkpoint %s at %d: %w", consumer, seq, err)
	}
	return nil
}

// RecordStreamFailure keeps rec and why consumer gave up on it, like a stream trigger's
// on-failure destination.
func (e *Engine) RecordStreamFailure(ctx context.Context, consumer string, rec StreamRecord, reason string) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("record stream failure %d: %w", rec.Seq, err)
	}
	err = e.write(ctx, func(w *wtx) error {
		_, err := w.Exec(`INSERT INTO stream_failures (consumer, seq, record, reason, failed_at) VALUES (?, ?, ?, ?, ?)`,
			consumer, rec.Seq, string(b), reason, time.Now().UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("record stream failure %d for %s: %w", rec.Seq, consumer, err)
	}
	return nil
}

// ListStreamFailures returns up to max failures recorded for consumer, oldest first.
func (e *Engine) ListStreamFailures(ctx context.Context, consumer string, max int) ([]StreamFailure, error) {
	return byConsumer(ctx, e.rdb, "list stream failures of", consumer, max, scanStreamFailure, `SELECT id, consumer, record, reason, failed_at FROM stream_failures
		WHERE consumer = ? ORDER BY id LIMIT ?`)
}

// scanStreamFailure reads a row of ListStreamFailures' query.
func scanStreamFailure(rows *sql.Rows) (StreamFailure, error) {
	var f StreamFailure
	var rec string
	var at int64
	if err := rows.Scan(&f.ID, &f.Consumer, &rec, &f.Reason, &at); err != nil {
		return f, err
	}
	if err := json.Unmarshal([]byte(rec), &f.Record); err != nil {
		return f, fmt.Errorf("failure %d: %w", f.ID, err)
	}
	f.FailedAt = time.Unix(0, at)
	return f, nil
}

// KeyUsage counts, per source and secret index, the events received at or after since that
// carry verification evidence, with the newest receive time (rotation tracking). It reads the
// received_key index over the window, never the envelopes.
func (s *Store) KeyUsage(ctx context.Context, since time.Time) ([]rotation.KeyUse, error) {
	rows, err := s.e.rdb.QueryContext(ctx, `SELECT source, verify_key, COUNT(*), MAX(received_key) FROM events
		WHERE received_key >= ? AND verify_key IS NOT NULL
		GROUP BY source, verify_key ORDER BY source, verify_key`, ddbitem.FormatTime(since))
	if err != nil {
		return nil, fmt.Errorf("key usage: %w", err)
	}
	out, err := collect(rows, func(rows *sql.Rows) (u rotation.KeyUse, err error) {
		var last string
		if err := rows.Scan(&u.Source, &u.Key, &u.Events, &last); err != nil {
			return u, err
		}
		u.Last, _, err = ddbitem.ParseReceivedKey(last)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("key usage: %w", err)
	}
	return out, nil
}

// OldestPending returns when the oldest event still without its completion email was stored,
// and false when every event is notified. It reads the partial index events_pending.
func (s *Store) OldestPending(ctx context.Context) (time.Time, bool, error) {
	var at sql.NullInt64
	err := s.e.rdb.QueryRowContext(ctx, `SELECT MIN(stored_at) FROM events WHERE notified_at IS NULL`).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("oldest pending notification: %w", err)
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(0, at.Int64).UTC(), true, nil
}

// Pending returns up to max (<= 0: all) events without their completion email that were
// stored before storedBefore, oldest first (the events_pending index): pipeline.PendingLister.
func (s *Store) Pending(ctx context.Context, storedBefore time.Time, max int) ([]*event.Record, error) {
	if max <= 0 {
		max = -1 // SQLite: no limit
	}
	rows, err := s.e.rdb.QueryContext(ctx, `SELECT `+recordColumns+`, received_key FROM events
		WHERE notified_at IS NULL AND stored_at < ? ORDER BY stored_at LIMIT ?`, storedBefore.UnixNano(), max)
	if err != nil {
		return nil, fmt.Errorf("list pending notifications: %w", err)
	}
	out, err := collect(rows, func(rows *sql.Rows) (*event.Record, error) {
		r, _, err := scanRecord(rows)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list pending notifications: %w", err)
	}
	return out, nil
}
