package historycli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hookline/internal/sink"
	"hookline/pkg/event"
	"hookline/pkg/historyapi"
	"hookline/pkg/historycli"
	"hookline/pkg/pipeline"
)

// fakeHistory answers like a store but with pages of at most pageSize, so paging is exercised
// with a handful of records. Records are kept newest first.
type fakeHistory struct {
	mu       sync.Mutex
	recs     []*event.Record
	pageSize int
	queries  []pipeline.Query
}

func (f *fakeHistory) add(r *event.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs = append([]*event.Record{r}, f.recs...)
}

func (f *fakeHistory) Get(_ context.Context, id string) (*event.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.recs {
		if r.Event.ID == id {
			c := *r
			return &c, nil
		}
	}
	return nil, pipeline.ErrNotFound
}

func (f *fakeHistory) List(_ context.Context, q pipeline.Query) (pipeline.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	start := 0
	if q.Cursor != "" {
		start, _ = strconv.Atoi(q.Cursor)
	}
	n := min(q.Limit, f.pageSize)
	var p pipeline.Page
	for i := start; i < len(f.recs); i++ {
		r := f.recs[i]
		e := r.Event
		if (q.Source != "" && e.Source != q.Source) || (q.Type != "" && e.Type != q.Type) ||
			(!q.Since.IsZero() && e.ReceivedAt.Before(q.Since)) || (!q.Until.IsZero() && !e.ReceivedAt.Before(q.Until)) {
			continue
		}
		if len(p.Records) == n {
			p.Cursor = strconv.Itoa(i)
			break
		}
		c := *r
		p.Records = append(p.Records, &c)
	}
	return p, nil
}

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// rec makes event number i, received i seconds after t0.
func rec(i int, source, typ string, notified bool) *event.Record {
	at := t0.Add(time.Duration(i) * time.Second)
	e := &event.Event{ID: "0193a1b2-0000-7000-8000-00000000000" + strconv.Itoa(i), Source: source, Type: typ, Time: at, ReceivedAt: at}
	e.SetData("application/json", []byte(`{"n":`+strconv.Itoa(i)+`,"ok":true}`))
	r := &event.Record{Event: e, StoredAt: at.Add(12 * time.Millisecond)}
	if notified {
		r.NotifiedAt = at.Add(1500 * time.Millisecond)
	}
	return r
}

func history(pageSize int) *fakeHistory {
	f := &fakeHistory{pageSize: pageSize}
	f.add(rec(1, "github", "push", true))
	f.add(rec(2, "stripe", "invoice.paid", false))
	f.add(rec(3, "github", "ping", true))
	f.add(rec(4, "github", "push", true))
	f.add(rec(5, "postman", "unknown", false))
	return f
}

func TestWalkPagesUpToLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		q         pipeline.Query
		limit     int
		wantIDs   []int
		wantPages int
	}{
		{"all in pages of 2", pipeline.Query{}, 0, []int{5, 4, 3, 2, 1}, 3},
		{"limit 3", pipeline.Query{}, 3, []int{5, 4, 3}, 2},
		{"limit 2 one page", pipeline.Query{}, 2, []int{5, 4}, 1},
		{"source", pipeline.Query{Source: "github"}, 50, []int{4, 3, 1}, 2},
		{"type and since", pipeline.Query{Type: "push", Since: t0.Add(2 * time.Second)}, 50, []int{4}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := history(2)
			var got []int
			err := historycli.Walk(context.Background(), h, tt.q, tt.limit, func(r *event.Record) error {
				got = append(got, int(r.Event.ID[len(r.Event.ID)-1]-'0'))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantIDs, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if len(h.queries) != tt.wantPages {
				t.Errorf("%d queries, want %d", len(h.queries), tt.wantPages)
			}
		})
	}
}

