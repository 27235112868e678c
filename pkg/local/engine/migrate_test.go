package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// TestMigrationsAreHistory: a migration's SQL is what files already ran to reach its version,
// so none may change, a shared piece (messagesColumns) included; a new version is a new
// migration, with its hash added here.
func TestMigrationsAreHistory(t *testing.T) {
	want := []string{
		"72fccceb1e7ff3a414f5602342258a5018acb27b21455b695ddb81a13d2a40b6",
		"a0218ffa8318e1e24b923c3d2761f8ba829323df96f833af5dbd21d33d31aec3",
		"808a99c5f652ce0eebba3cd62249f3e8e1f54583dadff4fbd75ecf4e7d503da7",
		"cdd8565298739f1de4c831876fa8e98d680b385a408deb48499e66c180b4a359",
		"081534d380e44e7f22f125ba197228675b7ae1c1ed64aca6f64f61167a3dbd31",
		"fa297d5c8a2e1903d8924cd81453ea49365c7274614675bc65947f81cd82435b",
		"83943fb17c46e8b82656d570cef6032cf5a6ab785ddbb99426b92b0e2064ecf4",
		"ad54616a39c37b7864cbc220b4151d1507010c0c083153bf64fb74de58be65ca",
		"375c981743846f0a3cb700c264463c722e5b7b06dc11cbe256bd8ba3324422b4",
		"354fa938654bf952543befb74650512a0850f82b38cff41f16eb3e0b0f62bb1b",
		"f76935e13cd4fefc4ea6ae2a607ac9b77cb090349de5fe88abc42221226bad25",
	}
	if len(migrations) != len(want) {
		t.Fatalf("%d migrations, %d pinned: pin the new one's SQL hash here", len(migrations), len(want))
	}
	for i, m := range migrations {
		sum := sha256.Sum256([]byte(m.sql))
		if got := hex.EncodeToString(sum[:]); got != want[i] {
			t.Errorf("migrations[%d] (to version %d): SQL sha256 %s, was %s: files at version %d ran the old SQL", i, i+1, got, want[i], i+1)
		}
	}
}

