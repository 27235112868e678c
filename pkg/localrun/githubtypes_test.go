package localrun_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"hookline/internal/testenv"
	"hookline/pkg/historyapi"
	"hookline/pkg/sender"
)

// githubExample is one entry of @octokit/webhooks-examples (pinned in .tools/package.json):
// GitHub's documented example payload of each webhook event and action.
type githubExample struct {
	Name     string            `json:"name"`
	Examples []json.RawMessage `json:"examples"`
}

// TestGitHubExampleTypes posts every GitHub example payload, signed as GitHub signs it, and
// requires each one that carries an "action" to be stored as <event>.<action> (the names
// octokit uses), the others as <event>; then the prefix query ?type=<event>. finds the
// event's actions.
func TestGitHubExampleTypes(t *testing.T) {
	_, index := testenv.Locate(t, "@octokit/webhooks-examples/api.github.com/index.json")
	raw, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	var all []githubExample
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	const secret = "github-examples-secret-0123456789"
	sources := filepath.Join(t.TempDir(), "sources.json")
	if err := os.WriteFile(sources, []byte(`{"sources":{"github":{"scheme":"github","secrets":["`+secret+`"]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, sources, 5)
	want := map[string]string{} // event id → type
	withAction := 0
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, ev := range all {
		for _, ex := range ev.Examples {
			var fields struct {
				Action *string `json:"action"`
			}
			if err := json.Unmarshal(ex, &fields); err != nil {
				t.Fatalf("%s example: %v", ev.Name, err)
			}
			typ := ev.Name
			if fields.Action != nil {
				typ += "." + *fields.Action
				withAction++
			}
			resp, err := sender.Send(ctx, nil, s.url, "github", sender.Request{Scheme: sender.GitHub, Secret: secret, Type: ev.Name, Body: ex})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("%s: %s %s", typ, resp.Status, resp.Body)
			}
			if prev, dup := want[resp.EventID]; dup && prev != typ {
				t.Fatalf("%s and %s examples got the same id", prev, typ)
			}
			want[resp.EventID] = typ
		}
	}
	if withAction < 200 {
		t.Fatalf("only %d examples carry an action; is the examples package complete?", withAction)
	}
	for id, typ := range want {
		if got := s.waitStored(t, id); got.Type != typ {
			t.Errorf("event %s stored as %q, want %q", id, got.Type, typ)
		}
	}
	// Both levels: ?type=issues. lists every issues.<action>, ?type=issues.opened one action.
	var issues, opened []string
	for id, typ := range want {
		if len(typ) > len("issues.") && typ[:len("issues.")] == "issues." {
			issues = append(issues, id)
			if typ == "issues.opened" {
				opened = append(opened, id)
			}
		}
	}
	if len(issues) < 5 || len(opened) == 0 {
		t.Fatalf("examples hold %d issues.* and %d issues.opened events", len(issues), len(opened))
	}
	for q, ids := range map[string][]string{"issues.": issues, "issues.opened": opened} {
		got := s.listIDs(t, "/events?limit=1000&type="+q)
		slices.Sort(got)
		slices.Sort(ids)
		if !slices.Equal(got, ids) {
			t.Errorf("GET /events?type=%s: %d ids, want %d", q, len(got), len(ids))
		}
	}
	t.Logf("%d examples, %d with an action", len(want), withAction)
}

// waitStored polls GET /events/{id} until the event is stored.
func (s *server) waitStored(t *testing.T, id string) historyapi.EventView {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, v := s.getEvent(t, id)
		if code == http.StatusOK {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s not stored within 30s (last status %d)", id, code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) listIDs(t *testing.T, path string) []string {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l historyapi.ListView
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	ids := make([]string, len(l.Events))
	for i, e := range l.Events {
		ids[i] = e.ID
	}
	return ids
}
