package engine_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/rejectedtest"
)

// TestRejectedStore: kept rejections list newest first with source and reason filters and
// cursors, Get and MarkReadmitted (first mark wins), and the sweep drops them after 7 days, counting them.
func TestRejectedStore(t *testing.T) {
	t.Parallel()
	ctx, e := enginetest.Start(t)
	q := e.Rejected()
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 5 {
		src, reason := "github", pipeline.ReasonUnauthorized
		if i%2 == 1 {
			src, reason = "nope", pipeline.ReasonNotFound
		}
		r := &pipeline.Rejection{ID: fmt.Sprintf("01a2a000-0000-7000-8000-00000000000%d", i), Source: src, Reason: reason,
			ReceivedAt: now.Add(time.Duration(i) * time.Second), Header: map[string]string{"x-hub-signature-256": pipeline.Redacted},
			Sealed: []byte{1, 2, 3}, Body: []byte(`{"i":` + fmt.Sprint(i) + `}`), BodySize: 7, RawPath: "/webhooks/" + src}
		if err := q.Keep(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	page, err := q.List(ctx, pipeline.RejectedQuery{Source: "github", Limit: 2})
	if err != nil || len(page.Rejections) != 2 || page.Cursor == "" || page.Rejections[0].ID[35] != '4' || page.Rejections[1].ID[35] != '2' {
		t.Fatalf("first page: %+v %v", page, err)
	}
	page, err = q.List(ctx, pipeline.RejectedQuery{Source: "github", Limit: 2, Cursor: page.Cursor})
	if err != nil || len(page.Rejections) != 1 || page.Cursor != "" || page.Rejections[0].ID[35] != '0' {
		t.Fatalf("second page: %+v %v", page, err)
	}
	page, _ = q.List(ctx, pipeline.RejectedQuery{Reason: pipeline.ReasonNotFound, Since: now.Add(2 * time.Second)})
	if len(page.Rejections) != 1 || page.Rejections[0].ID[35] != '3' {
		t.Errorf("not_found since +2s: %+v", page.Rejections)
	}
	r, err := q.Get(ctx, "01a2a000-0000-7000-8000-000000000002")
	if err != nil || r.Source != "github" || string(r.Body) != `{"i":2}` || string(r.Sealed) != "\x01\x02\x03" || !r.ReceivedAt.Equal(now.Add(2*time.Second)) ||
		r.Header["x-hub-signature-256"] != pipeline.Redacted || r.RawPath != "/webhooks/github" {
		t.Fatalf("Get = %+v, %v", r, err)
	}
	if err := q.MarkReadmitted(ctx, r.ID, "e-1", now); err != nil {
		t.Fatal(err)
	}
	if err := q.MarkReadmitted(ctx, r.ID, "e-2", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r, _ := q.Get(ctx, r.ID); r.EventID != "e-1" || !r.ReadmittedAt.Equal(now) {
		t.Errorf("after two marks: %s at %v, want the first", r.EventID, r.ReadmittedAt)
	}
	if err := q.MarkReadmitted(ctx, "01a2a000-0000-7000-8000-000000000009", "e", now); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("mark unknown: %v", err)
	}
	if n, err := e.Sweep(ctx, now.Add(pipeline.KeptFor+time.Minute)); err != nil || n != 5 {
		t.Fatalf("sweep after 7 days: %d rows, %v; want the 5 rejections", n, err)
	}
	if page, _ := q.List(ctx, pipeline.RejectedQuery{}); len(page.Rejections) != 0 {
		t.Errorf("%d rejections outlived the 7 days", len(page.Rejections))
	}
}

// TestRejectedContract runs the quarantine contract shared with the DynamoDB adapter.
func TestRejectedContract(t *testing.T) {
	t.Parallel()
	rejectedtest.Run(t, func(t *testing.T) pipeline.RejectedStore { return enginetest.Open(t, "").Rejected() })
}
