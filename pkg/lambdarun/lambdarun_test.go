package lambdarun

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"hookline/internal/sink"
	"hookline/pkg/awsjson"
)

func TestUnreadNamesHooklineVariablesNobodyRead(t *testing.T) {
	t.Parallel()
	env := NewEnv([]string{"HOOKLINE_TABLE=events", "HOOKLINE_RETENTION_DAYS=90", "HOOKLINE_TOPIC_ARN=arn", "PATH=/bin", "EMPTY="})
	if got := env.Getenv("HOOKLINE_TABLE"); got != "events" {
		t.Errorf("Getenv = %q, want events", got)
	}
	env.Getenv("HOOKLINE_RETENTION") // the name the function knows: unset here
	env.Getenv("HOOKLINE_TOPIC_ARN")
	err := env.Unread()
	if err == nil || !strings.Contains(err.Error(), "HOOKLINE_RETENTION_DAYS set but not read") {
		t.Fatalf("Unread = %v, want it to name HOOKLINE_RETENTION_DAYS", err)
	}
	if strings.Contains(err.Error(), "HOOKLINE_TABLE") || strings.Contains(err.Error(), "PATH") {
		t.Errorf("Unread = %v names a variable that was read or is not hookline's", err)
	}
	env.Getenv("HOOKLINE_RETENTION_DAYS")
	if err := env.Unread(); err != nil {
		t.Errorf("after reading every hookline variable, Unread = %v", err)
	}
}

// TestColdStartOnFirstInvocationOnly: the lines of the first invocation carry cold_start and
// init_ms; the next invocation's lines do not.
func TestColdStartOnFirstInvocationOnly(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(ColdStartHandler(slog.NewJSONHandler(&buf, nil)))
	h := FirstInvocation(func(ctx context.Context, n int) (int, error) {
		log.InfoContext(ctx, "handled", "event_id", "e-"+strconv.Itoa(n))
		return n, nil
	}, 12.5)
	for i := range 2 {
		if _, err := h(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	lines := sink.JSONLines(t, buf.String())
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	first, second := lines[0], lines[1]
	if first["cold_start"] != true || first["init_ms"] != 12.5 || first["event_id"] != "e-0" {
		t.Errorf("first invocation's line: %v", first)
	}
	if _, ok := second["cold_start"]; ok {
		t.Errorf("second invocation's line: %v", second)
	}
}

// TestConfigAWSEndsTheReading: a build's reads go through the Env (so Unread knows them), and
// AWS returns the reads' problems together with AWSConfig's, or the configuration when there
// are none.
func TestConfigAWSEndsTheReading(t *testing.T) {
	t.Parallel()
	aws := []string{"AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=SECRET"}
	env := NewEnv(append(aws, "HOOKLINE_TABLE=events", "HOOKLINE_RETENTION=soon"))
	c := NewConfig(env.Getenv)
	if got := c.Required("HOOKLINE_TABLE"); got != "events" {
		t.Errorf("Required = %q, want events", got)
	}
	c.Duration("HOOKLINE_RETENTION", 0)
	if err := env.Unread(); err != nil {
		t.Errorf("Unread = %v after the build read every variable through its Config", err)
	}
	if _, err := c.AWS(); err == nil || !strings.Contains(err.Error(), `HOOKLINE_RETENTION: "soon"`) {
		t.Errorf("AWS() = %v, want the bad duration named", err)
	}

	c = NewConfig(NewEnv([]string{"AWS_REGION=eu-west-1"}).Getenv)
	c.Required("HOOKLINE_TABLE")
	_, err := c.AWS()
	for _, want := range []string{"HOOKLINE_TABLE: required but not set", "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY not set"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("AWS() = %v, want it to mention %q", err, want)
		}
	}

	c = NewConfig(NewEnv(append(aws, "HOOKLINE_TABLE=events")).Getenv)
	c.Required("HOOKLINE_TABLE")
	cfg, err := c.AWS()
	if err != nil || cfg.Region != "eu-west-1" {
		t.Errorf("AWS() = region %q, %v; want eu-west-1 and no error", cfg.Region, err)
	}
}

// TestConfigClientIsARead: a client is configured by the function's environment (its service's
// endpoint variable reaches it), and when that environment is wrong it is nil and AWS names the
// problem once, with the other reads' problems.
func TestConfigClientIsARead(t *testing.T) {
	t.Parallel()
	targets := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targets <- r.Header.Get("X-Amz-Target")
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := NewConfig(NewEnv([]string{"AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=AKID",
		"AWS_SECRET_ACCESS_KEY=SECRET", "AWS_ENDPOINT_URL_DYNAMODB=" + srv.URL}).Getenv)
	client := c.Client(context.Background(), awsjson.DynamoDB)
	if _, err := c.AWS(); err != nil || client == nil {
		t.Fatalf("client %v, AWS() = %v; want a client and no error", client, err)
	}
	if err := client.Call(context.Background(), "DescribeTable", struct{}{}, &struct{}{}); err != nil {
		t.Fatalf("call through AWS_ENDPOINT_URL_DYNAMODB: %v", err)
	}
	if target := <-targets; target != "DynamoDB_20120810.DescribeTable" {
		t.Errorf("X-Amz-Target %q, want DynamoDB_20120810.DescribeTable", target)
	}

	c = NewConfig(NewEnv([]string{"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=SECRET"}).Getenv)
	c.Required("HOOKLINE_TABLE")
	for _, svc := range []awsjson.Service{awsjson.DynamoDB, awsjson.SNS} {
		if client := c.Client(context.Background(), svc); client != nil {
			t.Errorf("%s client without a region: %v, want nil", svc.ID, client)
		}
	}
	_, err := c.AWS()
	if err == nil || strings.Count(err.Error(), "AWS_REGION") != 1 || !strings.Contains(err.Error(), "HOOKLINE_TABLE: required but not set") {
		t.Errorf("AWS() = %v, want AWS_REGION named once and HOOKLINE_TABLE named", err)
	}
}