func TestListTable(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	if err := historycli.List(context.Background(), &out, history(2), pipeline.Query{}, 3, false); err != nil {
		t.Fatal(err)
	}
	want := `ID                                    RECEIVED                  SOURCE   TYPE     STATUS    STORED+  NOTIFIED+
0193a1b2-0000-7000-8000-000000000005  2026-11-23T10:00:05.000Z  postman  unknown  stored    +12ms    -
0193a1b2-0000-7000-8000-000000000004  2026-11-23T10:00:04.000Z  github   push     notified  +12ms    +1500ms
0193a1b2-0000-7000-8000-000000000003  2026-11-23T10:00:03.000Z  github   ping     notified  +12ms    +1500ms
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	out.Reset()
	historycli.List(context.Background(), &out, history(2), pipeline.Query{Source: "nobody"}, 3, false)
	if out.String() != "no events match\n" {
		t.Errorf("empty list printed %q", out.String())
	}
}

func TestListJSONLines(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	if err := historycli.List(context.Background(), &out, history(2), pipeline.Query{Source: "github"}, 50, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), out.String())
	}
	var v historyapi.EventView
	if err := json.Unmarshal([]byte(lines[0]), &v); err != nil {
		t.Fatal(err)
	}
	want := historyapi.View(rec(4, "github", "push", true), false)
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("first line (-want +got):\n%s", diff)
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	h := history(2)
	text := rec(6, "postman", "unknown", false)
	text.Event.SetData("text/plain", []byte("A new message has been published"))
	text.Event.Verification = event.Verification{Scheme: "token", Key: 2}
	h.add(text)
	for _, r := range h.recs {
		if r.Event.ID == "0193a1b2-0000-7000-8000-000000000004" {
			r.Event.Verification = event.Verification{Scheme: "stripe", Key: 1, SkewMS: -412, HasSkew: true, BodySHA256: [32]byte{0xab, 0xcd}, SignedID: true}
		}
	}

	var out strings.Builder
	if err := historycli.Get(context.Background(), &out, h, "0193a1b2-0000-7000-8000-000000000004", false); err != nil {
		t.Fatal(err)
	}
	want := `id            0193a1b2-0000-7000-8000-000000000004
source        github
type          push
status        notified
time          2026-11-23T10:00:04Z
received      2026-11-23T10:00:04Z
stored        2026-11-23T10:00:04.012Z  (+12ms)
notified      2026-11-23T10:00:05.5Z  (+1500ms)
content type  application/json
verified      stripe, key 1, skew -412ms, signed id
body sha256   abcd000000000000000000000000000000000000000000000000000000000000

data:
{
  "n": 4,
  "ok": true
}
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}

	out.Reset()
	historycli.Get(context.Background(), &out, h, text.Event.ID, false)
	if !strings.Contains(out.String(), "notified      not yet\n") || !strings.Contains(out.String(), "verified      token, key 2, id not signed\n") || !strings.HasSuffix(out.String(), "data (text):\nA new message has been published\n") {
		t.Errorf("text event detail:\n%s", out.String())
	}

	out.Reset()
	historycli.Get(context.Background(), &out, h, "0193a1b2-0000-7000-8000-000000000004", true)
	var v historyapi.EventView
	var data bytes.Buffer
	if err := json.Unmarshal([]byte(out.String()), &v); err != nil || json.Compact(&data, v.Data) != nil || data.String() != `{"n":4,"ok":true}` {
		t.Errorf("get --json: %v, data %s", err, v.Data)
	}
	if vv := v.Verification; vv == nil || vv.Scheme != "stripe" || vv.Key != 1 || vv.SkewMS == nil || *vv.SkewMS != -412 || !vv.SignedID || !strings.HasPrefix(vv.BodySHA256, "abcd00") {
		t.Errorf("get --json verification = %+v", vv)
	}

	for id, want := range map[string]string{
		"0193a1b2-0000-7000-8000-000000000009": `no event with id "0193a1b2-0000-7000-8000-000000000009"`,
		"nope":                                 "event ids are lower-case UUIDs",
	} {
		if err := historycli.Get(context.Background(), &out, h, id, false); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Get(%q) error %v, want %q", id, err, want)
		}
	}
}

func TestAfter(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0:                                     "+0ms",
		1234 * time.Microsecond:               "+1ms",
		1500 * time.Microsecond:               "+2ms",
		1234 * time.Millisecond:               "+1234ms",
		83*time.Second + 400*time.Millisecond: "+83400ms",
		-3 * time.Millisecond:                 "-3ms",
	} {
		if got := historycli.After(d); got != want {
			t.Errorf("After(%v) = %q, want %q", d, got, want)
		}
	}
}

