package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hookline/pkg/dlq"
)

func TestPrintDLQ(t *testing.T) {
	t.Parallel()
	msgs := []dlq.Message{
		{ID: "m-1", ReceiveCount: 5, SentAt: dlqReceived, DiedAt: dlqReceived.Add(5 * time.Minute), SourceQueue: "events", Reason: "put event: throttled", EventID: "e-1", EventType: "push", EventSource: "github"},
		{ID: "m-2", ReceiveCount: 6, SentAt: dlqReceived},
	}
	var out strings.Builder
	noErr(t, printDLQ(&out, msgs, false))
	want := `MESSAGE  RECEIVES  SENT                  DIED                  EVENT  SOURCE  TYPE  REASON
m-1      5         2026-11-23T10:00:00Z  2026-11-23T10:05:00Z  e-1    github  push  put event: throttled
m-2      6         2026-11-23T10:00:00Z  -                     -      -       -     unknown
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	out.Reset()
	noErr(t, printDLQ(&out, msgs[1:], true))
	if want := `{"id":"m-2","receive_count":6,"sent_at":"2026-11-23T10:00:00Z"}` + "\n"; out.String() != want {
		t.Errorf("json %q, want %q", out.String(), want)
	}
	out.Reset()
	noErr(t, printDLQ(&out, nil, false))
	if out.String() != "the dead-letter queue is empty\n" {
		t.Errorf("empty: %q", out.String())
	}
}

func TestPrintRedriven(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:sqs:eu-west-1:123456789012:events-dlq"
	var out strings.Builder
	noErr(t, printRedriven(&out, dlq.Redriven{Moved: -1, TaskHandle: "eyJ0YXNrSWQiOiJ0LTEifQ==", Source: arn}))
	if want := "started a message move task from " + arn + " back to the source queues\ntask handle: eyJ0YXNrSWQiOiJ0LTEifQ==\n"; out.String() != want {
		t.Errorf("printed %q", out.String())
	}
	out.Reset()
	noErr(t, printRedriven(&out, dlq.Redriven{Moved: 2, Source: "events-dlq"}))
	if want := "moved 2 message(s) from events-dlq back to their source queue\n"; out.String() != want {
		t.Errorf("printed %q", out.String())
	}
}

var dlqReceived = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
