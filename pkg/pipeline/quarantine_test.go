package pipeline_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/publishertest"
	"hookline/pkg/seal"
	"hookline/pkg/sender"
	"hookline/pkg/source"
)

type memRejected struct {
	mu   sync.Mutex
	kept []*pipeline.Rejection
}

func (m *memRejected) Keep(_ context.Context, r *pipeline.Rejection) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kept = append(m.kept, r)
	return nil
}

func (m *memRejected) Get(_ context.Context, id string) (*pipeline.Rejection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.kept {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, pipeline.ErrNotFound
}

func (m *memRejected) List(context.Context, pipeline.RejectedQuery) (pipeline.RejectedPage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return pipeline.RejectedPage{Rejections: append([]*pipeline.Rejection(nil), m.kept...)}, nil
}

func (m *memRejected) MarkReadmitted(_ context.Context, id, eventID string, at time.Time) error {
	r, err := m.Get(context.Background(), id)
	if err == nil && r.ReadmittedAt.IsZero() {
		r.ReadmittedAt, r.EventID = at, eventID
	}
	return err
}

const qSecret = "quarantine-test-secret-01"

func sources(t *testing.T, secrets ...string) *source.Set {
	t.Helper()
	quoted := `"` + strings.Join(secrets, `","`) + `"`
	set, err := source.Parse([]byte(`{"sources":{"github":{"scheme":"github","secrets":[` + quoted + `]},
		"hooks":{"scheme":"hmac-sha256","header":"X-Sig","secrets":["` + qSecret + `"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func githubRequest(t *testing.T, secret string, body []byte) pipeline.IngestRequest {
	t.Helper()
	h, err := sender.Sign(sender.Request{Scheme: sender.GitHub, Secret: secret, Body: body, Type: "push", ContentType: "application/json"})
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{"user-agent": "GitHub-Hookshot/1", "cookie": "session=abc"}
	for k := range h {
		headers[strings.ToLower(k)] = h.Get(k)
	}
	return pipeline.IngestRequest{Source: "github", Header: mapHeader(headers), Headers: headers, Body: body,
		SourceIP: netip.MustParseAddr("::ffff:192.0.2.7"), RawPath: "/webhooks/github"}
}

type mapHeader map[string]string

func (h mapHeader) Get(n string) string { return h[n] }

// TestKeeperRedactsSealsAndLimits: a refused request is kept with secret-bearing values
// redacted (and sealed), at most PerMinute per source per minute, names nobody configured
// sharing one allowance, and a 503 is not kept.
func TestKeeperRedactsSealsAndLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, key := &memRejected{}, sealKey(t)
	clock := time.Date(2026, 11, 27, 12, 0, 30, 0, time.UTC)
	in := keepingIngest(t, &pipeline.Keeper{Store: store, Sealer: key, PerMinute: 2}, &clock)
	req := githubRequest(t, "wrong-secret-0123456789", []byte(`{"a":1}`))
	for range 3 {
		if _, err := in.Accept(ctx, req); pipeline.KindOf(err) != pipeline.KindUnauthorized {
			t.Fatalf("err = %v", err)
		}
	}
	if len(store.kept) != 2 {
		t.Fatalf("kept %d of 3 refusals in one minute, want PerMinute = 2", len(store.kept))
	}
	r := store.kept[0]
	if r.Source != "github" || r.Reason != "unauthorized" || r.SourceIP != "192.0.2.7" || r.ReceivedAt != clock || string(r.Body) != `{"a":1}` ||
		!strings.Contains(r.Detail, "matches no secret") {
		t.Errorf("kept %+v", r)
	}
	for _, n := range []string{"x-hub-signature-256", "cookie"} {
		if r.Header[n] != pipeline.Redacted {
			t.Errorf("header %s = %q, want it redacted", n, r.Header[n])
		}
	}
	if r.Header["user-agent"] != req.Headers["user-agent"] || r.Header["x-github-event"] != "push" || r.Header["content-type"] != "application/json" {
		t.Errorf("harmless headers changed: %v", r.Header)
	}
	if strings.Contains(string(r.Sealed), req.Headers["x-hub-signature-256"]) {
		t.Error("the sealed headers hold the signature in clear")
	}
	back, err := pipeline.Unredact(ctx, r, key)
	if err != nil || back["x-hub-signature-256"] != req.Headers["x-hub-signature-256"] || back["cookie"] != "session=abc" {
		t.Errorf("Unredact = %v, %v", back, err)
	}
	// Another source has its own allowance; unknown names share one.
	other := req
	other.Source = "hooks"
	if _, err := in.Accept(ctx, other); err == nil {
		t.Fatal("accepted")
	}
	unknown := req
	for _, name := range []string{"nope1", "nope2", "nope3"} {
		unknown.Source = name
		in.Accept(ctx, unknown)
	}
	if len(store.kept) != 2+1+2 {
		t.Errorf("kept %d, want 2 github + 1 hooks + 2 of 3 unknown names", len(store.kept))
	}
	var keptFrom []string
	for _, r := range store.kept {
		keptFrom = append(keptFrom, r.Source)
	}
	if got := strings.Join(keptFrom, ","); got != "github,github,hooks,nope1,nope2" {
		t.Errorf("kept the refusals of %s, want github,github,hooks,nope1,nope2", got)
	}
	// The next minute has a fresh allowance.
	clock = clock.Add(time.Minute)
	in.Accept(ctx, req)
	if len(store.kept) != 6 {
		t.Errorf("kept %d after a minute, want one more", len(store.kept))
	}
	// A big body is cut; the cut request cannot be readmitted.
	big := githubRequest(t, qSecret, []byte(strings.Repeat("x", pipeline.MaxBodyBytes+100)))
	if _, err := in.Accept(ctx, big); pipeline.KindOf(err) != pipeline.KindTooLarge {
		t.Fatalf("big body: %v", err)
	}
	last := store.kept[len(store.kept)-1]
	if last.Reason != "too_large" || len(last.Body) != pipeline.MaxKeptBody || last.BodySize != pipeline.MaxBodyBytes+100 || !last.Truncated() {
		t.Errorf("body kept %d of %d, truncated %v", len(last.Body), last.BodySize, last.Truncated())
	}
	r2 := &pipeline.Readmitter{Ingest: &pipeline.Ingest{Sources: sources(t, qSecret), Publisher: &publishertest.Recorder{}}, Store: store, Opener: key}
	if _, err := r2.Readmit(ctx, last.ID); pipeline.KindOf(err) != pipeline.KindTooLarge || !strings.Contains(err.Error(), "body bytes were kept") {
		t.Errorf("readmit of a cut body: %v", err)
	}
}

// TestReadmitSameIdentity: a readmit verifies as of the receipt and publishes the id ingest
// would have given; a repeat publishes nothing; a request still refused stays kept.
func TestReadmitSameIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, key := &memRejected{}, sealKey(t)
	received := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	const newSecret = "rotated-but-not-configured"
	in := keepingIngest(t, &pipeline.Keeper{Store: store, Sealer: key}, &received)
	req := githubRequest(t, newSecret, []byte(`{"b":2}`))
	in.Accept(ctx, req)
	if len(store.kept) != 1 {
		t.Fatalf("kept %d", len(store.kept))
	}
	id := store.kept[0].ID

	pub := &publishertest.Recorder{}
	r := &pipeline.Readmitter{Ingest: &pipeline.Ingest{Sources: sources(t, qSecret), Publisher: pub}, Store: store, Opener: key}
	if _, err := r.Readmit(ctx, id); pipeline.KindOf(err) != pipeline.KindUnauthorized {
		t.Fatalf("readmit with the old config: %v, want unauthorized", err)
	}
	r.Ingest.Sources = sources(t, qSecret, newSecret)
	res, err := r.Readmit(ctx, id)
	if err != nil || res.Already || pub.Len() != 1 {
		t.Fatalf("readmit: %+v %v, published %d", res, err, pub.Len())
	}
	// The id ingest would have given the same request with the secret configured.
	direct := &publishertest.Recorder{}
	if acc, err := (&pipeline.Ingest{Sources: sources(t, qSecret, newSecret), Publisher: direct, Now: func() time.Time { return received }}).Accept(ctx, req); err != nil || acc.ID != res.EventID {
		t.Errorf("ingest would give %s (%v); readmit gave %s", acc.ID, err, res.EventID)
	}
	if !strings.Contains(string(pub.All()[0].Body), `"receivedat":"2026-11-27T12:00:00Z"`) {
		t.Errorf("the readmitted event is not received when the request arrived: %s", pub.All()[0].Body)
	}
	again, err := r.Readmit(ctx, id)
	if err != nil || !again.Already || again.EventID != res.EventID || pub.Len() != 1 {
		t.Errorf("second readmit: %+v %v, published %d", again, err, pub.Len())
	}
}

var errBusDown = errors.New("bus down")

// failAfter publishes n messages, then fails every publish with errBusDown.
type failAfter struct {
	mu sync.Mutex
	n  int
}

func (f *failAfter) Publish(context.Context, pipeline.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		return errBusDown
	}
	f.n--
	return nil
}

type listHistory struct{ recs []*event.Record }

func (h listHistory) Get(context.Context, string) (*event.Record, error) {
	return nil, pipeline.ErrNotFound
}
func (h listHistory) List(_ context.Context, q pipeline.Query) (pipeline.Page, error) {
	start := 0
	if q.Cursor != "" {
		fmt.Sscan(q.Cursor, &start)
	}
	end := min(start+q.Limit, len(h.recs))
	p := pipeline.Page{Records: h.recs[start:end]}
	if end < len(h.recs) {
		p.Cursor = fmt.Sprint(end)
	}
	return p, nil
}

// TestReplayStopsAtTheFirstFailure: a replay reports what it published and the publish error.
func TestReplayStopsAtTheFirstFailure(t *testing.T) {
	t.Parallel()
	var recs []*event.Record
	for i := range 2500 {
		e := &event.Event{ID: event.DeliveryID("s", fmt.Sprint(i)), Source: "s", Type: "t", Time: time.Unix(1, 0), ReceivedAt: time.Unix(1, 0)}
		recs = append(recs, &event.Record{Event: e})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang bound only
	defer cancel()
	ok := &publishertest.Recorder{}
	res, err := (&pipeline.Replayer{History: listHistory{recs}, Publisher: ok}).Replay(ctx, pipeline.Query{}, false, nil)
	if err != nil || res.Matched != 2500 || res.Published != 2500 || ok.Len() != 2500 || !ok.All()[0].Replay {
		t.Fatalf("replay: %+v %v, %d published", res, err, ok.Len())
	}
	res, err = (&pipeline.Replayer{History: listHistory{recs}, Publisher: &failAfter{n: 100}}).Replay(ctx, pipeline.Query{}, false, nil)
	if !errors.Is(err, errBusDown) || !strings.HasPrefix(err.Error(), "replay event ") || res.Published != 100 {
		t.Errorf("failing replay: %+v %v, want 100 published and the publish error", res, err)
	}
}

// sharedQuota is a KeepQuota several keepers share, like the counter items on AWS.
type sharedQuota struct {
	mu    sync.Mutex
	taken map[string]int
	calls int
	err   error
}

func (q *sharedQuota) Take(_ context.Context, key string, minute int64, limit int) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if q.err != nil {
		return false, q.err
	}
	if q.taken == nil {
		q.taken = map[string]int{}
	}
	k := fmt.Sprint(minute, "#", key)
	if q.taken[k] >= limit {
		return false, nil
	}
	q.taken[k]++
	return true, nil
}

// TestKeeperSharesTheQuota: three keepers (three ingest instances) keep PerMinute together, not
// each; once the quota says no, a keeper stops asking for the rest of the minute; a quota that
// fails keeps nothing and changes no answer.
func TestKeeperSharesTheQuota(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, quota := &memRejected{}, &sharedQuota{}
	clock := time.Date(2026, 11, 27, 12, 0, 30, 0, time.UTC)
	var instances []*pipeline.Ingest
	for range 3 {
		instances = append(instances, keepingIngest(t, &pipeline.Keeper{Store: store, PerMinute: 4, Quota: quota}, &clock))
	}
	req := githubRequest(t, "wrong-secret-0123456789", []byte(`{"a":1}`))
	for range 10 {
		for _, in := range instances {
			if _, err := in.Accept(ctx, req); pipeline.KindOf(err) != pipeline.KindUnauthorized {
				t.Fatalf("err = %v", err)
			}
		}
	}
	if len(store.kept) != 4 {
		t.Errorf("three instances kept %d of 30 refusals in one minute, want PerMinute = 4 together", len(store.kept))
	}
	// 4 granted + at most one refused Take per instance.
	if quota.calls > 4+3 {
		t.Errorf("%d Takes for 30 refusals; want at most 7", quota.calls)
	}
	clock = clock.Add(time.Minute)
	if _, err := instances[0].Accept(ctx, req); pipeline.KindOf(err) != pipeline.KindUnauthorized {
		t.Fatal(err)
	}
	if len(store.kept) != 5 {
		t.Errorf("the next minute kept %d in all, want 5", len(store.kept))
	}
	quota.err = fmt.Errorf("dynamodb is down")
	clock = clock.Add(time.Minute)
	if _, err := instances[1].Accept(ctx, req); pipeline.KindOf(err) != pipeline.KindUnauthorized {
		t.Fatalf("with the quota failing: %v, want the same 401", err)
	}
	if len(store.kept) != 5 {
		t.Errorf("kept %d with the quota failing, want still 5", len(store.kept))
	}
}

// TestKeepOnlyPosts: Accept keeps a refused POST, or a refused request whose method the
// caller left empty; a refused GET or HEAD is not kept.
func TestKeepOnlyPosts(t *testing.T) {
	t.Parallel()
	store := &memRejected{}
	in := keepingIngest(t, &pipeline.Keeper{Store: store, PerMinute: 100}, nil)
	for method, kept := range map[string]int{"": 1, http.MethodPost: 1, http.MethodGet: 0, http.MethodHead: 0} {
		req := githubRequest(t, "wrong-secret-0123456789", []byte(`{"a":1}`))
		req.Method = method
		before := len(store.kept)
		if _, err := in.Accept(context.Background(), req); err == nil {
			t.Fatalf("%q: accepted", method)
		}
		if got := len(store.kept) - before; got != kept {
			t.Errorf("method %q: kept %d, want %d", method, got, kept)
		}
	}
}

// TestHandshakeAnsweredNotPublished: a signed Slack url_verification to a source with
// "challenge": "slack" is answered with its challenge and publishes nothing; the same post to
// a source without the challenge is an ordinary event.
func TestHandshakeAnsweredNotPublished(t *testing.T) {
	t.Parallel()
	const secret = "slack-signing-secret-0123"
	set, err := source.Parse([]byte(`{"sources":{
		"slack": {"scheme":"slack","challenge":"slack","secrets":["` + secret + `"]},
		"plain": {"scheme":"slack","secrets":["` + secret + `"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	bus := &publishertest.Recorder{}
	in := &pipeline.Ingest{Sources: set, Publisher: bus}
	body := []byte(`{"type":"url_verification","challenge":"c-123","token":"x"}`)
	h, err := sender.Sign(sender.Request{Scheme: sender.Slack, Secret: secret, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	for k := range h {
		headers[strings.ToLower(k)] = h.Get(k)
	}
	acc, err := in.Accept(context.Background(), pipeline.IngestRequest{Source: "slack", Header: mapHeader(headers), Body: body})
	if err != nil || acc.Reply == nil || string(acc.Reply.Body) != `{"challenge":"c-123"}` || bus.Len() != 0 {
		t.Fatalf("handshake: %+v, %v, %d published; want the challenge back, nothing published", acc, err, bus.Len())
	}
	acc, err = in.Accept(context.Background(), pipeline.IngestRequest{Source: "plain", Header: mapHeader(headers), Body: body})
	if err != nil || acc.Reply != nil || bus.Len() != 1 {
		t.Errorf("without the challenge: %+v, %v, %d published; want one event", acc, err, bus.Len())
	}
}

// TestKeeperMinutes: the allowance is per clock minute: a refusal at :59 shares the minute of
// one at :00, the one at the next :00 starts a new minute.
func TestKeeperMinutes(t *testing.T) {
	t.Parallel()
	store := &memRejected{}
	k := &pipeline.Keeper{Store: store, PerMinute: 1}
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{start, start.Add(59 * time.Second), start.Add(time.Minute)} {
		refuse(t, k, at, map[string]string{})
	}
	var got []string
	for _, r := range store.kept {
		got = append(got, r.ReceivedAt.Format("15:04:05"))
	}
	if strings.Join(got, " ") != "12:00:00 12:01:00" {
		t.Errorf("kept the refusals of %v, want 12:00:00 and 12:01:00 (PerMinute 1)", got)
	}
}

// TestKeeperSealsOnlySecrets: a refused request without secret-bearing headers is kept with
// nothing sealed, even with a Sealer.
func TestKeeperSealsOnlySecrets(t *testing.T) {
	t.Parallel()
	store := &memRejected{}
	k := &pipeline.Keeper{Store: store, Sealer: sealKey(t)}
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	refuse(t, k, at, map[string]string{"user-agent": "curl/8"})
	refuse(t, k, at, map[string]string{"user-agent": "curl/8", "x-sig": "abc"})
	if len(store.kept) != 2 {
		t.Fatalf("kept %d, want 2", len(store.kept))
	}
	if plain, signed := store.kept[0], store.kept[1]; len(plain.Sealed) != 0 || len(signed.Sealed) == 0 {
		t.Errorf("sealed %d bytes without a secret header (want 0) and %d with x-sig (want some)", len(plain.Sealed), len(signed.Sealed))
	}
}

// TestKeeperCapsHeaders: a refused request's headers are kept up to MaxKeptHeaderBytes, the
// smallest first (so the signature and content type survive a flood of large ones), with a
// marker saying what was dropped; a sender's own marker header is not kept as one; and a
// request whose headers were cut cannot be readmitted.
func TestKeeperCapsHeaders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, key := &memRejected{}, sealKey(t)
	in := keepingIngest(t, &pipeline.Keeper{Store: store, Sealer: key}, nil)
	req := githubRequest(t, "wrong-secret-0123456789", []byte(`{"a":1}`))
	for i := range 40 { // 40 KiB of junk, and a 1 MiB header as `hookline local` takes
		req.Headers[fmt.Sprintf("x-junk-%02d", i)] = strings.Repeat("j", 1024)
	}
	req.Headers["x-huge"] = strings.Repeat("h", 1<<20)
	req.Headers[pipeline.HeadersCutMarker] = "nothing was cut"
	if _, err := in.Accept(ctx, req); pipeline.KindOf(err) != pipeline.KindUnauthorized {
		t.Fatalf("err = %v", err)
	}
	r := store.kept[0]
	opened, err := pipeline.Unredact(ctx, r, key)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for k, v := range opened {
		if k != pipeline.HeadersCutMarker {
			kept += len(k) + len(v)
		}
	}
	if kept > pipeline.MaxKeptHeaderBytes || kept < pipeline.MaxKeptHeaderBytes-1100 {
		t.Errorf("kept %d bytes of headers, want at most %d and within a header of it", kept, pipeline.MaxKeptHeaderBytes)
	}
	if opened["x-hub-signature-256"] != req.Headers["x-hub-signature-256"] || r.Header["content-type"] != "application/json" || r.Header["x-huge"] != "" {
		t.Errorf("kept signature %q, content type %q, x-huge %d bytes; want the small headers kept, the huge one dropped",
			opened["x-hub-signature-256"], r.Header["content-type"], len(r.Header["x-huge"]))
	}
	if !r.HeadersCut() || !strings.Contains(r.Header[pipeline.HeadersCutMarker], "headers") || !strings.Contains(r.Header[pipeline.HeadersCutMarker], "not kept") {
		t.Errorf("marker %q, want one saying headers were not kept", r.Header[pipeline.HeadersCutMarker])
	}
	r2 := &pipeline.Readmitter{Ingest: &pipeline.Ingest{Sources: sources(t, qSecret), Publisher: &publishertest.Recorder{}}, Store: store, Opener: key}
	if _, err := r2.Readmit(ctx, r.ID); pipeline.KindOf(err) != pipeline.KindTooLarge || !strings.Contains(err.Error(), "not kept") {
		t.Errorf("readmit of a request whose headers were cut: %v", err)
	}

	// Within the cap nothing is dropped, and no marker is added.
	small := githubRequest(t, "wrong-secret-0123456789", []byte(`{"a":2}`))
	in.Accept(ctx, small)
	if r := store.kept[1]; r.HeadersCut() || len(r.Header) != len(small.Headers) {
		t.Errorf("a small request kept %d of %d headers, cut %v", len(r.Header), len(small.Headers), r.HeadersCut())
	}
}

// TestKeeperCapsURL: a refused request's path and query are kept up to MaxKeptURLBytes
// together, the path first, never cut inside a UTF-8 sequence, with a marker saying what was
// kept; such a request cannot be readmitted; a request within the cap keeps its URL whole,
// and a sender's own marker header is dropped, not kept as one.
func TestKeeperCapsURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, key := &memRejected{}, sealKey(t)
	in := keepingIngest(t, &pipeline.Keeper{Store: store, Sealer: key}, nil)
	for _, tc := range []struct {
		name            string
		path, query     string
		keptPath, keptQ int
	}{
		// 1 MiB of query, as `hookline local` takes; the cut falls inside a 3-byte "€".
		{"long query", "/webhooks/github", "q=" + strings.Repeat("€", 1<<18), 16, (pipeline.MaxKeptURLBytes-16-2)/3*3 + 2},
		{"long path", "/webhooks/github/" + strings.Repeat("p", 1<<20), "a=1", pipeline.MaxKeptURLBytes, 0},
	} {
		req := githubRequest(t, "wrong-secret-0123456789", []byte(`{"a":1}`))
		req.RawPath, req.RawQuery = tc.path, tc.query
		n := len(store.kept)
		if _, err := in.Accept(ctx, req); pipeline.KindOf(err) != pipeline.KindUnauthorized {
			t.Fatalf("%s: err = %v", tc.name, err)
		}
		r := store.kept[n]
		if r.RawPath != tc.path[:tc.keptPath] || r.RawQuery != tc.query[:tc.keptQ] || !utf8.ValidString(r.RawQuery) {
			t.Errorf("%s: kept %d path bytes and %d query bytes (valid UTF-8 %v); want %d and %d", tc.name, len(r.RawPath), len(r.RawQuery), utf8.ValidString(r.RawQuery), tc.keptPath, tc.keptQ)
		}
		want := fmt.Sprintf("%d of %d path bytes and %d of %d query bytes kept", tc.keptPath, len(tc.path), tc.keptQ, len(tc.query))
		if !r.URLCut() || !strings.HasPrefix(r.Header[pipeline.URLCutMarker], want) {
			t.Errorf("%s: marker %q, want it to begin %q", tc.name, r.Header[pipeline.URLCutMarker], want)
		}
		r2 := &pipeline.Readmitter{Ingest: &pipeline.Ingest{Sources: sources(t, qSecret), Publisher: &publishertest.Recorder{}}, Store: store, Opener: key}
		if _, err := r2.Readmit(ctx, r.ID); pipeline.KindOf(err) != pipeline.KindTooLarge || !strings.Contains(err.Error(), "of its URL") {
			t.Errorf("%s: readmit of a request whose URL was cut: %v", tc.name, err)
		}
	}

	// A source name nobody configured, 1 MiB of it in the path: kept cut, as is the detail
	// that quotes it.
	long := githubRequest(t, "wrong-secret-0123456789", []byte(`{"a":3}`))
	long.Source = strings.Repeat("s", 1<<20)
	long.RawPath = "/webhooks/" + long.Source
	n := len(store.kept)
	if _, err := in.Accept(ctx, long); pipeline.KindOf(err) != pipeline.KindNotFound {
		t.Fatalf("an unknown 1 MiB source: %v", err)
	}
	if r := store.kept[n]; len(r.Source) != pipeline.MaxKeptSourceBytes || len(r.Detail) > pipeline.MaxKeptDetailBytes+len("…") || len(r.RawPath) != pipeline.MaxKeptURLBytes ||
		!strings.Contains(r.Header[pipeline.URLCutMarker], fmt.Sprintf("%d of %d source name bytes kept", pipeline.MaxKeptSourceBytes, len(long.Source))) {
		t.Errorf("an unknown 1 MiB source: kept %d bytes of its name, %d of the detail, %d of the path, marker %q",
			len(r.Source), len(r.Detail), len(r.RawPath), r.Header[pipeline.URLCutMarker])
	}

	small := githubRequest(t, "wrong-secret-0123456789", []byte(`{"a":2}`))
	small.RawPath, small.RawQuery = "/webhooks/github", "a="+strings.Repeat("x", pipeline.MaxKeptURLBytes-len("/webhooks/github")-2)
	small.Headers[pipeline.URLCutMarker] = "nothing was cut"
	n = len(store.kept)
	in.Accept(ctx, small)
	if r := store.kept[n]; r.URLCut() || r.RawPath != small.RawPath || r.RawQuery != small.RawQuery || !r.HeadersCut() {
		t.Errorf("a request of exactly MaxKeptURLBytes with its own %s header: URL cut %v, kept %d + %d bytes, headers cut %v; want the URL whole and the header dropped",
			pipeline.URLCutMarker, r.URLCut(), len(r.RawPath), len(r.RawQuery), r.HeadersCut())
	}
}

// failingRejected refuses every Keep.
type failingRejected struct{}

func (failingRejected) Keep(context.Context, *pipeline.Rejection) error {
	return errors.New("table unavailable")
}

// TestKeeperLogNamesTheEvent: when a refused request cannot be kept, the log line names the
// event id the request had (a signed body that is not JSON has one: its body hash), as the
// request's own line does, and the rejection's id; a request refused before it had an id has
// none in either.
func TestKeeperLogNamesTheEvent(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	k := &pipeline.Keeper{Store: failingRejected{}, Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	in := keepingIngest(t, k, nil)
	body := []byte(`{"a":`)
	acc, err := in.Accept(t.Context(), githubRequest(t, qSecret, body))
	want := event.BodyHashID("github", sha256.Sum256(body))
	if pipeline.KindOf(err) != pipeline.KindInvalid || acc.ID != want {
		t.Fatalf("Accept = %+v, %v; want KindInvalid naming %s", acc, err, want)
	}
	in.Accept(t.Context(), githubRequest(t, "wrong-secret-0123456789", []byte(`{}`)))
	var lines []struct{ Msg, EventID, RejectionID string }
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var v map[string]any
		if err := json.Unmarshal(l, &v); err != nil {
			t.Fatal(err)
		}
		e, _ := v["event_id"].(string)
		r, _ := v["rejection_id"].(string)
		lines = append(lines, struct{ Msg, EventID, RejectionID string }{v["msg"].(string), e, r})
	}
	if len(lines) != 2 || lines[0].EventID != want || lines[0].RejectionID == "" || lines[1].EventID != "" || lines[1].RejectionID == "" {
		t.Errorf("log lines %+v; want the first naming event %s, the second none, both a rejection", lines, want)
	}
}

// TestRequestOfKeepsAddressAndQuery: the rebuilt request has the kept source address and the
// query (repeated names joined by ','); a rejection without them gives none.
func TestRequestOfKeepsAddressAndQuery(t *testing.T) {
	t.Parallel()
	r := &pipeline.Rejection{ID: "r1", Source: "hooks", Body: []byte(`{}`), BodySize: 2, RawPath: "/webhooks/hooks",
		RawQuery: "a=1&b=2&a=3", SourceIP: "192.0.2.7"}
	req, err := pipeline.RequestOf(r, map[string]string{"x-sig": "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if req.SourceIP != netip.MustParseAddr("192.0.2.7") || req.Query["a"] != "1,3" || req.Query["b"] != "2" || len(req.Query) != 2 ||
		req.RawQuery != r.RawQuery || req.Header.Get("x-sig") != "abc" || req.Method != "POST" {
		t.Errorf("RequestOf = %+v", req)
	}
	bare, err := pipeline.RequestOf(&pipeline.Rejection{ID: "r2", Source: "hooks", Body: []byte(`{}`), BodySize: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bare.SourceIP.IsValid() || bare.Query != nil {
		t.Errorf("without address and query: SourceIP %v, Query %v; want neither", bare.SourceIP, bare.Query)
	}
}

// keepingIngest is an Ingest of the test sources (github and hooks, secret qSecret) whose
// refusals k keeps and whose publishes go nowhere; its clock reads *now, or the real time when
// now is nil.
func keepingIngest(t *testing.T, k *pipeline.Keeper, now *time.Time) *pipeline.Ingest {
	in := &pipeline.Ingest{Sources: sources(t, qSecret), Publisher: &publishertest.Recorder{}, Quarantine: k}
	if now != nil {
		in.Now = func() time.Time { return *now }
	}
	return in
}

// refuse hands k what Ingest hands it for an unauthorized POST of {} to the configured source
// "hooks" with headers, received at at.
func refuse(t *testing.T, k *pipeline.Keeper, at time.Time, headers map[string]string) {
	req := pipeline.IngestRequest{Source: "hooks", Headers: headers, Body: []byte(`{}`)}
	k.Keep(t.Context(), req, pipeline.Accepted{Source: "hooks"}, at, pipeline.Errorf(pipeline.KindUnauthorized, "no signature"))
}

// sealKey is a fresh sealing key in the test's temporary directory.
func sealKey(t *testing.T) *seal.Key {
	t.Helper()
	key, err := seal.LoadOrCreate(t.TempDir() + "/q.key")
	if err != nil {
		t.Fatal(err)
	}
	return key
}
