package engine

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
	"hookline/pkg/event"
)

// Tests of the stream records that refer to their events row (schema 8): their images must be
// exactly the ones ddbitem makes, whatever happens to the row before a consumer reads them.

func refRecord(t *testing.T, id, typ string, received time.Time) *event.Record {
	t.Helper()
	e := &event.Event{ID: id, Source: "github", Type: typ, Time: received.Add(-time.Second), ReceivedAt: received, DeliveryID: "d-" + id}
	if err := e.SetData("application/json", []byte(`{"n":1,"s":"\u00e9\"q"}`)); err != nil {
		t.Fatal(err)
	}
	e.Verification = event.Verification{Scheme: "github", Key: 1, SignedID: true}
	r, err := event.NewRecord(e, received.Add(1234567*time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// ddbImage is the image PutNew wrote before schema 8 (and still writes when it cannot refer):
// ddbitem's item as a stream image.
func ddbImage(t *testing.T, r *event.Record, ttl time.Time) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	item, err := ddbitem.Marshal(r, ttl)
	if err != nil {
		t.Fatal(err)
	}
	img, err := ddbitem.ToStreamImage(item)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func openRef(t *testing.T, path string, opts Options) *Engine {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "hookline.db")
	}
	opts.SweepInterval = -1
	e, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// refersTo reports whether the stream record seq refers to its event rather than holding the image.
func refersTo(t *testing.T, e *Engine, seq int64) bool {
	t.Helper()
	var id sql.NullString
	var image []byte
	if err := e.rdb.QueryRow(`SELECT event_id, image FROM stream WHERE seq = ?`, seq).Scan(&id, &image); err != nil {
		t.Fatal(err)
	}
	return id.Valid && image == nil
}

// checkImage fails unless rec carries want as ddbitem would deliver it: the image, its keys
// and the size of its encoding.
func checkImage(t *testing.T, rec StreamRecord, want map[string]events.DynamoDBAttributeValue) {
	t.Helper()
	if !reflect.DeepEqual(rec.NewImage, want) {
		t.Errorf("record %d: image\n%v\nwant ddbitem's\n%v", rec.Seq, rec.NewImage, want)
	}
	if !reflect.DeepEqual(rec.Keys, map[string]events.DynamoDBAttributeValue{ddbitem.AttrID: want[ddbitem.AttrID]}) {
		t.Errorf("record %d: keys %v", rec.Seq, rec.Keys)
	}
	b, err := appendImage(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	if rec.SizeBytes != int64(len(b)) {
		t.Errorf("record %d: SizeBytes %d, want the encoded image's %d", rec.Seq, rec.SizeBytes, len(b))
	}
}

// TestStreamImageIsDdbitems: a record that refers to its event delivers ddbitem's image of
// the event as stored, also after the event was marked notified (the mark is the one change
// of a row; the image is the item as it was inserted, as DynamoDB Streams' INSERT record).
// Events stored already notified keep their image in the record.
func TestStreamImageIsDdbitems(t *testing.T) {
	ctx := context.Background()
	for _, ttl := range []time.Duration{0, -1} { // wiring.Retention, and no TTL at all
		e := openRef(t, "", Options{TTL: ttl})
		now := time.Now()
		rs := []*event.Record{
			refRecord(t, "a", "issues.opened", now),
			refRecord(t, "b", "orders/create", now.Add(time.Second)),
			refRecord(t, "c", "push", now.Add(2*time.Second)),
		}
		rs[1].Event.Verification = event.Verification{}
		rs[2].NotifiedAt = now.Add(3 * time.Second) // stored notified: the record holds its image
		for _, r := range rs {
			if ok, err := e.Events().PutNew(ctx, r); err != nil || !ok {
				t.Fatalf("PutNew %s = %v, %v", r.Event.ID, ok, err)
			}
		}
		if err := e.Events().MarkNotified(ctx, "a", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		recs, err := e.ReadStream(ctx, "c", 10)
		if err != nil || len(recs) != 3 {
			t.Fatalf("ReadStream = %d records, %v", len(recs), err)
		}
		for i, r := range rs {
			var expiry time.Time
			if e.opts.TTL > 0 {
				expiry = r.StoredAt.Add(e.opts.TTL).UTC()
			}
			checkImage(t, recs[i], ddbImage(t, r, expiry)) // "a" as stored, before its mark
			if want := i < 2; refersTo(t, e, recs[i].Seq) != want {
				t.Errorf("TTL %v, record %d refers to its event: %v, want %v", ttl, i, !want, want)
			}
		}
	}
}

// TestSweepKeepsWhatARecordRefersTo: the sweep deletes an expired event only once no stream
// record refers to it, even when the record outlives the expiry (the retention grew since
// it was written); an event that expires within the retention is stored with its image, and
// the sweep deletes it on time while the record keeps delivering that image.
func TestSweepKeepsWhatARecordRefersTo(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookline.db")
	now := time.Now()
	e := openRef(t, path, Options{TTL: 48 * time.Hour, StreamRetention: 24 * time.Hour})
	ref, old, soon := refRecord(t, "ref", "push", now), refRecord(t, "old", "push", now), refRecord(t, "soon", "push", now)
	old.StoredAt = now.Add(-47 * time.Hour) // expires in an hour, before its record is trimmed
	for _, r := range []*event.Record{old, ref, soon} {
		if _, err := e.Events().PutNew(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := e.ReadStream(ctx, "c", 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("ReadStream = %d records, %v", len(recs), err)
	}
	if refersTo(t, e, recs[0].Seq) || !refersTo(t, e, recs[1].Seq) || !refersTo(t, e, recs[2].Seq) {
		t.Fatal("want the record of the event expiring within the retention to hold its image, the others to refer")
	}
	want := []map[string]events.DynamoDBAttributeValue{
		ddbImage(t, old, old.StoredAt.Add(48*time.Hour).UTC()),
		ddbImage(t, ref, ref.StoredAt.Add(48*time.Hour).UTC()),
		ddbImage(t, soon, soon.StoredAt.Add(48*time.Hour).UTC()),
	}
	if n, err := e.Sweep(ctx, now.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("sweep at +2 h = %d, %v; want 1 (the expired event)", n, err)
	}
	e.Close()

	// Reopened with a 72 h retention, the records of "ref" and "soon" outlive their events' TTL.
	e = openRef(t, path, Options{TTL: 48 * time.Hour, StreamRetention: 72 * time.Hour})
	if n, err := e.Sweep(ctx, now.Add(49*time.Hour)); err != nil || n != 0 {
		t.Fatalf("sweep at +49 h = %d, %v; want 0: both expired events have records that refer to them", n, err)
	}
	recs, err = e.ReadStream(ctx, "c", 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("ReadStream after the sweeps = %d records, %v", len(recs), err)
	}
	for i := range recs {
		checkImage(t, recs[i], want[i])
	}
	if n, err := e.Sweep(ctx, now.Add(73*time.Hour)); err != nil || n != 5 {
		t.Fatalf("sweep at +73 h = %d, %v; want 5 (three records, then the two events)", n, err)
	}
	var left int
	if err := e.rdb.QueryRow(`SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM stream WHERE event_name != ?)`, streamTrimmed).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d rows left, %v", left, err)
	}
}

// TestStreamSeqNeverGoesBack: the stream has no AUTOINCREMENT (schema 10), so a new record
// takes the largest seq + 1; a sweep that trims every record keeps the newest one's seq, so a
// record stored afterwards still comes after every consumer's checkpoint and is delivered.
func TestStreamSeqNeverGoesBack(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	e := openRef(t, "", Options{})
	for _, id := range []string{"a", "b"} {
		if _, err := e.Events().PutNew(ctx, refRecord(t, id, "push", now)); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := e.ReadStream(ctx, "c", 10)
	if err != nil || len(recs) != 2 {
		t.Fatalf("ReadStream = %d records, %v", len(recs), err)
	}
	if err := e.Checkpoint(ctx, "c", recs[1].Seq); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Sweep(ctx, now.Add(25*time.Hour)); err != nil || n != 2 {
		t.Fatalf("sweep at +25 h = %d, %v; want 2 (both records)", n, err)
	}
	if n, err := e.Sweep(ctx, now.Add(26*time.Hour)); err != nil || n != 0 {
		t.Fatalf("second sweep = %d, %v; want 0 (the blanked record stays blank)", n, err)
	}
	if recs, err := e.ReadStream(ctx, "d", 10); err != nil || len(recs) != 0 {
		t.Fatalf("ReadStream of a new consumer after the sweep = %+v, %v; want nothing", recs, err)
	}
	if _, err := e.Events().PutNew(ctx, refRecord(t, "c", "push", now)); err != nil {
		t.Fatal(err)
	}
	got, err := e.ReadStream(ctx, "c", 10)
	if err != nil || len(got) != 1 || got[0].Seq != recs[1].Seq+1 {
		t.Fatalf("ReadStream after the sweep = %+v, %v; want the new record at seq %d", got, err, recs[1].Seq+1)
	}
}

// TestReadStreamCopiesTheEnvelopeOnce: a record that refers to its event gets the envelope
// into its image with one copy besides the driver's own: the bytes database/sql would clone
// for a []byte were a third copy of every event on the stream.
func TestReadStreamCopiesTheEnvelopeOnce(t *testing.T) {
	ctx := context.Background()
	e := openRef(t, "", Options{})
	now := time.Now()
	const n = 20
	var size int
	for i := range n {
		r := refRecord(t, fmt.Sprint("e", i), "push", now.Add(time.Duration(i)*time.Millisecond))
		if err := r.Event.SetData("application/json", []byte(`{"pad":"`+strings.Repeat("x", 64<<10)+`"}`)); err != nil {
			t.Fatal(err)
		}
		size = max(size, len(r.Event.Marshal()))
		if ok, err := e.Events().PutNew(ctx, r); err != nil || !ok {
			t.Fatalf("PutNew = %v, %v", ok, err)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	recs, err := e.ReadStream(ctx, "c", n)
	runtime.ReadMemStats(&after)
	if err != nil || len(recs) != n {
		t.Fatalf("ReadStream = %d records, %v", len(recs), err)
	}
	if got := recs[n-1].NewImage[ddbitem.AttrEnvelope].String(); len(got) != size {
		t.Fatalf("envelope of %d bytes, want %d", len(got), size)
	}
	// Two copies and the rest of a record (its maps, a few hundred bytes) stay well under 2.5.
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > uint64(size)*5/2 {
		t.Errorf("ReadStream allocated %d bytes per record of a %d-byte envelope: more than two copies", per, size)
	}
}
