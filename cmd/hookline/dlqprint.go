package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"hookline/pkg/dlq"
	"hookline/pkg/listing"
)

// printDLQ writes msgs as an aligned table, or with asJSON one object per line.
func printDLQ(w io.Writer, msgs []dlq.Message, asJSON bool) error {
	return dlqTable.Write(w, asJSON, listing.All(msgs))
}

var dlqTable = listing.Table[dlq.Message]{
	Header: []string{"MESSAGE", "RECEIVES", "SENT", "DIED", "EVENT", "SOURCE", "TYPE", "REASON"},
	Row: func(m dlq.Message) []string {
		return []string{m.ID, strconv.Itoa(m.ReceiveCount), stamp(m.SentAt), stamp(m.DiedAt),
			dash(m.EventID), dash(m.EventSource), dash(m.EventType), orUnknown(m.Reason)}
	},
	Empty: "the dead-letter queue is empty",
}

// printRedriven reports a redrive.
func printRedriven(w io.Writer, r dlq.Redriven) error {
	var err error
	if r.TaskHandle != "" {
		_, err = fmt.Fprintf(w, "started a message move task from %s back to the source queues\ntask handle: %s\n", r.Source, r.TaskHandle)
	} else {
		_, err = fmt.Fprintf(w, "moved %d message(s) from %s back to their source queue\n", r.Moved, r.Source)
	}
	return err
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z07:00")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
