package cost

import (
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Scenario is one "what moves the number" row: the same model with other parameters, or with
// the stack changed as the row says.
type Scenario struct {
	What      string
	Params    Params
	EditStack func(*Stack) // nil: the stack as synthesized
}

// Scenarios are the rows of docs/cost.md's "what moves the number".
func Scenarios() []Scenario {
	d := Defaults
	return []Scenario{
		{"one email per 100 events (an email policy, or a digest)", with(d, func(p *Params) { p.EmailRatio = 0.01 }), nil},
		{"a sustained 100 events/s (259.2 M a month)", with(d, func(p *Params) { p.EventsPerMonth = 100 * SecondsPerMonth }), nil},
		{"a 7 KB payload (a typical GitHub push)", with(d, func(p *Params) { p.PayloadBytes = 7 * 1024 }), nil},
		{"X-Ray tracing on (`-c tracing=true`)", d, func(s *Stack) {
			for k, f := range s.Functions {
				f.Tracing = "Active"
				s.Functions[k] = f
			}
		}},
		{"Lambda system log level INFO (platform lines back)", d, func(s *Stack) {
			for k, f := range s.Functions {
				f.SystemLogLevel = ""
				s.Functions[k] = f
			}
		}},
		{"no batching windows", d, func(s *Stack) { s.SQS.WindowSecs, s.Stream.WindowSecs = 0, 0 }},
	}
}

func with(p Params, edit func(*Params)) Params { edit(&p); return p }

// WriteMarkdown writes docs/cost.md's generated part (below its title) from the model: the
// template, logs and prices given, at Defaults.
func WriteMarkdown(w io.Writer, template []byte, logs Measured) error {
	p := Defaults
	r, err := Estimate(p, template, logs)
	if err != nil {
		return err
	}
	s, err := ReadTemplate(template)
	if err != nil {
		return err
	}
	d, err := FromTemplate(s, p.PayloadBytes, logs)
	if err != nil {
		return err
	}
	tut := Tutorial(p.PayloadBytes)
	var b strings.Builder
	pr := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	pr("hookline next to the design a tutorial would give: **REST API → one Python Lambda (x86, 128 MB)\n")
	pr("that writes the item to DynamoDB and sends the email through SES before it answers**. Region\n")
	pr("`%s`, list prices, free tiers ignored, a 30-day month of %s events (%.2g/s), %d-byte JSON\n", Region, thousands(p.EventsPerMonth), p.Rate(), p.PayloadBytes)
	pr("payloads. Every figure below is computed by `hookline cost` (package `pkg/cost`) from the\n")
	pr("synthesized stack (`pkg/cost/template.json`, kept in step by `infra`'s `TestCostTemplate`), the item\n")
	pr("the codec really stores (%d bytes here) and the log lines the functions were measured to write;\n", r.ItemBytes)
	pr("a test fails when this page and the model disagree. `hookline cost --json` gives every line.\n\n")

	pr("| per million events | hookline | tutorial |\n| --- | ---: | ---: |\n")
	pr("| **total without email** | **$%s** | **$%s** |\n", usd(r.TotalPerMillionWithoutEmail), usd(r.Tutorial.TotalPerMillionWithoutEmail))
	pr("| **total, every event emailed** | **$%s** | **$%s** |\n", usd(r.TotalPerMillionWithEmail), usd(r.Tutorial.TotalPerMillionWithEmail))
	hundred := with(p, func(q *Params) { q.EmailRatio = 0.01 })
	h100 := bill(d, hundred)
	t100 := bill(tut, hundred)
	pr("| total, one email per 100 events | $%s | $%s |\n\n", usd(h100.TotalPerMillionWithEmail), usd(t100.TotalPerMillionWithEmail))

	pr("## Line by line\n\n")
	pr("Per million events; where the two columns differ, the first is without email and the second with every event emailed.\n\n")
	pr("| line | hookline | USD | tutorial | USD |\n| --- | --- | ---: | --- | ---: |\n")
	tl := map[string]LineJSON{}
	for _, l := range r.Tutorial.Lines {
		tl[l.Name] = l
	}
	for _, l := range r.Lines {
		t, ok := tl[l.Name]
		tq, tu := "—", "—"
		if ok {
			tq, tu = quantity(t), money(t)
		}
		pr("| %s | %s | %s | %s | %s |\n", l.Name, quantity(l), money(l), tq, tu)
	}
	pr("\n")
	pr("Where hookline's lines come from:\n\n")
	for _, l := range r.Lines {
		pr("- %s: %s.\n", l.Name, l.Detail)
	}
	pr("- The item: %d bytes → %g WRU per put", d.Table.ItemBytes, writeUnits(d.Table.ItemBytes))
	for _, ix := range d.Table.Indexes {
		pr("; GSI `%s` (%s) entry %d bytes → %g WRU", ix.Name, ix.Projection, ix.EntryBytes, writeUnits(ix.EntryBytes))
		if ix.ProjectsMark {
			pr(", rewritten by the notified mark")
		}
	}
	pr(". The notified mark rewrites the base item: %g WRU.\n", d.Table.MarkWRU)
	for _, f := range []*Function{&d.Ingest, d.Subscriber, &d.Notifier.Function} {
		trigger := "one invocation per request"
		if f.BatchSize > 1 {
			trigger = fmt.Sprintf("batches of up to %d gathered for %g s", f.BatchSize, f.BatchWindow)
		}
		pr("- %s: %g MB %s, %g ms warm (assumed), %s; Lambda's own log lines %s; the code logs %s.\n",
			f.Name, f.MemoryMB, arch(f.ARM), f.WarmMS, trigger, systemLogs(f), appLogs(f.AppLog))
	}
	pr("\n## What moves the number\n\n")
	pr("| change | hookline without email | with every event emailed |\n| --- | ---: | ---: |\n")
	pr("| none (the table above) | $%s | $%s |\n", usd(r.TotalPerMillionWithoutEmail), usd(r.TotalPerMillionWithEmail))
	for _, sc := range Scenarios() {
		st, err := ReadTemplate(template)
		if err != nil {
			return err
		}
		if sc.EditStack != nil {
			sc.EditStack(st)
		}
		dd, err := FromTemplate(st, sc.Params.PayloadBytes, logs)
		if err != nil {
			return err
		}
		bj := bill(dd, sc.Params)
		pr("| %s | $%s | $%s |\n", sc.What, usd(bj.TotalPerMillionWithoutEmail), usd(bj.TotalPerMillionWithEmail))
	}
	pr("\n**Not per event** (hookline, per month at this volume; not in the totals above):\n\n")
	pr("| | quantity | USD |\n| --- | ---: | ---: |\n")
	var fixed float64
	for _, l := range r.Fixed {
		fixed += l.USD
		pr("| %s | %s | %s |\n", l.Name, count(l.Quantity), usd(l.USD))
	}
	pr("| **total** | | **%s** |\n\n", usd(fixed))
	pr("The tutorial keeps its items forever unless it sets a TTL; hookline's expire after %g days.\n", d.Table.RetentionDays)
	pr("Data transfer out (≈ 100 B replies) is under $0.01 per million and left out.\n")
	if err := writeProvisioned(pr, template, logs); err != nil {
		return err
	}
	pr("\n")

	pr("## Prices used\n\n")
	pr("Read on %s from stored copies; none is newer than 2026-09, several show no date. Check the\n", PricesRead)
	pr("AWS Pricing Calculator before budgeting. The table is `cost.Prices`, read from `pkg/cost/prices.json`.\n\n")
	pr("| price (%s) | source | date shown |\n| --- | --- | --- |\n", Region)
	v := reflect.ValueOf(Prices)
	for i := range v.NumField() {
		x := v.Field(i).Interface().(Price)
		shown := x.Shown
		if shown == "" {
			shown = "not shown"
		}
		pr("| %s %s | %s | %s |\n", priceText(x), x.Unit, x.Source, shown)
	}
	pr("\n| rule the model applies | source | date shown |\n| --- | --- | --- |\n")
	for _, r := range Rules {
		shown := r.Shown
		if shown == "" {
			shown = "not shown"
		}
		pr("| %s | %s | %s |\n", r.What, r.Source, shown)
	}
	pr("\n‡ **Assumptions, not sourced from an AWS page in the stored copies:**\n\n")
	for _, a := range Assumptions {
		pr("- %s.\n", a)
	}
	pr("\nReplace them with the `Duration`, `IncomingBytes` and `NumberOfMessagesReceived` metrics of a real deployment.\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// WriteSummary writes the README's cost summary: the headline totals at Defaults, with one
// email per 100 events, and at a sustained 100 events/s (on-demand and provisioned), next to the tutorial's.
func WriteSummary(w io.Writer, template []byte, logs Measured) error {
	p := Defaults
	r, err := Estimate(p, template, logs)
	if err != nil {
		return err
	}
	hundred, err := Estimate(with(p, func(q *Params) { q.EmailRatio = 0.01 }), template, logs)
	if err != nil {
		return err
	}
	busy, err := Estimate(with(p, func(q *Params) { q.EventsPerMonth = 100 * SecondsPerMonth }), template, logs)
	if err != nil {
		return err
	}
	var b strings.Builder
	pr := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	pr("| per million events (%s list prices, %d-byte JSON) | hookline | tutorial design |\n| --- | ---: | ---: |\n", Region, p.PayloadBytes)
	pr("| %s a month, without email | **$%s** | $%s |\n", thousands(p.EventsPerMonth), usd(r.TotalPerMillionWithoutEmail), usd(r.Tutorial.TotalPerMillionWithoutEmail))
	pr("| %s a month, every event emailed | $%s | $%s |\n", thousands(p.EventsPerMonth), usd(r.TotalPerMillionWithEmail), usd(r.Tutorial.TotalPerMillionWithEmail))
	pr("| %s a month, one email per 100 events | $%s | $%s |\n", thousands(p.EventsPerMonth), usd(hundred.TotalPerMillionWithEmail), usd(hundred.Tutorial.TotalPerMillionWithEmail))
	pr("| a sustained 100 events/s, without email | $%s | $%s |\n", usd(busy.TotalPerMillionWithoutEmail), usd(busy.Tutorial.TotalPerMillionWithoutEmail))
	prov, err := Estimate(with(p, func(q *Params) { q.EventsPerMonth = 100 * SecondsPerMonth }), EmbeddedProvisionedTemplate(), logs)
	if err != nil {
		return err
	}
	pr("| the same, provisioned table capacity (`-c tableCapacity=provisioned`) | $%s | $%s |\n", usd(prov.TotalPerMillionWithoutEmail), usd(prov.Tutorial.TotalPerMillionWithoutEmail))
	_, err = io.WriteString(w, b.String())
	return err
}

func quantity(l LineJSON) string {
	q := func(x float64) string { return count(x) }
	if l.QuantityWithoutEmail == l.QuantityWithEmail {
		return q(l.QuantityWithEmail) + " × " + unitText(l)
	}
	return q(l.QuantityWithoutEmail) + " / " + q(l.QuantityWithEmail) + " × " + unitText(l)
}

func money(l LineJSON) string {
	if l.USDPerMillionWithoutMail == l.USDPerMillionWithEmail {
		return usd(l.USDPerMillionWithEmail)
	}
	return usd(l.USDPerMillionWithoutMail) + " / " + usd(l.USDPerMillionWithEmail)
}

func unitText(l LineJSON) string {
	if l.UnitUSD == 0 {
		return l.Unit
	}
	return fmt.Sprintf("$%s (%s)", trimZeros(fmt.Sprintf("%.10f", l.UnitUSD)), l.Unit)
}

func priceText(p Price) string {
	per := ""
	switch p.Per {
	case 1:
	case 1e3:
		per = " per 1,000"
	case 1e4:
		per = " per 10,000"
	case 1e5:
		per = " per 100,000"
	case 1e6:
		per = " per million"
	default:
		per = fmt.Sprintf(" per %g", p.Per)
	}
	return "$" + trimZeros(fmt.Sprintf("%.10f", p.USD)) + per + ":"
}

func arch(arm bool) string {
	if arm {
		return "arm64"
	}
	return "x86"
}

func systemLogs(f *Function) string {
	if f.SystemLogBytes == 0 {
		return "off (system log level WARN)"
	}
	return fmt.Sprintf("%g B an invocation", f.SystemLogBytes)
}

func appLogs(l LogLines) string {
	var parts []string
	if l.LinesPerInvocation > 0 {
		parts = append(parts, fmt.Sprintf("%g %s (%g B) an invocation", l.LinesPerInvocation, plural(l.LinesPerInvocation, "line", "lines"), l.BytesPerInvocation))
	}
	if l.LinesPerRecord > 0 {
		parts = append(parts, fmt.Sprintf("%g %s (%g B) an event", l.LinesPerRecord, plural(l.LinesPerRecord, "line", "lines"), l.BytesPerRecord))
	}
	if len(parts) == 0 {
		return "nothing when all goes well (failures and duplicates only)"
	}
	return strings.Join(parts, " + ")
}

// writeProvisioned writes the comparison of the table's two capacity modes: the default
// template against the one synthesized with -c tableCapacity=provisioned, at a million events
// a month and at a sustained 100 events/s, and what is left at 100 events/s.
func writeProvisioned(pr func(string, ...any), onDemand []byte, logs Measured) error {
	prov := EmbeddedProvisionedTemplate()
	ps, err := ReadTemplate(prov)
	if err != nil {
		return err
	}
	busy := with(Defaults, func(p *Params) { p.EventsPerMonth = 100 * SecondsPerMonth; p.EmailRatio = 0 })
	quiet := with(Defaults, func(p *Params) { p.EmailRatio = 0 })
	var est [2][2]Report // [on-demand, provisioned][quiet, busy]
	for i, tmpl := range [][]byte{onDemand, prov} {
		for j, p := range []Params{quiet, busy} {
			if est[i][j], err = Estimate(p, tmpl, logs); err != nil {
				return err
			}
		}
	}
	c := ps.Table.Capacity
	if c.WriteScaling == nil || c.ReadScaling == nil {
		return fmt.Errorf("the provisioned template's table has no auto scaling")
	}
	pr("\n## At a steady rate: provisioned capacity\n\n")
	pr("`-c tableCapacity=provisioned` (see `infra/doc.go`) gives the events table and each index provisioned\n")
	pr("reads and writes under auto scaling, which holds consumption at %g %% of what is provisioned, from\n", c.WriteScaling.Target)
	pr("a floor (the table's %g WCU and %g RCU", c.WriteScaling.Min, c.ReadScaling.Min)
	for _, ix := range ps.Table.Indexes {
		if ix.Capacity.WriteScaling != nil && ix.Capacity.ReadScaling != nil {
			pr(", `%s`'s %g and %g", ix.Name, ix.Capacity.WriteScaling.Min, ix.Capacity.ReadScaling.Min)
		}
	}
	pr(") up to 10× the floor.\nThe same model on that stack (`pkg/cost/template-provisioned.json`), without email, assuming a\n")
	pr("steady rate (bursts above what is provisioned throttle and are retried: the SDK, then SQS or the stream):\n\n")
	pr("| per million events, without email | %s a month | a sustained 100 events/s |\n| --- | ---: | ---: |\n", thousands(quiet.EventsPerMonth))
	pr("| on-demand (the default) | $%s | $%s |\n", usd(est[0][0].TotalPerMillionWithoutEmail), usd(est[0][1].TotalPerMillionWithoutEmail))
	pr("| provisioned, auto scaled | $%s | $%s |\n\n", usd(est[1][0].TotalPerMillionWithoutEmail), usd(est[1][1].TotalPerMillionWithoutEmail))
	pr("At a million a month the floors are mostly idle capacity; at 100 events/s the capacity is used.\n")
	pr("Where the provisioned lines at 100 events/s come from:\n\n")
	for _, l := range est[1][1].Lines {
		if l.Name == LineWrites || l.Name == LineReads {
			pr("- %s: %s × $%s: %s.\n", l.Name, count(l.QuantityWithoutEmail), trimZeros(fmt.Sprintf("%.6f", l.UnitUSD)), l.Detail)
		}
	}
	for _, l := range est[1][1].Fixed {
		if l.Name == "auto scaling alarms" {
			pr("- Not per event: %s auto scaling alarms, $%s a month.\n", count(l.Quantity), usd(l.USD))
		}
	}
	pr("\nWhat is left at 100 events/s, provisioned, per million events: ")
	var parts []string
	for _, l := range est[1][1].Lines {
		if l.USDPerMillionWithoutMail >= 0.005 {
			parts = append(parts, fmt.Sprintf("%s $%s", l.Name, usd(l.USDPerMillionWithoutMail)))
		}
	}
	pr("%s.\n\n", strings.Join(parts, ", "))

	// The next levers, each on the provisioned stack at 100 events/s.
	retarget := func(target float64) func(*Stack) {
		return func(s *Stack) {
			set := func(c *StackCapacity) {
				for _, sc := range []*Scaling{c.WriteScaling, c.ReadScaling} {
					if sc != nil {
						sc.Target = target
					}
				}
			}
			set(&s.Table.Capacity)
			for i := range s.Table.Indexes {
				set(&s.Table.Indexes[i].Capacity)
			}
		}
	}
	levers := []struct {
		what string
		edit func(*Stack)
		logs Measured
	}{
		{"none (provisioned, as above)", nil, logs},
		{"auto scaling at 90 % (`-c tableTargetUtilization=90`, less headroom before throttling)", retarget(90), logs},
		{"no API access log", func(s *Stack) { s.AccessLogFormat = "" }, logs},
		{"no log line at all (a bound, not a proposal)", func(s *Stack) { s.AccessLogFormat = "" }, Measured{}},
		{"auto scaling at 90 % and no API access log", func(s *Stack) { retarget(90)(s); s.AccessLogFormat = "" }, logs},
	}
	pr("| at 100 events/s, provisioned, without email | per million |\n| --- | ---: |\n")
	for _, l := range levers {
		st, err := ReadTemplate(prov)
		if err != nil {
			return err
		}
		if l.edit != nil {
			l.edit(st)
		}
		d, err := FromTemplate(st, busy.PayloadBytes, l.logs)
		if err != nil {
			return err
		}
		pr("| %s | $%s |\n", l.what, usd(bill(d, busy).TotalPerMillionWithoutEmail))
	}
	return nil
}
