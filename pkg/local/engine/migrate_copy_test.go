package engine

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// TestMigrateV9KeepsTheMessagesTable: migration 9 drops AUTOINCREMENT from messages, which
// SQLite can do only by creating the table again in full, so engine.go spells out migration
// 0's columns a second time (migrations are history: neither text is edited, and neither is
// built from a shared constant). This test is what keeps the copy honest: every column (name,
// type, NOT NULL, default, key) and every index comes out of migration 9 as it went in.
func TestMigrateV9KeepsTheMessagesTable(t *testing.T) {
	t.Parallel()
	v8, v9 := messagesSchema(t, 8), messagesSchema(t, 9)
	if len(v8) < 13+1 { // 13 columns and the index on (queue, visible_at, seq)
		t.Fatalf("version 8's messages table read as %q: too little to compare", v8)
	}
	if !slices.Equal(v8, v9) {
		t.Errorf("messages at version 8:\n%q\nat version 9:\n%q", v8, v9)
	}
}

// messagesSchema describes the messages table of a file at version v: a line per column,
// then the CREATE statement of each index.
func messagesSchema(t *testing.T, v int) []string {
	t.Helper()
	db := fileAt(t, filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", v)), v)
	defer db.Close()
	var out []string
	for _, q := range []string{
		`SELECT format('%s %s notnull=%d default=%s pk=%d', name, type, "notnull", coalesce(dflt_value, '-'), pk)
			FROM pragma_table_xinfo('messages') ORDER BY cid`,
		`SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL ORDER BY name`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
