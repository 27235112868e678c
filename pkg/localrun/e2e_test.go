package localrun_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hookline/internal/smtptest"
	"hookline/pkg/historyapi"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/localrun"
	"hookline/pkg/localrun/localruntest"
	"hookline/pkg/pipeline"
	"hookline/pkg/verify"
	"hookline/pkg/verify/verifytest"
)

// The vectors were signed at fixed times in the past, and a tolerance is at most an hour: the
// tests that replay them set ingest's clock to each vector's signing time (replayClock). The
// "strict" source is the same Standard Webhooks secrets with the default five minutes, posted
// to at the real time, to prove stale requests are refused.

// replayClock is ingest's clock in the end-to-end tests: the real time until a test sets a
// vector's signing time.
type replayClock struct{ at atomic.Int64 } // unix nanoseconds; 0 = time.Now

func (c *replayClock) Now() time.Time {
	if n := c.at.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Now()
}

// signedAt sets the clock to a moment after v was signed, within any tolerance.
func (c *replayClock) signedAt(v verifytest.Vector) {
	ts := v.Timestamp
	if t, err := strconv.ParseInt(v.Headers["webhook-timestamp"]+v.Headers["svix-timestamp"], 10, 64); err == nil {
		ts = t // Standard Webhooks vectors carry their own signed time
	}
	c.at.Store(time.Unix(ts, 0).Add(1500 * time.Millisecond).UnixNano())
}