// waitFor polls out until it has n lines or the deadline passes.
func waitFor(t *testing.T, out *sink.Buffer, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var lines []string
		if s := out.String(); s != "" {
			lines = strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		}
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d lines within 5s, have:\n%s", n, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTailFollowsNewEventsAndStatus(t *testing.T) {
	t.Parallel()
	h := history(2) // events 1..5 exist before the tail starts and are not shown
	ctx, cancel := context.WithCancel(context.Background())
	var out sink.Buffer
	done := make(chan error, 1)
	now := t0.Add(5*time.Second + time.Millisecond)
	go func() {
		done <- historycli.Tail(ctx, &out, h, historycli.TailOptions{
			Query: pipeline.Query{Source: "github"}, Interval: 5 * time.Millisecond, JSON: true,
			Now: func() time.Time { return now },
		})
	}()
	h.add(rec(7, "stripe", "x", false)) // filtered out by source
	late := rec(6, "github", "push", false)
	h.add(late)
	waitFor(t, &out, 1)
	h.mu.Lock()
	for _, r := range h.recs {
		if r.Event.ID == late.Event.ID {
			r.NotifiedAt = late.Event.ReceivedAt.Add(time.Second)
		}
	}
	h.mu.Unlock()
	lines := waitFor(t, &out, 2)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		var v historyapi.EventView
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		got = append(got, v.ID[len(v.ID)-1:]+" "+v.Status)
	}
	if diff := cmp.Diff([]string{"6 stored", "6 notified"}, got); diff != "" {
		t.Errorf("tail (-want +got):\n%s", diff)
	}
}

func TestTailTableHeader(t *testing.T) {
	t.Parallel()
	h := history(2)
	ctx, cancel := context.WithCancel(context.Background())
	var out sink.Buffer
	done := make(chan error, 1)
	go func() {
		done <- historycli.Tail(ctx, &out, h, historycli.TailOptions{Query: pipeline.Query{Since: t0.Add(4 * time.Second)}, Interval: 5 * time.Millisecond})
	}()
	lines := waitFor(t, &out, 3)
	cancel()
	<-done
	want := []string{
		"ID                                    RECEIVED                  SOURCE        TYPE                    STATUS    STORED+   NOTIFIED+",
		"0193a1b2-0000-7000-8000-000000000004  2026-11-23T10:00:04.000Z  github        push                    notified  +12ms     +1500ms",
		"0193a1b2-0000-7000-8000-000000000005  2026-11-23T10:00:05.000Z  postman       unknown                 stored    +12ms     -",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("tail --since (-want +got):\n%s", diff)
	}
}

// A sender's bytes reach the operator's terminal escaped: a text body keeps its lines but not
// an escape sequence, and a type cannot break the table's row.
func TestSenderTextCannotDriveTheTerminal(t *testing.T) {
	t.Parallel()
	h := history(10)
	r := rec(6, "postman", "a\x1b[2Jb\tc", false)
	r.Event.SetData("text/plain", []byte("line 1\r\n\x1b]0;PWNED\a\x1b[31mred\nline 3"))
	h.add(r)

	var out strings.Builder
	if err := historycli.Get(context.Background(), &out, h, r.Event.ID, false); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); strings.ContainsAny(got, "\x1b\a") || !strings.Contains(got, "type          a\\x1b[2Jb\\tc\n") ||
		!strings.HasSuffix(got, "data (text):\nline 1\r\n\\x1b]0;PWNED\\a\\x1b[31mred\nline 3\n") {
		t.Errorf("get:\n%q", got)
	}
	out.Reset()
	if err := historycli.List(context.Background(), &out, h, pipeline.Query{}, 1, false); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); strings.Count(got, "\n") != 2 || strings.ContainsAny(got, "\x1b\t") || !strings.Contains(got, `a\x1b[2Jb\tc`) {
		t.Errorf("list:\n%q", got)
	}
}

// expiredBodies is a history whose claim-checked bodies are gone (the local sweep, or S3's
// lifecycle, removed them before the event).
type expiredBodies struct{ *fakeHistory }

func (expiredBodies) Blobs() pipeline.BlobReader { return goneBlobs{} }

type goneBlobs struct{}

func (goneBlobs) Get(context.Context, string) ([]byte, error) { return nil, pipeline.ErrNotFound }

// TestGetExpiredBody: an event whose body expired before it is reported as expired.
func TestGetExpiredBody(t *testing.T) {
	t.Parallel()
	h := history(2)
	r := rec(7, "github", "push", false)
	r.Event.DataRef = "blob:events/github/x"
	h.add(r)
	var out strings.Builder
	err := historycli.Get(context.Background(), &out, expiredBodies{h}, r.Event.ID, false)
	if err == nil || !strings.Contains(err.Error(), `event "`+r.Event.ID+`" has expired`) || out.Len() != 0 {
		t.Errorf("Get of an event whose body expired: %v, wrote %q; want an error saying the event expired", err, out.String())
	}
}
