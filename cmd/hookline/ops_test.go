package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hookline/internal/ddbrecorder"
	"hookline/internal/sink"
	"hookline/internal/testenv"
	"hookline/pkg/event"
	"hookline/pkg/historyapi"
	"hookline/pkg/localrun"
	"hookline/pkg/localrun/localruntest"
	"hookline/pkg/pipeline"
	"hookline/pkg/rotation"
)

// Secrets of the sources the tests run `hookline local` with, one per scheme.
const (
	ghSecret    = "gh-secret-0123456789"
	whsec       = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	stripeKey   = "whsec_stripe_test_0123"
	hmacSecret  = "hmac-secret-0123456"
	intdashKey  = "intdash-secret-012345"
	tokenSecret = "dev-token-0123456789"
	newGHSecret = "gh-secret-rotated-0123"
	hookSecret  = "provider-secret-0123456" // slack, shopify, meta, zoom, cloudevents
)

const sourcesJSON = `{"sources": {
  "github":  {"scheme": "github", "secrets": ["` + ghSecret + `"]},
  "stripe":  {"scheme": "stripe", "secrets": ["` + stripeKey + `"]},
  "billing": {"scheme": "standard-webhooks", "secrets": ["` + whsec + `"]},
  "auth":    {"scheme": "hmac-sha256", "header": "X-Signature", "encoding": "hex", "prefix": "sha256=",
              "timestamp_header": "X-Timestamp", "type_header": "X-Event", "secrets": ["` + hmacSecret + `"]},
  "intdash": {"scheme": "intdash", "secrets": ["` + intdashKey + `"]},
  "postman": {"scheme": "token", "secrets": ["` + tokenSecret + `"]},
  "rotating": {"scheme": "github", "secrets": ["` + ghSecret + `", "` + newGHSecret + `"]},
  "signed":   {"scheme": "hmac-sha256", "header": "X-Sig", "timestamp_header": "X-Ts", "delivery_header": "X-Delivery",
               "template": "{id}.{timestamp}.{body}", "secrets": ["` + hmacSecret + `"]},
  "slack":    {"scheme": "slack", "secrets": ["` + hookSecret + `"]},
  "shopify":  {"scheme": "shopify", "secrets": ["` + hookSecret + `"]},
  "meta":     {"scheme": "meta", "secrets": ["` + hookSecret + `"]},
  "zoom":     {"scheme": "zoom", "secrets": ["` + hookSecret + `"]},
  "orders":   {"scheme": "cloudevents", "secrets": ["` + hookSecret + `"]}
}}`

type localServer struct {
	url, data, sources string
}

