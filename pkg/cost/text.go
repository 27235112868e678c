package cost

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText prints the report for people: both designs side by side per million events, then
// hookline's lines in detail and its fixed monthly costs.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s events a month (%.3g/s), %d-byte JSON payload, %s of events emailed\n",
		thousands(r.EventsPerMonth), r.EventsPerSec, r.PayloadBytes, percent(r.EmailRatio))
	fmt.Fprintf(&b, "%s list prices read %s; the item the codec stores: %d bytes\n\n", Region, PricesRead, r.ItemBytes)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "USD per million events\t%8s\t%8s\n", "hookline", "tutorial")
	tut := map[string]LineJSON{}
	for _, l := range r.Tutorial.Lines {
		tut[l.Name] = l
	}
	for _, l := range r.Lines {
		if l.Name == LineEmail {
			continue
		}
		t, ok := tut[l.Name]
		ts := "—"
		if ok {
			ts = usd(t.USDPerMillionWithEmail)
		}
		fmt.Fprintf(tw, "%s\t%8s\t%8s\n", l.Name, usd(l.USDPerMillionWithEmail), ts)
	}
	fmt.Fprintf(tw, "total without email\t%8s\t%8s\n", usd(r.TotalPerMillionWithoutEmail), usd(r.Tutorial.TotalPerMillionWithoutEmail))
	fmt.Fprintf(tw, "total with email\t%8s\t%8s\n", usd(r.TotalPerMillionWithEmail), usd(r.Tutorial.TotalPerMillionWithEmail))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\n(the lines above are at %s emailed; hookline's and the tutorial's email delivery are in the totals)\n", percent(r.EmailRatio))
	fmt.Fprintf(&b, "\nhookline, line by line (per month):\n")
	for _, l := range r.Lines {
		fmt.Fprintf(&b, "  %-16s $%s  %s\n", l.Name, usd(l.MonthlyUSD), l.Detail)
	}
	fmt.Fprintf(&b, "\nhookline, fixed per month whatever the traffic:\n")
	var fixed float64
	for _, l := range r.Fixed {
		fixed += l.USD
		d := l.Detail
		if d != "" {
			d = "  " + d
		}
		fmt.Fprintf(&b, "  %-19s $%s%s\n", l.Name, usd(l.USD), d)
	}
	fmt.Fprintf(&b, "\nmonth at this volume: $%s (per-event lines $%s + fixed $%s)\n", usd(r.MonthlyUSD), usd(r.MonthlyUSD-fixed), usd(fixed))
	_, err := io.WriteString(w, b.String())
	return err
}

func percent(x float64) string { return trimZeros(fmt.Sprintf("%.2f", x*100)) + " %" }

// thousands prints a count with thousands separators: 1,000,000.
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
