package localrun_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"hookline/pkg/historyapi"
)

const ceToken = "cloudevents-token-0123456789"

func startCloudEvents(t *testing.T) *server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sources.json")
	if err := os.WriteFile(path, []byte(`{"sources":{"ce":{"scheme":"cloudevents","secrets":["`+ceToken+`"]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, path, 5)
}

func newCE(id, typ string) cloudevents.Event {
	e := cloudevents.NewEvent()
	e.SetID(id)
	e.SetSource("https://sender.example/orders")
	e.SetType(typ)
	e.SetTime(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	e.SetExtension("tenant", "acme")
	_ = e.SetData(cloudevents.ApplicationJSON, map[string]any{"order": id})
	return e
}

// TestCloudEventsSDKSender: the CloudEvents Go SDK's HTTP client posts binary and structured
// events; each is stored with ce-type as its type, its extensions and its own source kept.
func TestCloudEventsSDKSender(t *testing.T) {
	s := startCloudEvents(t)
	client, err := cloudevents.NewClientHTTP(cehttp.WithTarget(s.url+"/webhooks/ce"), cehttp.WithHeader("Authorization", "Bearer "+ceToken))
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"binary", "structured"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			if mode == "structured" {
				ctx = cloudevents.WithEncodingStructured(ctx)
			}
			ev := newCE("order-"+mode, "com.example.order.created")
			var resp *cehttp.Result
			result := client.Send(ctx, ev)
			if !cloudevents.ResultAs(result, &resp) || resp.StatusCode != http.StatusAccepted {
				t.Fatalf("send: %v", result)
			}
			got := s.waitDelivery(t, "/events?source=ce&type=com.example.order.created", "order-"+mode)
			if got.Type != "com.example.order.created" || string(got.Data) != `{"order":"order-`+mode+`"}` {
				t.Errorf("stored %+v", got)
			}
			if string(got.Extensions["tenant"]) != `"acme"` || string(got.Extensions["sendersource"]) != `"https://sender.example/orders"` {
				t.Errorf("extensions %v", got.Extensions)
			}
		})
	}
}

// TestCloudEventsBatch: a batched post of 10 events gives one 202 listing 10 ids and 10 stored
// events; the same batch again (a retry) stores nothing new.
func TestCloudEventsBatch(t *testing.T) {
	s := startCloudEvents(t)
	var batch []cloudevents.Event
	for i := range 10 {
		batch = append(batch, newCE(fmt.Sprintf("b-%02d", i), "com.example.order.created"))
	}
	post := func() []string {
		req, err := cehttp.NewHTTPRequestFromEvents(context.Background(), s.url+"/webhooks/ce", batch)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+ceToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out struct {
			IDs    []string `json:"ids"`
			Status string   `json:"status"`
		}
		if resp.StatusCode != http.StatusAccepted || json.Unmarshal(b, &out) != nil || out.Status != "accepted" {
			t.Fatalf("batch: %d %s", resp.StatusCode, b)
		}
		return out.IDs
	}
	ids := post()
	if len(ids) != 10 {
		t.Fatalf("202 lists %d ids, want 10", len(ids))
	}
	for i, id := range ids {
		if v := s.waitStored(t, id); v.DeliveryID != fmt.Sprintf("b-%02d", i) {
			t.Errorf("id %d is %s's event, want b-%02d", i, v.DeliveryID, i)
		}
	}
	if again := post(); !slices.Equal(again, ids) {
		t.Errorf("the retried batch got other ids")
	}
	s.waitQueueEmpty(t) // the retry's messages are through the subscriber before counting
	stored := s.listIDs(t, "/events?source=ce&limit=100")
	if len(stored) != 10 {
		t.Errorf("%d events stored, want 10", len(stored))
	}
}

// waitDelivery polls a list until an event with the delivery id shows up, and returns it whole.
func (s *server) waitDelivery(t *testing.T, path, delivery string) historyapi.EventView {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		var l historyapi.ListView
		err = json.NewDecoder(resp.Body).Decode(&l)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range l.Events {
			if e.DeliveryID == delivery {
				return s.waitStored(t, e.ID)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no event with delivery id %s in %s within 20s", delivery, path)
	return historyapi.EventView{}
}

// waitQueueEmpty polls /healthz until the events queue holds nothing, visible or in flight.
func (s *server) waitQueueEmpty(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		var h struct {
			Queue struct {
				Visible  int `json:"visible"`
				InFlight int `json:"in_flight"`
			} `json:"queue"`
		}
		err = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if err == nil && h.Queue.Visible == 0 && h.Queue.InFlight == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the events queue did not drain within 20s")
}