// startLocal runs `hookline local`'s Run in-process on 127.0.0.1:0 until the test ends.
func startLocal(t *testing.T, maxReceives int) localServer {
	t.Helper()
	sources := filepath.Join(t.TempDir(), "sources.json")
	if err := os.WriteFile(sources, []byte(sourcesJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	rs := localruntest.Start(t, localrun.Config{SourcesFile: sources, Visibility: time.Second, MaxReceives: maxReceives, Log: slog.New(slog.DiscardHandler)})
	return localServer{url: rs.URL, data: rs.DataDir, sources: sources}
}

func noenv(string) string { return "" }

// cli runs the command line like main does and returns stdout.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, noenv, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), err
}

// eventually retries f until it returns "" or the deadline passes, then fails with its last
// complaint.
func eventually(t *testing.T, within time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is the stdout of a command running in another goroutine.
type syncBuffer = sink.Buffer

// TestSendEveryScheme signs and posts with every scheme to a running `hookline local`, expects
// 202 and an event id, and finds each event with `events list`, `get` and `tail` reading the
// same database file while the server writes it.
func TestSendEveryScheme(t *testing.T) {
	t.Parallel()
	srv := startLocal(t, 5)

	tailCtx, stopTail := context.WithCancel(context.Background())
	var tailOut syncBuffer
	tailDone := make(chan error, 1)
	// --since: the tail may open the database after the first send; start it from before.
	since := time.Now().UTC().Format(time.RFC3339Nano)
	go func() {
		tailDone <- run(tailCtx, []string{"events", "tail", "--data", srv.data, "--json", "--interval", "50ms", "--since", since}, noenv, strings.NewReader(""), &tailOut, io.Discard)
	}()

	tests := []struct {
		source   string
		args     []string
		body     string
		wantType string
	}{
		{"github", []string{"--scheme", "github", "--secret", ghSecret, "--type", "push"}, `{"ref":"refs/heads/main"}`, "push"},
		{"stripe", []string{"--scheme", "stripe", "--secret", stripeKey}, `{"id":"evt_1","type":"invoice.paid"}`, "invoice.paid"},
		{"billing", []string{"--scheme", "standard-webhooks", "--secret", whsec}, `{"type":"user.created"}`, "user.created"},
		{"auth", []string{"--scheme", "hmac-sha256", "--secret", hmacSecret, "--hmac-header", "X-Signature", "--prefix", "sha256=",
			"--timestamp-header", "X-Timestamp", "--type-header", "X-Event", "--type", "user.registered"}, `{"user":1}`, "user.registered"},
		{"intdash", []string{"--scheme", "intdash", "--secret", intdashKey}, `{"resource_type":"measurement","action":"finished"}`, "measurement.finished"},
		{"postman", []string{"--scheme", "token", "--secret", tokenSecret}, `A new message has been published`, "unknown"},
		{"signed", []string{"--scheme", "hmac-sha256", "--secret", hmacSecret, "--hmac-header", "X-Sig", "--timestamp-header", "X-Ts",
			"--delivery-header", "X-Delivery", "--template", "{id}.{timestamp}.{body}", "--delivery-id", "order-7"}, `{"order":7}`, "unknown"},
		{"slack", []string{"--scheme", "slack", "--secret", hookSecret}, `{"type":"event_callback","event_id":"Ev01","event":{"type":"app_mention"}}`, "app_mention"},
		{"shopify", []string{"--scheme", "shopify", "--secret", hookSecret, "--type", "orders/create"}, `{"id":820982911946154500}`, "orders/create"},
		{"meta", []string{"--scheme", "meta", "--secret", hookSecret}, `{"object":"page","entry":[{"id":"1","changes":[{"field":"feed"}]}]}`, "page.feed"},
		{"zoom", []string{"--scheme", "zoom", "--secret", hookSecret}, `{"event":"meeting.started"}`, "meeting.started"},
		{"orders", []string{"--scheme", "cloudevents", "--secret", hookSecret, "--content-type", "application/cloudevents+json"},
			`{"specversion":"1.0","id":"A-1","source":"urn:orders","type":"com.example.order.paid"}`, "com.example.order.paid"},
		// (twilio signs the URL it requested, https://<public host>/…: its end-to-end test is in pkg/localrun.)
	}
	ids := map[string]string{} // id → source
	for _, tt := range tests {
		args := append([]string{"send", "--url", srv.url, "--source", tt.source}, tt.args...)
		out, err := cli(t, append(args, tt.body)...)
		if err != nil {
			t.Fatalf("send %s: %v\n%s", tt.source, err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || lines[0] != "202 Accepted" || !strings.HasPrefix(lines[2], "event id: ") {
			t.Fatalf("send %s printed:\n%s", tt.source, out)
		}
		id := strings.TrimPrefix(lines[2], "event id: ")
		ids[id] = tt.source

		eventually(t, 10*time.Second, func() string {
			out, err := cli(t, "events", "list", "--data", srv.data, "--source", tt.source, "--json")
			if err != nil {
				return err.Error()
			}
			var v historyapi.EventView
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				return "list --json: " + err.Error() + ": " + out
			}
			if v.ID != id || v.Type != tt.wantType || v.Status != "notified" {
				return "list --json: " + out
			}
			return ""
		})
		out, err = cli(t, "events", "get", id, "--data", srv.data)
		// (the label column is as wide as the longest label the event has)
		if err != nil || !regexp.MustCompile(`(?m)^status +notified$`).MatchString(out) ||
			!regexp.MustCompile(`(?m)^type +`+regexp.QuoteMeta(tt.wantType)+`$`).MatchString(out) ||
			!regexp.MustCompile(`(?m)^verified +`+regexp.QuoteMeta(tt.args[1])+`, key 0\b`).MatchString(out) {
			t.Errorf("events get %s: %v\n%s", id, err, out)
		}
	}

	// The signed {id} is the identity: the same delivery id with another body is the same event.
	out, err := cli(t, "send", "--url", srv.url, "--source", "signed", "--scheme", "hmac-sha256", "--secret", hmacSecret, "--hmac-header", "X-Sig",
		"--timestamp-header", "X-Ts", "--delivery-header", "X-Delivery", "--template", "{id}.{timestamp}.{body}", "--delivery-id", "order-7", `{"order":7,"again":true}`)
	if err != nil || !strings.Contains(out, "event id: "+idOf(ids, "signed")) {
		t.Errorf("resend of a signed id: %v\n%s", err, out)
	}

	// The table lists all twelve, newest first.
	out, err = cli(t, "events", "list", "--data", srv.data, "--since", "1h", "--limit", "20")
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if len(rows) != 1+len(tests) || !strings.HasPrefix(rows[0], "ID ") || !strings.Contains(rows[1], "orders") {
		t.Errorf("events list:\n%s", out)
	}

	// tail saw every event, and each one's status changes.
	eventually(t, 10*time.Second, func() string {
		seen := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSpace(tailOut.String()), "\n") {
			var v historyapi.EventView
			if json.Unmarshal([]byte(l), &v) == nil && v.Status == "notified" {
				seen[v.ID] = true
			}
		}
		for id, src := range ids {
			if !seen[id] {
				return "tail has not shown " + src + " event " + id + " as notified:\n" + tailOut.String()
			}
		}
		return ""
	})
	stopTail()
	if err := <-tailDone; err != nil {
		t.Errorf("tail: %v", err)
	}
}

func TestSendRefusedAndStdin(t *testing.T) {
	t.Parallel()
	srv := startLocal(t, 5)
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"send", "--url", srv.url, "--source", "github", "--scheme", "github", "--secret", "wrong", "{}"}, noenv, strings.NewReader(""), &stdout, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || !strings.HasPrefix(stdout.String(), "401 Unauthorized\n{") {
		t.Errorf("wrong secret: %v\n%s", err, stdout.String())
	}
	stdout.Reset()
	err = run(context.Background(), []string{"send", "--url", srv.url, "--source", "postman", "--scheme", "token", "-"},
		func(k string) string { return map[string]string{"HOOKLINE_SECRET": tokenSecret}[k] },
		strings.NewReader(`{"event":"from.stdin"}`), &stdout, io.Discard)
	if err != nil || !strings.Contains(stdout.String(), "202 Accepted") {
		t.Errorf("stdin body: %v\n%s", err, stdout.String())
	}
}

// TestDLQLocal lets a poison message die in a running `hookline local`, lists it with the
// engine's reason, and redrives it while the server runs.
func TestDLQLocal(t *testing.T) {
	t.Parallel()
	srv := startLocal(t, 1)
	out, err := cli(t, "dlq", "list", "--data", srv.data)
	if err != nil || out != "the dead-letter queue is empty\n" {
		t.Fatalf("empty DLQ: %v %q", err, out)
	}
	eng, err := openLocal(srv.data)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := eng.Topic(localrun.EventsTopic).Publish(context.Background(), pipeline.Message{ID: "poison", Source: "github", Type: "push", Body: []byte(`{"not":"an event"}`)}); err != nil {
		t.Fatal(err)
	}
	var dead struct {
		ID           string `json:"id"`
		ReceiveCount int    `json:"receive_count"`
		SourceQueue  string `json:"source_queue"`
		Reason       string `json:"reason"`
	}
	eventually(t, 15*time.Second, func() string {
		out, err := cli(t, "dlq", "list", "--data", srv.data, "--json")
		if err != nil {
			return err.Error()
		}
		if json.Unmarshal([]byte(out), &dead) != nil || dead.Reason == "" {
			return "dlq list --json: " + out
		}
		return ""
	})
	if dead.ReceiveCount != 1 || dead.SourceQueue != localrun.EventsQueue {
		t.Errorf("dead message %+v", dead)
	}
	out, err = cli(t, "dlq", "list", "--data", srv.data)
	if err != nil || !strings.Contains(out, dead.ID) || !strings.Contains(out, dead.Reason) {
		t.Errorf("dlq list: %v\n%s", err, out)
	}
	if out, err := cli(t, "dlq", "list", "--stream", "--data", srv.data); err != nil {
		t.Errorf("dlq list --stream (no given-up emails): %v\n%s", err, out)
	}
	out, err = cli(t, "dlq", "redrive", "--data", srv.data)
	if want := "moved 1 message(s) from events-dlq back to their source queue\n"; err != nil || out != want {
		t.Errorf("dlq redrive: %v %q, want %q", err, out, want)
	}
	// Still poison: the server receives it again and it dies again, redriven with a fresh count.
	eventually(t, 15*time.Second, func() string {
		msgs, err := eng.ListDLQ(context.Background(), localrun.EventsDLQ, 10)
		if err != nil || len(msgs) != 1 || msgs[0].ID != dead.ID || msgs[0].ReceiveCount != 1 {
			return "not dead again"
		}
		return ""
	})
}

// TestDLQSQSWiring checks that --queue-url, --region and --endpoint reach the SQS client.
func TestDLQSQSWiring(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SECRET")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	var targets []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targets = append(targets, r.Header.Get("X-Amz-Target"))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		switch r.Header.Get("X-Amz-Target") {
		case "AmazonSQS.GetQueueAttributes":
			w.Write([]byte(`{"Attributes":{"QueueArn":"arn:aws:sqs:eu-west-1:123456789012:events-dlq"}}`))
		case "AmazonSQS.StartMessageMoveTask":
			w.Write([]byte(`{"TaskHandle":"task-1"}`))
		default:
			w.Write([]byte(`{"Messages":[]}`))
		}
	}))
	defer srv.Close()
	url := "https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq"
	out, err := cli(t, "dlq", "redrive", "--queue-url", url, "--region", "eu-west-1", "--endpoint", srv.URL)
	want := "started a message move task from arn:aws:sqs:eu-west-1:123456789012:events-dlq back to the source queues\ntask handle: task-1\n"
	if err != nil || out != want {
		t.Errorf("redrive: %v\n%s", err, out)
	}
	out, err = cli(t, "dlq", "list", "--queue-url", url, "--region", "eu-west-1", "--endpoint", srv.URL)
	if err != nil || out != "the dead-letter queue is empty\n" {
		t.Errorf("list: %v\n%s", err, out)
	}
	if diff := cmp.Diff([]string{"AmazonSQS.GetQueueAttributes", "AmazonSQS.StartMessageMoveTask", "AmazonSQS.ReceiveMessage"}, targets); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// TestEventsDynamoDB reads a DynamoDB table on dynalite through --table/--endpoint.
