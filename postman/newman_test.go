// Package postman_test runs the Postman collection in this directory with newman (pinned in
// .tools/package.json) against `hookline local` started in-process, so the collection people
// import into Postman is proven to sign, post and read back exactly as its tests claim.
package postman_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"hookline/internal/golden"
	"hookline/internal/sink"
	"hookline/internal/testenv"
	"hookline/pkg/email"
	"hookline/pkg/local/engine"
	"hookline/pkg/localrun"
	"hookline/pkg/localrun/localruntest"
)

const (
	collectionFile  = "hookline.postman_collection.json"
	environmentFile = "hookline.postman_environment.json"
	sourcesFile     = "sources.json"

	// minAssertions is what a complete run of the collection asserts (78 today). A run that
	// silently skips tests — a script error before its pm.test calls, a folder that did not
	// run — comes in under it even when nothing "failed". Raise it when you add tests.
	minAssertions = 78

	newmanTimeout = 120 * time.Second
)

// secretVars maps each source of sources.json to the environment variable holding its secret.
var secretVars = map[string]string{
	"github":      "github_secret",
	"stripe":      "stripe_secret",
	"billing":     "standard_webhooks_secret",
	"intdash":     "intdash_secret",
	"postman":     "postman_token",
	"slack":       "slack_secret",
	"shopify":     "shopify_secret",
	"meta":        "meta_secret",
	"twilio":      "twilio_token",
	"zoom":        "zoom_secret",
	"cloudevents": "cloudevents_token",
}

// TestNewmanCollection runs the whole collection once against a fresh pipeline and checks the
// run (newman's exit status and JSON report) and what the pipeline stored.
func TestNewmanCollection(t *testing.T) {
	node, newman := testenv.Locate(t, "newman/bin/newman.js")
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "postman")
	srv := startLocal(t, filepath.Join(dir, sourcesFile))

	report := filepath.Join(t.TempDir(), "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), newmanTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, newman, "run", filepath.Join(dir, collectionFile),
		"-e", filepath.Join(dir, environmentFile),
		"--env-var", "base_url="+srv.url,
		"--reporters", "cli,json", "--reporter-json-export", report,
		"--bail", "--color", "off", "--timeout-request", "10000")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second // a stuck child must not outlive the timeout by much
	runErr := cmd.Run()
	t.Logf("newman output:\n%s", out.String())
	if ctx.Err() != nil {
		t.Fatalf("newman did not finish within %v", newmanTimeout)
	}
	if runErr != nil {
		t.Fatalf("newman: %v (its output is above; server log:\n%s)", runErr, srv.logs.String())
	}

	run := readReport(t, report)
	s := run.Stats
	if s.Assertions.Failed != 0 || len(run.Failures) != 0 {
		t.Errorf("report: %d failed assertions, %d failures", s.Assertions.Failed, len(run.Failures))
	}
	if s.Assertions.Total < minAssertions {
		t.Errorf("report: %d assertions ran, want at least %d (did a script stop before its tests?)", s.Assertions.Total, minAssertions)
	}
	if s.PrerequestScripts.Failed != 0 || s.TestScripts.Failed != 0 || s.Requests.Failed != 0 {
		t.Errorf("report: failed pre-request scripts %d, test scripts %d, requests %d",
			s.PrerequestScripts.Failed, s.TestScripts.Failed, s.Requests.Failed)
	}
	ran := map[string]bool{}
	for _, e := range run.Executions {
		ran[e.Item.Name] = true
		if e.Response == nil {
			t.Errorf("%q got no response", e.Item.Name)
		}
	}
	names := requestNames(t, filepath.Join(dir, collectionFile))
	for _, name := range names {
		if !ran[name] {
			t.Errorf("request %q did not run", name)
		}
	}
	t.Logf("newman: %d requests (%d in the collection), %d assertions, %d failed", s.Requests.Total, len(names), s.Assertions.Total, s.Assertions.Failed)

	// What the pipeline holds afterwards: one event per source (the GitHub redelivery collapsed
	// onto its first delivery, the rejections stored nothing), each stored, notified and emailed.
	list := localruntest.List(t, srv.url)
	bySource := map[string]int{}
	for _, e := range list.Events {
		bySource[e.Source]++
		if e.Status != "notified" || e.NotifiedAt == nil {
			t.Errorf("event %s from %s is %q, want notified", e.ID, e.Source, e.Status)
		}
	}
	for source := range secretVars {
		if bySource[source] != 1 {
			t.Errorf("history has %d events from %s, want 1 (all: %v)", bySource[source], source, bySource)
		}
	}
	if len(list.Events) != len(secretVars) {
		t.Errorf("history has %d events, want %d (one per source): %v", len(list.Events), len(secretVars), bySource)
	}
	emails, err := (&email.Outbox{Dir: filepath.Join(srv.data, localrun.OutboxDir)}).IDs()
	if err != nil || len(emails) != len(secretVars) {
		t.Errorf("outbox has %d emails (%v), want %d", len(emails), err, len(secretVars))
	}
}

