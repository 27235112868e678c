package email

import (
	"fmt"
	"strings"
	"time"

	"hookline/pkg/emailpolicy"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

var _ pipeline.DigestComposer = (*Composer)(nil)

// maxDigestText keeps a digest inside an SNS message (256 KiB) with room for the rest.
const maxDigestText = 200 * 1024

// ComposeDigest renders the digest of source's events gathered until due: one line per event
// (id, type, receipt time), oldest first, and how to read any of them in full. A digest too
// long for one message lists what fits and says how many more there are (they stay readable in
// the history).
func (c *Composer) ComposeDigest(source string, due time.Time, every time.Duration, rs []*event.Record) (pipeline.Email, error) {
	if len(rs) == 0 {
		return pipeline.Email{}, fmt.Errorf("digest of %s: no events", source)
	}
	from, until := due.Add(-every).UTC(), due.UTC()
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s from %s between %s and %s UTC:\n\n", len(rs), plural(len(rs), "event", "events"), source,
		from.Format("2006-01-02 15:04"), until.Format("15:04"))
	shown := 0
	for _, r := range oldestFirst(rs) {
		line := fmt.Sprintf("  %s  %s  %s\n", r.Event.ID, r.Event.ReceivedAt.UTC().Format("15:04:05.000"), r.Event.Type)
		if b.Len()+len(line) > maxDigestText {
			break
		}
		b.WriteString(line)
		shown++
	}
	if shown < len(rs) {
		fmt.Fprintf(&b, "\n… and %d more (hookline events list --source %s --since %s --until %s)\n",
			len(rs)-shown, source, from.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "\nOne event in full: hookline events get <id> (or GET /events/<id>).\n")
	return pipeline.Email{
		EventID: "digest-" + source + "-" + until.Format("20060102T1504Z"),
		Source:  source,
		Type:    emailpolicy.DigestType,
		Subject: Subject(fmt.Sprintf("[hookline] %d %s from %s (%s-%s UTC)", len(rs), plural(len(rs), "event", "events"), source, from.Format("15:04"), until.Format("15:04"))),
		Text:    b.String(),
	}, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func oldestFirst(rs []*event.Record) []*event.Record {
	out := append([]*event.Record(nil), rs...)
	for i := 1; i < len(out); i++ { // insertion sort: digests are small and mostly in order
		for j := i; j > 0 && out[j].Event.ReceivedAt.Before(out[j-1].Event.ReceivedAt); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
