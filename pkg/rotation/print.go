package rotation

import (
	"io"
	"strconv"
	"time"

	"hookline/pkg/listing"
)

// Print writes the table for people, or with asJSON one Row per line. configured says whether
// the table was built with a config: only then can it tell an unused secret from a missing one.
func Print(w io.Writer, rows []Row, configured, asJSON bool) error {
	t := listing.Table[Row]{
		Header: []string{"SOURCE", "SCHEME", "KEY", "EVENTS", "LAST", "NOTE"},
		Row: func(r Row) []string {
			last := "-"
			if r.Last != nil {
				last = r.Last.UTC().Format(time.RFC3339)
			}
			note := ""
			switch {
			case configured && r.Configured && r.Events == 0:
				note = "unused in the window"
			case configured && !r.Configured:
				note = "not in the config"
			}
			scheme := r.Scheme
			if scheme == "" {
				scheme = "-"
			}
			return []string{r.Source, scheme, strconv.Itoa(r.Key), strconv.Itoa(r.Events), last, note}
		},
		Empty: "no event in the window carries verification evidence",
	}
	return t.Write(w, asJSON, listing.All(rows))
}
