package lambdarun

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"hookline/internal/sink"
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
