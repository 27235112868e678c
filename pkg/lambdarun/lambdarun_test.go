package lambdarun

import (
	"strings"
	"testing"
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