func TestEventsDynamoDB(t *testing.T) {
	endpoint := testenv.StartDynalite(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "fake")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	ctx := context.Background()
	client := testenv.DynamoDB(t, endpoint)
	store := ddbrecorder.Table(t, client, "events")
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	var ids []string
	for i, src := range []string{"github", "stripe", "github"} {
		id, _ := event.NewID()
		at := base.Add(time.Duration(i) * time.Minute)
		e := &event.Event{ID: id, Source: src, Type: "push", Time: at, ReceivedAt: at}
		e.SetData("application/json", []byte(`{"i":1}`))
		r, _ := event.NewRecord(e, at.Add(20*time.Millisecond))
		if _, err := store.PutNew(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := store.MarkNotified(ctx, ids[2], base.Add(2*time.Minute+time.Second)); err != nil {
		t.Fatal(err)
	}
	aws := []string{"--table", "events", "--region", "us-east-1", "--endpoint", endpoint}

	out, err := cli(t, append([]string{"events", "list", "--source", "github", "--json", "--limit", "1"}, aws...)...)
	var v historyapi.EventView
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || v.ID != ids[2] || v.Status != "notified" || strings.Count(out, "\n") != 1 {
		t.Errorf("list --source github --limit 1: %v\n%s", err, out)
	}
	out, err = cli(t, append([]string{"events", "list", "--since", "2h"}, aws...)...)
	if err != nil || strings.Count(out, "\n") != 4 || !strings.Contains(out, ids[1]) {
		t.Errorf("list --since 2h: %v\n%s", err, out)
	}
	out, err = cli(t, append([]string{"events", "get", ids[0]}, aws...)...)
	if err != nil || !strings.Contains(out, "notified      not yet\n") || !strings.HasSuffix(out, "data:\n{\n  \"i\": 1\n}\n") {
		t.Errorf("get: %v\n%s", err, out)
	}
}

// TestFlagErrors runs each wrong call through run and exitCode, as main does: a usage error
// exits 2 with one line and a hint, an operational failure exits 1.
func TestFlagErrors(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	const usage, failed = exitUsage, exitFailure
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{}, "hookline: no command given: one of local, events, send, dlq, rejected, replay, notify, sources, cost, version, completion", usage},
		{[]string{"evnts"}, `hookline: unknown command "evnts": did you mean "events"?`, usage},
		{[]string{"events"}, "hookline events: no command given: one of list, get, tail", usage},
		{[]string{"events", "purge"}, `hookline events: unknown command "purge": one of list, get, tail`, usage},
		{[]string{"events", "list", "--data", empty, "--table", "t"}, "--data and --table: give one", usage},
		{[]string{"events", "list", "--data", empty}, "hookline events list: no hookline database in " + empty + ": run `hookline local` first", failed},
		{[]string{"events", "list", "--data", ""}, "hookline events list: no hookline database in .hookline: run `hookline local` first", failed}, // as local takes ""
		{[]string{"events", "list", "--data", empty, "--region", "eu-west-1"}, "--region and --endpoint: only with --table", usage},
		{[]string{"events", "list", "--since", "yesterday"}, `--since: "yesterday" is neither`, usage},
		{[]string{"events", "list", "--source", "GitHub"}, `--source: "GitHub" is not a source name (1-64 of a-z, 0-9, '-' and '_', starting with a letter or digit)`, usage},
		{[]string{"events", "tail", "--source", "github,stripe"}, `--source: "github,stripe" is not a source name`, usage},
		{[]string{"events", "list", "--until", "-1h"}, "--until: duration", usage},
		{[]string{"events", "list", "--since", "1h", "--until", "2h"}, "--since must be before --until", usage},
		{[]string{"events", "list", "--limit", "0"}, "--limit: 0 is not a positive number", usage},
		{[]string{"events", "list", "--limit", "x"}, `invalid argument "x" for "--limit" flag`, usage},
		{[]string{"events", "list", "--nope"}, "hookline events list: unknown flag: --nope", usage},
		{[]string{"events", "list", "extra"}, `hookline events list: unexpected argument "extra"`, usage},
		{[]string{"events", "get", "--data", empty}, "hookline events get: give exactly one event id", usage},
		{[]string{"events", "tail", "--interval", "1ms"}, "--interval: 1ms is under 10ms", usage},
		{[]string{"events", "tail", "--lag", "0s"}, "--lag: 0s is not a positive duration", usage},
		{[]string{"send", "--source", "s", "--secret", "x", "{}"}, "--scheme: required", usage},
		{[]string{"send", "--scheme", "github", "--source", "s", "{}"}, "--secret: required", usage},
		{[]string{"send", "--scheme", "github", "--secret", "x", "{}"}, "--source: required", usage},
		{[]string{"send", "--scheme", "github", "--secret", "x", "--source", "../events", "{}"}, `--source: "../events" is not a source name (1-64 of a-z, 0-9, '-' and '_', starting with a letter or digit)`, usage},
		{[]string{"send", "--scheme", "token", "--secret", "x", "--source", "s", "@"}, "read body: @ needs a file name (@body.json)", failed},
		{[]string{"send", "--scheme", "github", "--secret", "x", "--source", "s"}, "hookline send: missing body", usage},
		{[]string{"send", "--scheme", "github", "--secret", "x", "--source", "s", "a", "b"}, `hookline send: unexpected argument "b"`, usage},
		{[]string{"send", "--scheme", "github", "--secret", "x", "--source", "s", "--url", "ftp://x", "{}"}, "--url: ", usage},
		{[]string{"send", "--scheme", "svix", "--secret", "x", "--source", "s", "{}"}, `--scheme svix: unknown scheme "svix"`, usage},
		{[]string{"send", "--scheme", "stripe", "--secret", "x", "--source", "s", "--type", "t", "{}"}, "--scheme stripe: type: the stripe scheme", usage},
		{[]string{"send", "--scheme", "hmac-sha256", "--secret", "x", "--source", "s", "{}"}, "--scheme hmac-sha256: hmac-sha256: no signature header", usage},
		{[]string{"send", "--header", "novalue", "{}"}, `invalid argument "novalue" for "--header" flag`, usage},
		{[]string{"send", "--scheme", "token", "--secret", "x", "--source", "s", "@" + filepath.Join(empty, "missing.json")}, "read body: open", failed},
		{[]string{"send", "--scheme", "token", "--secret", "x", "--source", "s", "--url", "http://127.0.0.1:1", "{}"}, "hookline send: post http://127.0.0.1:1/webhooks/s", failed},
		{[]string{"local", "--email-policy", `{"sources": {"*": {"digest": "5m"}}}`}, "--email-policy: email policy: \"*\": a digest lists one source's events", usage},
		{[]string{"local", "--email-policy", "@" + filepath.Join(empty, "missing.json")}, "--email-policy: open", usage},
		{[]string{"cost", "--email-ratio", "2"}, "hookline cost: --email-ratio: email ratio must be 0..1, got 2", usage},
		{[]string{"cost", "--events-per-month", "0"}, "hookline cost: --events-per-month: events per month must be at least 1, got 0", usage},
		{[]string{"cost", "--payload-bytes", "300000"}, "hookline cost: --payload-bytes: payload bytes must be 1..262144", usage},
		{[]string{"cost", "--payload-bytes", "x"}, `invalid argument "x" for "--payload-bytes" flag`, usage},
		{[]string{"cost", "--template", filepath.Join(empty, "missing.json")}, "hookline cost: open", failed},
		{[]string{"cost", "extra"}, `hookline cost: unexpected argument "extra"`, usage},
		{[]string{"dlq"}, "hookline dlq: no command given: one of list, redrive", usage},
		{[]string{"dlq", "peek"}, `hookline dlq: unknown command "peek"`, usage},
		{[]string{"dlq", "list", "--data", empty, "--queue-url", "https://q"}, "--data and --queue-url: give one", usage},
		{[]string{"dlq", "list", "--stream", "--queue-url", "https://q"}, "--stream: only with a local data dir", usage},
		{[]string{"dlq", "redrive", "--data", empty}, "no hookline database in " + empty, failed},
		{[]string{"dlq", "list", "--data", empty, "--endpoint", "http://x"}, "--region and --endpoint: only with --queue-url", usage},
		{[]string{"dlq", "list", "--limit", "-1"}, "--limit: -1 is not a positive number", usage},
		{[]string{"rejected"}, "hookline rejected: no command given: one of list, get, readmit", usage},
		{[]string{"rejected", "list", "--reason", "bad"}, `--reason: "bad" is not one of unauthorized, not_found`, usage},
		{[]string{"rejected", "list", "--data", empty}, "no hookline database in " + empty, failed},
		{[]string{"rejected", "get", "nope"}, `"nope" is not a rejection id`, usage},
		{[]string{"rejected", "get"}, "hookline rejected get: missing rejection id", usage},
		{[]string{"rejected", "readmit"}, "give a rejection id, or select with --source S --since 1h", usage},
		{[]string{"rejected", "readmit", "01a231a6-c142-7a4f-b9a0-3196639a412a", "--source", "s"}, "give a rejection id or --source", usage},
		{[]string{"rejected", "list", "--data", empty, "--table", "t"}, "--data and --table: give one", usage},
		{[]string{"rejected", "get", "01a231a6-c142-7a4f-b9a0-3196639a412a", "--endpoint", "http://127.0.0.1:1"}, "--region and --endpoint: only with --table", usage},
		{[]string{"rejected", "readmit", "01a231a6-c142-7a4f-b9a0-3196639a412a", "--topic-arn", "arn:x"}, "--topic-arn, --sources-secret and --bucket: only with --table", usage},
		{[]string{"rejected", "readmit", "01a231a6-c142-7a4f-b9a0-3196639a412a", "--table", "t"}, "--topic-arn: required with --table", usage},
		{[]string{"rejected", "readmit", "01a231a6-c142-7a4f-b9a0-3196639a412a", "--table", "t", "--topic-arn", "arn:x"}, "--sources-secret: required with --table", usage},
		{[]string{"rejected", "readmit", "01a231a6-c142-7a4f-b9a0-3196639a412a", "--table", "t", "--topic-arn", "arn:x", "--sources", "f", "--sources-secret", "s"}, "--sources-secret and --sources: give one", usage},
		{[]string{"replay"}, "--since: required", usage},
		{[]string{"replay", "--since", "1h", "--concurrency", "0"}, "--concurrency: 0 is not from 1 to 64", usage},
		{[]string{"replay", "--since", "1h", "--topic-arn", "arn:x"}, "--topic-arn: only with --table", usage},
		{[]string{"replay", "--since", "1h", "--table", "t"}, "--topic-arn: required with --table", usage},
		{[]string{"replay", "--since", "1h", "--data", empty}, "no hookline database in " + empty, failed},
		{[]string{"notify"}, "give --pending or --resend ID", usage},
		{[]string{"notify", "--pending", "--resend", "01a231a6-c142-7a4f-b9a0-3196639a412a"}, "--pending and --resend: give one, not both", usage},
		{[]string{"notify", "--pending", "--force"}, "--force: only with --resend", usage},
		{[]string{"notify", "--resend", "x"}, `--resend: "x" is not an event id`, usage},
		{[]string{"notify", "--pending", "--table", "t"}, "--topic-arn: required with --table", usage},
		{[]string{"notify", "--pending", "--topic-arn", "arn:x"}, "--topic-arn: only with --table", usage},
		{[]string{"notify", "--pending", "--older-than", "-1m"}, "--older-than: -1m0s is negative", usage},
		{[]string{"notify", "--pending", "--data", empty}, "no hookline database in " + empty, failed},
		{[]string{"local", "--max-receives", "0"}, "--max-receives: 0 is not from 1 to 1000", usage},
		{[]string{"local", "--mail-to", "ops"}, `--mail-to: "ops" is not an email address (mail: missing '@' or angle-addr)`, usage},
		{[]string{"notify", "--pending", "--mail-from", "a@b\r\nBcc: c@d"}, `--mail-from: "a@b\r\nBcc: c@d" is not an email address`, usage},
		{[]string{"local", "--keep-per-minute", "0"}, "--keep-per-minute: 0 is not a positive number", usage},
		{[]string{"local", "--durability", "maybe"}, `--durability: "maybe" is neither`, usage},
		{[]string{"local", "--log-format", "xml"}, `--log-format: "xml" is neither "text" nor "json"`, usage},
		{[]string{"local", "--batch-size", "11"}, "--batch-size: 11 is not from 1 to 10", usage},
		{[]string{"local", "--pollers", "0"}, "--pollers: 0 is not from 1 to 1000 (an SQS event source's maximum concurrency)", usage},
		{[]string{"local", "--pollers", "100000"}, "--pollers: 100000 is not from 1 to 1000", usage},
		{[]string{"local", "--busy-pollers", "0"}, "--busy-pollers: 0 is not from 1 to 1000", usage},
		{[]string{"local", "--busy-pollers", "1001"}, "--busy-pollers: 1001 is not from 1 to 1000", usage},
		{[]string{"local", "--stream-batch-size", "0"}, "--stream-batch-size: 0 is not from 1 to 10000 (a DynamoDB stream event source's BatchSize)", usage},
		{[]string{"local", "--stream-batch-size", "10001"}, "--stream-batch-size: 10001 is not from 1 to 10000", usage},
		{[]string{"local", "--stream-parallel", "-2"}, "--stream-parallel: -2 is not from 1 to 10 (Lambda's ParallelizationFactor)", usage},
		{[]string{"local", "--stream-parallel", "11"}, "--stream-parallel: 11 is not from 1 to 10", usage},
		{[]string{"local", "--batch-window", "-1s"}, "--batch-window: -1s is not from 0s to 5m0s (an SQS event source's MaximumBatchingWindowInSeconds)", usage},
		{[]string{"local", "--batch-window", "1000000h"}, "--batch-window: 1000000h0m0s is not from 0s to 5m0s", usage},
		{[]string{"local", "--smtp-tls"}, "--smtp-tls and HOOKLINE_SMTP_USER need --smtp HOST:PORT", usage},
		{[]string{"local", "--smtp", "relay"}, `--smtp: smtp address "relay" is not host:port`, usage},
		{[]string{"local", "extra"}, `hookline local: unexpected argument "extra"`, usage},
		{[]string{"version", "extra"}, `hookline version: unexpected argument "extra"`, usage},
		{[]string{"completion"}, "hookline completion: no command given: one of bash, zsh, fish, powershell", usage},
		{[]string{"completion", "tcsh"}, `hookline completion: unknown command "tcsh"`, usage},
		{[]string{"completion", "bash", "extra"}, `hookline completion bash: unknown command "extra"`, usage},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, func(k string) string {
				return map[string]string{"HOOKLINE_DATA": empty}[k]
			}, strings.NewReader(""), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			var reported bytes.Buffer
			if code := exitCode(&reported, err); code != tt.code {
				t.Errorf("exit status %d, want %d", code, tt.code)
			}
			lines := strings.Split(strings.TrimSuffix(reported.String(), "\n"), "\n")
			if tt.code == exitUsage && (len(lines) != 2 || !strings.HasPrefix(lines[1], "Run 'hookline") || !strings.HasSuffix(lines[1], " --help' for usage.")) {
				t.Errorf("a usage error is reported as one line and a hint, got:\n%s", reported.String())
			}
			if stdout.Len() > 0 || stderr.Len() > 0 {
				t.Errorf("run itself printed: stdout %q stderr %q (main reports errors)", stdout.String(), stderr.String())
			}
		})
	}
}

