package rotation

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
)

// Print writes the table for people, or with asJSON one Row per line. configured says whether
// the table was built with a config: only then can it tell an unused secret from a missing one.
func Print(w io.Writer, rows []Row, configured, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no event in the window carries verification evidence")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSCHEME\tKEY\tEVENTS\tLAST\tNOTE")
	for _, r := range rows {
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.Source, scheme, strconv.Itoa(r.Key), r.Events, last, note)
	}
	return tw.Flush()
}
