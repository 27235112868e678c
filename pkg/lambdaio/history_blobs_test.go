package lambdaio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/event"
	"hookline/pkg/historyapi"
	"hookline/pkg/lambdaio"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/storetest"
)

// linkingBlobs is a blob store that reads bodies from a map and links to them.
type linkingBlobs map[string][]byte

func (b linkingBlobs) Get(_ context.Context, ref string) ([]byte, error) {
	if body, ok := b[ref]; ok {
		return body, nil
	}
	return nil, pipeline.Errorf(pipeline.KindNotFound, "no blob %s", ref)
}

func (b linkingBlobs) Link(_ context.Context, ref string) (string, error) {
	return "https://blobs.example/" + ref, nil
}

// TestHistoryClaimCheckedBody: GET /events/{id} of an event whose body went to the blob store
// answers with the body read back, beside its reference; a body too large to answer inline is
// given as a link instead, and without a blob store there is no data to show.
func TestHistoryClaimCheckedBody(t *testing.T) {
	t.Parallel()
	const ref = "mem:events/github/big"
	body := []byte(`{"pad":"` + strings.Repeat("x", 2000) + `"}`)
	hist := &fakeHistory{store: &storetest.Memory{}}
	r := &event.Record{Event: &event.Event{ID: event.DeliveryID("github", "big"), Source: "github", Type: "push",
		Time: storedAt, ReceivedAt: storedAt, DataContentType: "application/json", DataRef: ref}, StoredAt: storedAt}
	hist.store.Add(r)
	get := func(h *lambdaio.HistoryHandler) historyapi.EventView {
		t.Helper()
		req := events.APIGatewayV2HTTPRequest{RawPath: "/events/" + r.Event.ID, PathParameters: map[string]string{"id": r.Event.ID}}
		req.RequestContext.HTTP.Method = http.MethodGet
		resp, err := h.Handle(context.Background(), req)
		var v historyapi.EventView
		if err != nil || resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &v) != nil {
			t.Fatalf("GET: %v %d %s", err, resp.StatusCode, resp.Body)
		}
		return v
	}
	now := func() time.Time { return storedAt }

	v := get(&lambdaio.HistoryHandler{History: hist, Log: quiet(), Now: now, Blobs: linkingBlobs{ref: body}})
	if string(v.Data) != string(body) || v.DataRef != ref || v.DataURL != "" {
		t.Errorf("inline: data %d bytes, dataref %q, data_url %q; want the %d-byte body and its reference", len(v.Data), v.DataRef, v.DataURL, len(body))
	}
	v = get(&lambdaio.HistoryHandler{History: hist, Log: quiet(), Now: now, Blobs: linkingBlobs{ref: body}, MaxResponse: 2000})
	if v.Data != nil || v.DataURL != "https://blobs.example/"+ref || v.DataRef != ref {
		t.Errorf("too large: data %d bytes, dataref %q, data_url %q; want a link instead of the data", len(v.Data), v.DataRef, v.DataURL)
	}
	v = get(&lambdaio.HistoryHandler{History: hist, Log: quiet(), Now: now})
	if v.Data != nil || v.DataURL != "" {
		t.Errorf("no blob store: data %d bytes, data_url %q; want neither", len(v.Data), v.DataURL)
	}
}

// goneBlobs is a blob store whose bodies have all expired, as s3blob and the local blob table
// say it: pipeline.ErrNotFound, wrapped.
type goneBlobs struct{}

func (goneBlobs) Get(_ context.Context, ref string) ([]byte, error) {
	return nil, fmt.Errorf("s3 get %s: %w", ref, pipeline.ErrNotFound)
}

// TestHistoryExpiredBody: an event whose body the retention already removed (the bucket's
// lifecycle can act days before DynamoDB's TTL deletes the item) is a 404 saying it expired,
// not a 500.
func TestHistoryExpiredBody(t *testing.T) {
	t.Parallel()
	hist := &fakeHistory{store: &storetest.Memory{}}
	r := &event.Record{Event: &event.Event{ID: event.DeliveryID("github", "old"), Source: "github", Type: "push",
		Time: storedAt, ReceivedAt: storedAt, DataContentType: "application/json", DataRef: "s3://bodies/events/github/old"}, StoredAt: storedAt}
	hist.store.Add(r)
	h := &lambdaio.HistoryHandler{History: hist, Log: quiet(), Now: func() time.Time { return storedAt }, Blobs: goneBlobs{}}
	req := events.APIGatewayV2HTTPRequest{RawPath: "/events/" + r.Event.ID, PathParameters: map[string]string{"id": r.Event.ID}}
	req.RequestContext.HTTP.Method = http.MethodGet
	resp, err := h.Handle(context.Background(), req)
	var p struct {
		Status int
		Detail string
	}
	if err != nil || resp.StatusCode != http.StatusNotFound || resp.Headers["Content-Type"] != "application/problem+json" ||
		json.Unmarshal([]byte(resp.Body), &p) != nil || !strings.Contains(p.Detail, "has expired") || strings.Contains(p.Detail, "s3://") {
		t.Errorf("GET of an event whose body expired: %v %d %v %s; want a 404 problem saying the event expired, naming no object", err, resp.StatusCode, resp.Headers, resp.Body)
	}
}

// TestHealthMethods: GET and HEAD are answered, any other method is a 405 problem.
func TestHealthMethods(t *testing.T) {
	t.Parallel()
	h := &lambdaio.HealthHandler{Check: func(context.Context) error { return nil }, Log: quiet()}
	for method, want := range map[string]int{http.MethodGet: 200, http.MethodHead: 200, http.MethodPost: 405, http.MethodDelete: 405} {
		req := events.APIGatewayV2HTTPRequest{RawPath: "/healthz"}
		req.RequestContext.HTTP.Method = method
		if resp, _ := h.Handle(context.Background(), req); resp.StatusCode != want {
			t.Errorf("%s /healthz: %d, want %d", method, resp.StatusCode, want)
		}
	}
}

// TestProblemResponseAllow: a 405 names the methods its error allows, POST when it names none.
func TestProblemResponseAllow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{pipeline.Errorf(pipeline.KindMethodNotAllowed, "GET is not allowed"), "POST"},
		{&pipeline.Error{Kind: pipeline.KindMethodNotAllowed, Allow: "GET, POST", Detail: "PUT is not allowed"}, "GET, POST"},
	} {
		resp := lambdaio.ProblemResponse(tc.err, "/webhooks/x")
		if resp.StatusCode != 405 || resp.Headers["Allow"] != tc.want {
			t.Errorf("%v: %d, Allow %q; want 405, Allow %q", tc.err, resp.StatusCode, resp.Headers["Allow"], tc.want)
		}
	}
}