func sourcesFor(t *testing.T, vs []verifytest.Vector) string {
	t.Helper()
	scheme, secrets := map[string]string{}, map[string][]string{}
	for _, v := range vs {
		scheme[v.Provider] = v.Scheme()
		if !slices.Contains(secrets[v.Provider], v.Secret) {
			secrets[v.Provider] = append(secrets[v.Provider], v.Secret)
		}
	}
	cfg := map[string]map[string]any{}
	for p, s := range secrets {
		cfg[p] = map[string]any{"scheme": scheme[p], "secrets": s}
	}
	for _, v := range vs {
		if v.URL != "" { // Twilio signs the URL it was configured with
			base, _, _ := strings.Cut(v.URL, "?")
			cfg[v.Provider]["url"] = base
		}
	}
	cfg["strict"] = map[string]any{"scheme": "standard-webhooks", "secrets": secrets["standard-webhooks"]}
	cfg["postman"] = map[string]any{"scheme": "token", "secrets": []string{"dev-token-0123456"}}
	b, _ := json.Marshal(map[string]any{"sources": cfg})
	path := filepath.Join(t.TempDir(), "sources.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type server struct {
	url   string
	data  string
	clock *replayClock
	mail  *smtptest.Server // the mail server the notifier sends to: emails are counted as sent
}

func start(t *testing.T, sources string, maxReceives int) *server {
	t.Helper()
	clock := &replayClock{}
	mail := smtptest.Start(t, smtptest.Options{})
	rs := localruntest.Start(t, localrun.Config{SourcesFile: sources, Visibility: time.Second, MaxReceives: maxReceives,
		Durability: engine.DurabilityProcess, Clock: clock.Now, SMTPAddr: mail.Addr})
	return &server{url: rs.URL, data: rs.DataDir, clock: clock, mail: mail}
}

func (s *server) post(t *testing.T, source string, headers map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/webhooks/"+source, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func (s *server) getEvent(t *testing.T, id string) (int, historyapi.EventView) {
	t.Helper()
	resp, err := http.Get(s.url + "/events/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v historyapi.EventView
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

// waitNotified polls the history until the event is notified or the deadline passes.
func (s *server) waitNotified(t *testing.T, id string) historyapi.EventView {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, v := s.getEvent(t, id)
		if code == 200 && v.NotifiedAt != nil {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s not stored and notified within 10s (last status %d %+v)", id, code, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// emails is how many emails about event id the mail server accepted. An event is marked
// notified only after its send returned, so once waitNotified saw the mark the count is final
// unless something sends twice.
func (s *server) emails(id string) int { return s.mail.PerEvent()[id] }

func TestEndToEndEveryScheme(t *testing.T) {
	vs := verifytest.Load(t)
	s := start(t, sourcesFor(t, vs), 5)
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			id := s.accept(t, v)
			ev := s.waitNotified(t, id)
			if ev.Source != v.Provider || ev.Status != "notified" || ev.StoredAt.IsZero() {
				t.Errorf("history = %+v", ev)
			}
			if n := s.emails(id); n != 1 {
				t.Errorf("%d emails for %s, want 1", n, id)
			}
			// The evidence: which scheme and secret, the signed time's skew, what was signed.
			vv := ev.Verification
			sum := sha256.Sum256([]byte(v.Body))
			signsTime := signsTime(v)
			if vv == nil || vv.Scheme != v.Scheme() || vv.Key != keyIndex(vs, v) || vv.BodySHA256 != hex.EncodeToString(sum[:]) ||
				!vv.SignedID || (vv.SkewMS != nil) != signsTime || (signsTime && *vv.SkewMS != -1500) {
				t.Errorf("verification = %+v (skew %v), want scheme %s key %d", vv, vv.SkewMS, v.Scheme(), keyIndex(vs, v))
			}
		})
	}
}

// accept posts v as its provider sent it, on a clock set to its signing time, and returns the
// id of the accepted event; any answer but 202 accepted fails the test.
func (s *server) accept(t *testing.T, v verifytest.Vector) string {
	t.Helper()
	s.clock.signedAt(v)
	code, out := s.postVector(t, v, v.Headers)
	if code != http.StatusAccepted || out["status"] != "accepted" {
		t.Fatalf("%s: %d %v", v.Name, code, out)
	}
	return out["id"].(string)
}

// postVector posts v's body with headers (v's own, or a variant of them) the way the provider
// sent it: its content type, and for Twilio the query string the signed URL carries.
func (s *server) postVector(t *testing.T, v verifytest.Vector, headers map[string]string) (int, map[string]any) {
	t.Helper()
	h := map[string]string{}
	for k, val := range headers {
		h[k] = val
	}
	if v.ContentType != "" {
		h["Content-Type"] = v.ContentType
	}
	path := v.Provider
	if _, q, ok := strings.Cut(v.URL, "?"); ok {
		path += "?" + q
	}
	return s.post(t, path, h, v.Body)
}

// signsTime reports whether v's scheme signs a timestamp, so its evidence has a skew.
func signsTime(v verifytest.Vector) bool {
	for _, h := range []string{"stripe-signature", "webhook-timestamp", "svix-timestamp", "x-slack-request-timestamp", "x-zm-request-timestamp"} {
		if _, ok := v.Headers[h]; ok {
			return true
		}
	}
	return false
}

// keyIndex is the index of the first of v's source's secrets (as sourcesFor lists them) that
// is v's key: two Standard Webhooks secrets, with and without "whsec_", are one key.
func keyIndex(vs []verifytest.Vector, v verifytest.Vector) int {
	key := func(secret string) string {
		if v.Scheme() == "standard-webhooks" {
			k, _ := verify.StandardWebhooksKey(secret)
			return string(k)
		}
		return secret
	}
	var secrets []string
	for _, o := range vs {
		if o.Provider == v.Provider && !slices.Contains(secrets, o.Secret) {
			secrets = append(secrets, o.Secret)
		}
	}
	for i, s := range secrets {
		if key(s) == key(v.Secret) {
			return i
		}
	}
	return -1
}

func TestEndToEndRejections(t *testing.T) {
	vs := verifytest.Load(t)
	s := start(t, sourcesFor(t, vs), 5)
	var gh, sw verifytest.Vector
	for _, v := range vs {
		switch v.Name {
		case "github/json":
			gh = v
		case "standard-webhooks/spec":
			sw = v
		}
	}
	tampered := gh.Body[:len(gh.Body)-2] + "2}}"
	wrongSecret := map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("0", 64), "Content-Type": "application/json"}
	cases := []struct {
		name, source string
		headers      map[string]string
		body         string
		want         int
		detail       string
	}{
		{"tampered body", "github", gh.Headers, tampered, 401, "no matching signature"},
		{"wrong secret", "github", wrongSecret, gh.Body, 401, "no matching signature"},
		{"stale timestamp", "strict", sw.Headers, sw.Body, 401, "timestamp outside tolerance"},
		{"unknown source", "nope", gh.Headers, gh.Body, 404, `no source named "nope"`},
		{"missing token", "postman", map[string]string{"Content-Type": "text/plain"}, "hi", 401, "missing signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := s.post(t, c.source, c.headers, c.body)
			if code != c.want || !strings.Contains(fmt.Sprint(out["detail"]), c.detail) {
				t.Errorf("got %d %v, want %d with %q", code, out, c.want, c.detail)
			}
		})
	}
	// Nothing was stored by any of them.
	resp, err := http.Get(s.url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list historyapi.ListView
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Events) != 0 {
		t.Errorf("history after rejections: %v %+v", err, list)
	}
	// A browser GET gets a clear 405 problem.
	get, err := http.Get(s.url + "/webhooks/github")
	if err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	if get.StatusCode != 405 || get.Header.Get("Content-Type") != "application/problem+json" || get.Header.Get("Allow") != "POST" {
		t.Errorf("GET /webhooks/github: %d %v", get.StatusCode, get.Header)
	}
}

