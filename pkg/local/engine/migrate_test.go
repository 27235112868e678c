package engine

import (
	"database/sql"
	"path/filepath"
	"testing"
)

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