// TestMigrateV2: a file written by schema 2 gets type groups for its events (so
// ?type= and type prefixes find them) and the blob table.
func TestMigrateV2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:2] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatal(err)
		}
	}
	for i, typ := range []string{"issues.opened", "push", "orders/create"} {
		if _, err := db.Exec(`INSERT INTO events (id, source, type, received_key, envelope, stored_at, expires_at) VALUES (?, 'github', ?, ?, x'7b7d', 0, 0)`,
			string(rune('a'+i)), typ, "k"+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`PRAGMA user_version = 2`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	e, err := Open(path, Options{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rows, err := e.rdb.Query(`SELECT type, type_group FROM events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string]string{"issues.opened": "issues", "push": "push", "orders/create": "orders"}
	n := 0
	for rows.Next() {
		var typ, group string
		if err := rows.Scan(&typ, &group); err != nil {
			t.Fatal(err)
		}
		if want[typ] != group {
			t.Errorf("type %q has group %q, want %q", typ, group, want[typ])
		}
		n++
	}
	if n != 3 {
		t.Fatalf("%d events after migration, want 3", n)
	}
	var blobs int
	if err := e.rdb.QueryRow(`SELECT count(*) FROM blobs`).Scan(&blobs); err != nil {
		t.Fatalf("blob table: %v", err)
	}
	var plan string
	if err := e.rdb.QueryRow(`EXPLAIN QUERY PLAN SELECT id FROM events WHERE type_group = ? AND type = ? ORDER BY received_key DESC LIMIT 5`, "issues", "issues.opened").Scan(new(int), new(int), new(int), &plan); err != nil {
		t.Fatal(err)
	}
	if plan != "SEARCH events USING INDEX events_type_group (type_group=?)" {
		t.Errorf("query plan %q: a type query must read the type_group index in received order", plan)
	}
}

// TestMigrateV7: a file written by schema 7 keeps delivering its stream records (images in
// the record, binary and DynamoDB JSON), and records written after the upgrade refer to their
// events; both kinds deliver ddbitem's image.
func TestMigrateV7(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v7.db")
	db := fileAt(t, path, 7)
	var err error
	now := time.Now()
	ttl := 90 * 24 * time.Hour
	old := []*event.Record{refRecord(t, "json", "push", now), refRecord(t, "binary", "push", now.Add(time.Second))}
	var want []map[string]events.DynamoDBAttributeValue
	for i, r := range old {
		img := ddbImage(t, r, r.StoredAt.Add(ttl).UTC())
		want = append(want, img)
		if _, err := db.Exec(`INSERT INTO events (id, source, type, type_group, received_key, envelope, stored_at, expires_at) VALUES (?, 'github', 'push', 'push', ?, ?, ?, ?)`,
			r.Event.ID, ddbitem.ReceivedKey(r.Event.ReceivedAt, r.Event.ID), r.Event.Marshal(), r.StoredAt.UnixNano(), r.StoredAt.Add(ttl).Unix()); err != nil {
			t.Fatal(err)
		}
		if i == 0 { // as written before schema 6
			keys, _ := json.Marshal(map[string]events.DynamoDBAttributeValue{ddbitem.AttrID: img[ddbitem.AttrID]})
			js, _ := json.Marshal(img)
			_, err = db.Exec(`INSERT INTO stream (event_name, keys, new_image, size_bytes, created_at) VALUES ('INSERT', ?, ?, 1, ?)`, string(keys), string(js), now.UnixNano())
		} else {
			b, _ := appendImage(nil, img)
			_, err = db.Exec(`INSERT INTO stream (event_name, keys, new_image, image, size_bytes, created_at) VALUES ('INSERT', '', '', ?, ?, ?)`, b, len(b), now.UnixNano())
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	e := openRef(t, path, Options{TTL: ttl})
	r := refRecord(t, "new", "issues.opened", now.Add(2*time.Second))
	if _, err := e.Events().PutNew(ctx, r); err != nil {
		t.Fatal(err)
	}
	want = append(want, ddbImage(t, r, r.StoredAt.Add(ttl).UTC()))
	recs, err := e.ReadStream(ctx, "c", 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("ReadStream = %d records, %v", len(recs), err)
	}
	for i, rec := range recs {
		if !reflect.DeepEqual(rec.NewImage, want[i]) {
			t.Errorf("record %d: image %v, want %v", i, rec.NewImage, want[i])
		}
	}
	if refersTo(t, e, recs[0].Seq) || refersTo(t, e, recs[1].Seq) || !refersTo(t, e, recs[2].Seq) {
		t.Error("want the old records to hold their images and the new one to refer to its event")
	}
}

// fileAt creates a database file at path as schema version v left it.
func fileAt(t *testing.T, path string, v int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for i, m := range migrations[:v] {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(m.sql); err != nil {
			t.Fatalf("schema %d: %v", i+1, err)
		}
		if m.fn != nil {
			if err := m.fn(tx); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestMigrateV8: messages lose AUTOINCREMENT (and their sqlite_sequence row) and keep every
// row as it was: a message in flight is still deleted by its receipt handle, one waiting is
// received with its body and attributes, and the next publish takes the next seq.
func TestMigrateV8(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v8.db")
	db := fileAt(t, path, 8)
	now := time.Now().UnixNano()
	stmts := []string{
		`INSERT INTO queues (name, visibility_timeout_ms, max_receive_count) VALUES ('q', 30000, 0)`,
		`INSERT INTO messages (queue, message_id, body, attrs, sent_at, visible_at, receive_count, first_received_at, receipt)
			VALUES ('q', 'inflight', x'7b7d', '{"source":"s","type":"t"}', 1, 9000000000000000000, 1, 1, 'tok')`,
		`INSERT INTO messages (queue, message_id, body, attrs, sent_at, visible_at) VALUES ('q', 'waiting', x'5b5d', '{"source":"s","type":"u"}', 2, 2)`,
		`INSERT INTO messages (queue, message_id, body, attrs, sent_at, visible_at) VALUES ('q', 'gone', x'00', '{}', 3, 3)`,
		`DELETE FROM messages WHERE message_id = 'gone'`,
	}
	e := migrateWithout(t, path, db, "messages", stmts, now)
	if err := e.Delete(ctx, "q", "1-tok"); err != nil {
		t.Fatal(err)
	}
	msgs, err := e.Receive(ctx, "q", 10)
	if err != nil || len(msgs) != 1 || msgs[0].ID != "waiting" || string(msgs[0].Body) != "[]" || msgs[0].Attributes["type"] != "u" {
		t.Fatalf("Receive = %+v, %v; want the waiting message as it was", msgs, err)
	}
	if _, inflight, err := e.Depth(ctx, "q"); err != nil || inflight != 1 {
		t.Fatalf("in flight %d, %v; want 1 (the deleted one gone, the received one hidden)", inflight, err)
	}
	if err := e.Subscribe(ctx, "t", "q"); err != nil {
		t.Fatal(err)
	}
	if err := e.Topic("t").Publish(ctx, pipeline.Message{ID: "next", Source: "s", Type: "t", Body: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	var seq int64
	if err := e.rdb.QueryRow(`SELECT seq FROM messages WHERE visible_at <= ?`, time.Now().UnixNano()).Scan(&seq); err != nil || seq != 3 {
		t.Fatalf("the next publish took seq %d, %v; want 3 (after the two kept rows)", seq, err)
	}
}

// TestMigrateV9: the stream loses AUTOINCREMENT (and its sqlite_sequence row) and keeps its
// records; when its newest records were trimmed already, their seq is kept as a blank record,
// so the next record still comes after the checkpoint of a consumer that read them.
func TestMigrateV9(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v9.db")
	db := fileAt(t, path, 9)
	now := time.Now()
	kept := refRecord(t, "kept", "push", now)
	img, err := appendImage(nil, ddbImage(t, kept, time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{
		`INSERT INTO stream (event_name, keys, new_image, image, size_bytes, created_at) VALUES ('INSERT', '', '', ?1, 1, 1)`,
		`INSERT INTO stream (event_name, keys, new_image, image, size_bytes, created_at) VALUES ('INSERT', '', '', ?1, 1, 2)`,
		`INSERT INTO stream (event_name, keys, new_image, image, size_bytes, created_at) VALUES ('INSERT', '', '', ?1, 1, 3)`,
		`DELETE FROM stream WHERE seq > 1`, // trimmed (sqlite_sequence still says 3)
		`INSERT INTO checkpoints (consumer, seq) VALUES ('c', 3)`,
	}
	e := migrateWithout(t, path, db, "stream", stmts, img)
	recs, err := e.ReadStream(ctx, "new", 10)
	if err != nil || len(recs) != 1 || recs[0].Seq != 1 || recs[0].NewImage[ddbitem.AttrID].String() != "kept" {
		t.Fatalf("ReadStream of a new consumer = %+v, %v; want the kept record 1 alone", recs, err)
	}
	if _, err := e.Events().PutNew(ctx, refRecord(t, "next", "push", now)); err != nil {
		t.Fatal(err)
	}
	recs, err = e.ReadStream(ctx, "c", 10)
	if err != nil || len(recs) != 1 || recs[0].Seq != 4 {
		t.Fatalf("ReadStream after checkpoint 3 = %+v, %v; want the new record at seq 4", recs, err)
	}
}

// migrateWithout runs stmts (each with arg) on db, a file at an older schema, closes it, opens
// it with the engine (which migrates it) and checks that table lost AUTOINCREMENT and its
// sqlite_sequence row.
func migrateWithout(t *testing.T, path string, db *sql.DB, table string, stmts []string, arg any) *Engine {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(q, arg); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	e := openRef(t, path, Options{})
	var schema string
	var counters int
	if err := e.rdb.QueryRow(`SELECT sql, (SELECT count(*) FROM sqlite_sequence WHERE name = ?1) FROM sqlite_schema WHERE name = ?1`, table).Scan(&schema, &counters); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(schema, "AUTOINCREMENT") || counters != 0 {
		t.Errorf("%s after the migration: %s, %d sqlite_sequence rows", table, schema, counters)
	}
	return e
}