// The CLI must never create a database (or a data dir) where there is none.
func TestMissingDatabaseIsNotCreated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := cli(t, "events", "list", "--data", dir); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(filepath.Join(dir, localrun.DBFile)); !os.IsNotExist(err) {
		t.Errorf("a database was created: %v", err)
	}
}

func idOf(ids map[string]string, source string) string {
	for id, s := range ids {
		if s == source {
			return id
		}
	}
	return "(none)"
}

// TestSourcesRotation moves a sender from secret 0 to secret 1 and reads `hookline sources`
// as an operator would: over the week both keys verified events; since the switch, key 0 is
// unused and can be removed.
func TestSourcesRotation(t *testing.T) {
	t.Parallel()
	srv := startLocal(t, 5)
	send := func(secret string, i int) string {
		out, err := cli(t, "send", "--url", srv.url, "--source", "rotating", "--scheme", "github", "--secret", secret, "--type", "push",
			fmt.Sprintf(`{"n":%d}`, i))
		if err != nil {
			t.Fatalf("send: %v\n%s", err, out)
		}
		return out
	}
	rows := func(args ...string) map[int]rotation.Row {
		out, err := cli(t, append([]string{"sources", "--data", srv.data, "--sources", srv.sources, "--json"}, args...)...)
		if err != nil {
			t.Fatalf("sources: %v\n%s", err, out)
		}
		got := map[int]rotation.Row{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var r rotation.Row
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("sources --json: %v: %s", err, l)
			}
			if r.Source == "rotating" {
				got[r.Key] = r
			}
		}
		return got
	}
	stored := func(want int) {
		eventually(t, 10*time.Second, func() string {
			out, err := cli(t, "events", "list", "--data", srv.data, "--source", "rotating", "--json")
			if n := strings.Count(out, "\n"); err != nil || n != want {
				return fmt.Sprintf("%d of %d events stored (%v)", n, want, err)
			}
			return ""
		})
	}
	for i := range 3 {
		send(ghSecret, i)
	}
	stored(3)
	switched := time.Now().UTC()
	for i := 3; i < 5; i++ {
		send(newGHSecret, i)
	}
	stored(5)

	week := rows()
	if week[0].Events != 3 || week[1].Events != 2 || !week[0].Configured || !week[1].Configured || week[0].Last == nil || week[1].Last == nil {
		t.Errorf("last 7 days: %+v", week)
	}
	since := rows("--since", switched.Format(time.RFC3339Nano))
	if since[0].Events != 0 || since[0].Last != nil || !since[0].Configured || since[1].Events != 2 {
		t.Errorf("since the switch: %+v", since)
	}
	out, err := cli(t, "sources", "--data", srv.data, "--sources", srv.sources, "--since", switched.Format(time.RFC3339Nano))
	if err != nil || !regexp.MustCompile(`(?m)^rotating +github +0 +0 +- +unused in the window$`).MatchString(out) {
		t.Errorf("sources table: %v\n%s", err, out)
	}

	// The web view shows the same table, from the running server.
	resp, err := http.Get(srv.url + "/ui/sources")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for key, n := range map[int]int{0: 3, 1: 2} {
		row := regexp.MustCompile(fmt.Sprintf(`>rotating</a></td>\s*<td>github</td>\s*<td>%d</td>\s*<td>%d</td>`, key, n))
		if resp.StatusCode != 200 || !row.Match(page) {
			t.Errorf("/ui/sources: %d, no row for key %d with %d events:\n%s", resp.StatusCode, key, n, page)
		}
	}
}
