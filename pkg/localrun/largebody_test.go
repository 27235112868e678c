package localrun_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"hookline/pkg/historyapi"
	"hookline/pkg/localrun"
	"hookline/pkg/sender"
)

// fiveMB is a 5 MB GitHub-like JSON body (compact, as GitHub sends it).
func fiveMB() []byte {
	var b bytes.Buffer
	b.WriteString(`{"action":"synchronize","commits":[`)
	for i := 0; b.Len() < 5<<20-200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":"` + strconv.Itoa(i) + `","message":"a commit message with <html> & \"quotes\" é","added":["a/b/c.go"]}`)
	}
	b.WriteString(`],"number":7}`)
	return b.Bytes()
}

// TestLargeBodyByReference: a 5 MB GitHub-signed body is accepted, stored by reference (the
// envelope in the events table holds the reference, not the body) and returned byte-identical
// from GET /events/{id}.
func TestLargeBodyByReference(t *testing.T) {
	const secret = "large-body-github-secret-0123"
	sources := filepath.Join(t.TempDir(), "sources.json")
	if err := os.WriteFile(sources, []byte(`{"sources":{"github":{"scheme":"github","secrets":["`+secret+`"]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, sources, 5)
	body := fiveMB()
	resp, err := sender.Send(context.Background(), nil, s.url, "github", sender.Request{Scheme: sender.GitHub, Secret: secret, Type: "pull_request", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("5 MB body: %s %s", resp.Status, resp.Body)
	}
	id := resp.EventID
	s.waitStored(t, id)

	// Stored by reference: the item's envelope is small and names the blob.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.data, localrun.DBFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var envelope []byte
	if err := db.QueryRow(`SELECT envelope FROM events WHERE id = ?`, id).Scan(&envelope); err != nil {
		t.Fatal(err)
	}
	var env struct {
		DataRef string          `json:"dataref"`
		Data    json.RawMessage `json:"data"`
		Type    string          `json:"type"`
	}
	if err := json.Unmarshal(envelope, &env); err != nil || !strings.HasPrefix(env.DataRef, "blob:events/github/"+id+"/") || env.Data != nil || len(envelope) > 4096 {
		t.Fatalf("stored envelope (%d bytes): dataref %q, data %d bytes, err %v", len(envelope), env.DataRef, len(env.Data), err)
	}
	if env.Type != "pull_request.synchronize" {
		t.Errorf("type %q", env.Type)
	}

	// GET /events/{id} answers the body inline, byte for byte.
	r, err := http.Get(s.url + "/events/" + id)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(r.Body)
	r.Body.Close()
	var v historyapi.EventView
	if err := json.Unmarshal(raw, &v); err != nil || r.StatusCode != 200 {
		t.Fatalf("GET /events/%s: %d %v", id, r.StatusCode, err)
	}
	if !bytes.Equal(v.Data, body) {
		t.Fatalf("data is %d bytes, not the %d bytes sent (first difference at %d)", len(v.Data), len(body), firstDiff(v.Data, body))
	}
	if v.DataRef != env.DataRef {
		t.Errorf("view dataref %q, want %q", v.DataRef, env.DataRef)
	}
	// The email links to the body rather than carrying 5 MB.
	s.waitNotified(t, id)
	var mail []byte
	for _, m := range s.mail.Messages() {
		if m.EventID() == id {
			if mail != nil {
				t.Fatalf("the mail server got a second email for %s", id)
			}
			mail = m.Data
		}
	}
	if mail == nil {
		t.Fatalf("no email for %s", id)
	}
	_, text, _ := bytes.Cut(mail, []byte("\r\n\r\n"))
	text, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(text)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(text, []byte(env.DataRef)) || len(mail) > 64<<10 {
		t.Errorf("email (%d bytes) does not name %s", len(mail), env.DataRef)
	}
	// A redelivery of the same body is the same event, and the blob is kept once.
	again, err := sender.Send(context.Background(), nil, s.url, "github", sender.Request{Scheme: sender.GitHub, Secret: secret, Type: "pull_request", Body: body})
	if err != nil || again.EventID != id {
		t.Fatalf("redelivery: %v, id %s want %s", err, again.EventID, id)
	}
	var blobs int
	if err := db.QueryRow(`SELECT count(*) FROM blobs`).Scan(&blobs); err != nil || blobs != 1 {
		t.Errorf("%d blobs (%v), want 1", blobs, err)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
