package engine_test

import (
	"crypto/sha256"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hookline/pkg/ddbitem"
	"hookline/pkg/event"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/rotation"
)

func withKey(t *testing.T, id, source string, key int, received time.Time) *event.Record {
	t.Helper()
	r := enginetest.Record(t, id, source, "push", received)
	r.Event.Verification = event.Verification{Scheme: "github", Key: key, BodySHA256: sha256.Sum256(r.Event.Body()), SignedID: true}
	return r
}

func TestKeyUsage(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	recs := []*event.Record{
		withKey(t, "e1", "github", 0, t0.Add(-time.Hour)), // before the window
		withKey(t, "e2", "github", 0, t0),                 // at since: counted
		withKey(t, "e3", "github", 0, t0.Add(time.Minute)),
		withKey(t, "e4", "github", 1, t0.Add(2*time.Minute)),
		withKey(t, "e5", "github", 1, t0.Add(3*time.Minute)),
		withKey(t, "e6", "stripe", 0, t0.Add(4*time.Minute)),
		enginetest.Record(t, "e7", "github", "push", t0.Add(5*time.Minute)), // no evidence: not counted
	}
	for _, r := range recs {
		if _, err := e.Events().PutNew(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.Events().KeyUsage(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := []rotation.KeyUse{
		{Source: "github", Key: 0, Events: 2, Last: t0.Add(time.Minute)},
		{Source: "github", Key: 1, Events: 2, Last: t0.Add(3 * time.Minute)},
		{Source: "stripe", Key: 0, Events: 1, Last: t0.Add(4 * time.Minute)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KeyUsage (-want +got):\n%s", diff)
	}
}

// TestMigrationBackfillsVerifyKey opens a schema-1 file holding an event with evidence in its
// envelope: the migration copies the key into the new column, so rotation tracking counts
// events stored before the upgrade.
func TestMigrationBackfillsVerifyKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	r := withKey(t, "old-1", "github", 1, t0)
	plain := enginetest.Record(t, "old-2", "github", "push", t0)
	if _, err := db.Exec(engine.SchemaV1 + `PRAGMA user_version = 1;`); err != nil {
		t.Fatal(err)
	}
	for _, rec := range []*event.Record{r, plain} {
		if _, err := db.Exec(`INSERT INTO events (id, source, type, received_key, envelope, stored_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, 0)`,
			rec.Event.ID, rec.Event.Source, rec.Event.Type, ddbitem.ReceivedKey(rec.Event.ReceivedAt, rec.Event.ID), rec.Event.Marshal(), t0.UnixNano()); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	e := enginetest.Open(t, path)
	got, err := e.Events().KeyUsage(enginetest.Context(t), t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]rotation.KeyUse{{Source: "github", Key: 1, Events: 1, Last: t0}}, got); diff != "" {
		t.Errorf("KeyUsage after migration (-want +got):\n%s", diff)
	}
	if back, err := e.Events().Get(enginetest.Context(t), "old-1"); err != nil || back.Event.Verification != r.Event.Verification {
		t.Errorf("Get after migration: %v %+v", err, back)
	}
}

// ReadStream and ListStreamFailures read at most max rows; max <= 0 means 100.
func TestStreamReadsTakeMaxOrAHundred(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	enginetest.Put(t, e, enginetest.Record(t, "ev-1", "github", "push", at), enginetest.Record(t, "ev-2", "github", "push", at.Add(time.Second)))
	recs, err := e.ReadStream(ctx, "c", 0)
	if err != nil || len(recs) != 2 {
		t.Fatalf("ReadStream(max 0) = %d records, %v; want both", len(recs), err)
	}
	if one, err := e.ReadStream(ctx, "c", 1); err != nil || len(one) != 1 || one[0].Seq != recs[0].Seq {
		t.Errorf("ReadStream(max 1) = %+v, %v; want the first record", one, err)
	}
	for _, r := range recs {
		if err := e.RecordStreamFailure(ctx, "c", r, "boom"); err != nil {
			t.Fatal(err)
		}
	}
	if fails, err := e.ListStreamFailures(ctx, "c", 0); err != nil || len(fails) != 2 {
		t.Errorf("ListStreamFailures(max 0) = %d failures, %v; want both", len(fails), err)
	}
	if one, err := e.ListStreamFailures(ctx, "c", 1); err != nil || len(one) != 1 || one[0].Record.Seq != recs[0].Seq {
		t.Errorf("ListStreamFailures(max 1) = %+v, %v; want the first failure", one, err)
	}
}