// TestEnvironmentMatchesSources keeps the three files in step: every source in sources.json has
// its secret in the environment with the same value, and a request in the collection posts to
// it. Drift would otherwise show up as a puzzling 401 in someone's Postman.
func TestEnvironmentMatchesSources(t *testing.T) {
	var sources struct {
		Sources map[string]struct {
			Scheme  string   `json:"scheme"`
			Secrets []string `json:"secrets"`
		} `json:"sources"`
	}
	golden.ReadJSON(t, sourcesFile, &sources)
	var env struct {
		Name   string `json:"name"`
		Values []struct {
			Key     string `json:"key"`
			Value   string `json:"value"`
			Type    string `json:"type"`
			Enabled bool   `json:"enabled"`
		} `json:"values"`
	}
	golden.ReadJSON(t, environmentFile, &env)
	vars := map[string]string{}
	for _, v := range env.Values {
		if !v.Enabled {
			t.Errorf("environment variable %s is disabled", v.Key)
		}
		vars[v.Key] = v.Value
		if strings.HasSuffix(v.Key, "_secret") || strings.HasSuffix(v.Key, "_token") {
			if v.Type != "secret" {
				t.Errorf("environment variable %s has type %q, want secret (Postman masks it)", v.Key, v.Type)
			}
		}
	}
	if vars["base_url"] != "http://127.0.0.1:8080" {
		t.Errorf("base_url = %q, want hookline local's default http://127.0.0.1:8080", vars["base_url"])
	}
	if len(sources.Sources) != len(secretVars) {
		t.Errorf("sources.json has %d sources, the collection covers %d", len(sources.Sources), len(secretVars))
	}
	urls := requestURLs(t, collectionFile)
	for name, src := range sources.Sources {
		key, ok := secretVars[name]
		if !ok {
			t.Errorf("source %q has no secret variable in the collection", name)
			continue
		}
		if len(src.Secrets) != 1 || vars[key] != src.Secrets[0] {
			t.Errorf("source %q: environment %s = %q, sources.json secrets = %q", name, key, vars[key], src.Secrets)
		}
		if !urls["{{base_url}}/webhooks/"+name] {
			t.Errorf("no request posts to /webhooks/%s", name)
		}
	}
}

// ── newman's JSON report, the parts checked ─────────────────────────────────────────────────

type counts struct{ Total, Pending, Failed int }

type runReport struct {
	Stats struct {
		Requests          counts `json:"requests"`
		Assertions        counts `json:"assertions"`
		TestScripts       counts `json:"testScripts"`
		PrerequestScripts counts `json:"prerequestScripts"`
	} `json:"stats"`
	Executions []struct {
		Item struct {
			Name string `json:"name"`
		} `json:"item"`
		Response *struct {
			Code int `json:"code"`
		} `json:"response"`
	} `json:"executions"`
	Failures []json.RawMessage `json:"failures"`
}

func readReport(t *testing.T, path string) runReport {
	t.Helper()
	var r struct {
		Run runReport `json:"run"`
	}
	golden.ReadJSON(t, path, &r)
	return r.Run
}

// ── the collection ──────────────────────────────────────────────────────────────────────────

type item struct {
	Name    string `json:"name"`
	Item    []item `json:"item"`
	Request *struct {
		URL struct {
			Raw string `json:"raw"`
		} `json:"url"`
	} `json:"request"`
}

func walk(items []item, f func(item)) {
	for _, it := range items {
		if it.Request != nil {
			f(it)
		}
		walk(it.Item, f)
	}
}

func loadCollection(t *testing.T, path string) []item {
	t.Helper()
	var c struct {
		Info struct {
			Schema string `json:"schema"`
		} `json:"info"`
		Item []item `json:"item"`
	}
	golden.ReadJSON(t, path, &c)
	if c.Info.Schema != "https://schema.getpostman.com/json/collection/v2.1.0/collection.json" {
		t.Fatalf("%s: schema %q, want Postman Collection v2.1", path, c.Info.Schema)
	}
	return c.Item
}

func requestNames(t *testing.T, path string) []string {
	t.Helper()
	var names []string
	seen := map[string]bool{}
	walk(loadCollection(t, path), func(it item) {
		if seen[it.Name] {
			t.Errorf("two requests are named %q: the report could not tell them apart", it.Name)
		}
		seen[it.Name] = true
		names = append(names, it.Name)
	})
	sort.Strings(names)
	return names
}

func requestURLs(t *testing.T, path string) map[string]bool {
	t.Helper()
	urls := map[string]bool{}
	walk(loadCollection(t, path), func(it item) { urls[it.Request.URL.Raw] = true })
	return urls
}

// ── hookline local, in-process ──────────────────────────────────────────────────────────────

type server struct {
	url, data string
	logs      *sink.Buffer
}

func startLocal(t *testing.T, sources string) *server {
	t.Helper()
	rs := localruntest.Start(t, localrun.Config{SourcesFile: sources, Durability: engine.DurabilityProcess})
	return &server{url: rs.URL, data: rs.DataDir, logs: rs.Logs}
}
