package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"hookline/pkg/dlq"
)

// printDLQ writes msgs as an aligned table, or with asJSON one object per line.
func printDLQ(w io.Writer, msgs []dlq.Message, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, m := range msgs {
			if err := enc.Encode(m); err != nil {
				return err
			}
		}
		return nil
	}
	if len(msgs) == 0 {
		_, err := fmt.Fprintln(w, "the dead-letter queue is empty")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE\tRECEIVES\tSENT\tDIED\tEVENT\tSOURCE\tTYPE\tREASON")
	for _, m := range msgs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.ReceiveCount, stamp(m.SentAt), stamp(m.DiedAt),
			dash(m.EventID), dash(m.EventSource), dash(m.EventType), orUnknown(m.Reason))
	}
	return tw.Flush()
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