func TestEndToEndDuplicateDelivery(t *testing.T) {
	vs := verifytest.Load(t)
	s := start(t, sourcesFor(t, vs), 5)
	var sw verifytest.Vector
	for _, v := range vs {
		if v.Name == "standard-webhooks/unicode" {
			sw = v
		}
	}
	ids := map[string]bool{}
	s.clock.signedAt(sw)
	for range 3 {
		code, out := s.post(t, "standard-webhooks", sw.Headers, sw.Body)
		if code != 202 {
			t.Fatalf("got %d %v", code, out)
		}
		ids[out["id"].(string)] = true
	}
	if len(ids) != 1 {
		t.Fatalf("three deliveries of one webhook-id got ids %v, want one", ids)
	}
	var id string
	for k := range ids {
		id = k
	}
	ev := s.waitNotified(t, id)

	// The bus may deliver a message twice too (SNS and SQS are at-least-once): put the same
	// envelope on the topic again through a second connection to the database file.
	eng, err := engine.Open(filepath.Join(s.data, localrun.DBFile), engine.Options{Durability: engine.DurabilityProcess, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	full, err := eng.Events().Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Topic(localrun.EventsTopic).Publish(ctx, pipeline.Message{ID: id, Source: ev.Source, Type: ev.Type, Body: full.Event.Marshal()}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		visible, inflight, err := eng.Depth(ctx, localrun.EventsQueue)
		if err != nil {
			t.Fatal(err)
		}
		if visible+inflight == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the redelivered message was never consumed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The subscriber stored (or refused) the copy before the message was deleted, and an INSERT
	// is written in the same transaction as its item: a wrong second INSERT is on the stream now.
	// A wrong second email would follow from it; wait until the notifier has checkpointed
	// everything on the stream, then count what the mail server accepted.
	enginetest.WaitCaughtUp(t, eng, localrun.StreamConsumer, time.Until(deadline))

	// One item, one INSERT on the stream (so the notifier is asked once), one email sent.
	resp, err := http.Get(s.url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	var list historyapi.ListView
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Events) != 1 {
		t.Errorf("history has %d events, want 1", len(list.Events))
	}
	recs, err := eng.ReadStream(ctx, "test-reader-from-the-start", 100)
	if err != nil {
		t.Fatal(err)
	}
	inserts := 0
	for _, r := range recs {
		if r.EventName == engine.StreamInsert && r.Keys["id"].String() == id {
			inserts++
		}
	}
	if inserts != 1 {
		t.Errorf("%d INSERT stream records for the event, want 1", inserts)
	}
	if n := s.emails(id); n != 1 {
		t.Errorf("the mail server accepted %d emails, want 1", n)
	}
}

// TestEndToEndPoisonMessage puts a message no subscriber can store on the bus (through a second
// connection to the same database file, as a foreign publisher would) and watches it land in
// the DLQ after maxReceiveCount deliveries, with the reason.
func TestEndToEndPoisonMessage(t *testing.T) {
	vs := verifytest.Load(t)
	s := start(t, sourcesFor(t, vs), 2)
	eng, err := engine.Open(filepath.Join(s.data, localrun.DBFile), engine.Options{Durability: engine.DurabilityProcess, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	if err := eng.Topic(localrun.EventsTopic).Publish(ctx, pipeline.Message{ID: "poison-1", Source: "github", Type: "push", Body: []byte(`{"not":"an event"}`)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		dead, err := eng.ListDLQ(ctx, localrun.EventsDLQ, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) == 1 {
			d := dead[0]
			if string(d.Body) != `{"not":"an event"}` || d.ReceiveCount < 2 || d.Reason == "" {
				t.Errorf("dead letter = %+v", d)
			}
			t.Logf("DLQ: receive count %d, reason %q", d.ReceiveCount, d.Reason)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("poison message not in the DLQ after 20s (DLQ has %d)", len(dead))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
