package main

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"

	"hookline/pkg/cost"
)

const costLong = `Computes what hookline costs on AWS a month and per million events, line by line, next to
the design a tutorial would give (REST API → one Lambda that stores and emails through SES),
with the same model: us-east-1 list prices (dated and cited in pkg/cost), the synthesized
stack's properties (memory, tracing, log levels, batch sizes and windows, index projections),
the item the codec stores for a payload of that size, and the log lines the functions write.

The stack is read from the template checked in with the model (kept in step with infra/ by
its tests), or from --template: a template 'make synth' wrote (cdk.out/Hookline.template.json),
for instance with other context (-c tracing=true).

--email-ratio is the share of events that get an email of their own (1: every event; 0.01: one
in a hundred, as an email policy or a digest would make it). Totals are given without email
and at that ratio; --json prints every line (total_usd_per_million_without_email,
total_usd_per_million_with_email, the tutorial's under "tutorial").`

func (c *app) costCmd() *cobra.Command {
	p := cost.Defaults
	var asJSON bool
	var template string
	cmd := leafCmd("cost [flags]", "what hookline costs on AWS per month and per million events, next to a tutorial's design", costLong, positional(0, 0, ""), func(cmd *cobra.Command, _ []string) error {
		// Each flag checked alone against the model's own rule, so the error names the flag.
		for _, f := range []struct {
			flag string
			set  func(*cost.Params)
		}{
			{"events-per-month", func(q *cost.Params) { q.EventsPerMonth = p.EventsPerMonth }},
			{"payload-bytes", func(q *cost.Params) { q.PayloadBytes = p.PayloadBytes }},
			{"email-ratio", func(q *cost.Params) { q.EmailRatio = p.EmailRatio }},
		} {
			q := cost.Defaults
			f.set(&q)
			if err := q.Validate(); err != nil {
				return usageErrorf("--%s: %v", f.flag, err)
			}
		}
		tmpl := cost.EmbeddedTemplate()
		if template != "" {
			b, err := os.ReadFile(template)
			if err != nil {
				return err
			}
			tmpl = b
		}
		logs, err := cost.MeasuredLogs()
		if err != nil {
			return err
		}
		r, err := cost.Estimate(p, tmpl, logs)
		if err != nil {
			return err
		}
		if asJSON {
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(r)
		}
		return cost.WriteText(c.stdout, r)
	})
	fs := cmd.Flags()
	fs.Float64Var(&p.EventsPerMonth, "events-per-month", p.EventsPerMonth, "events received a month, spread evenly (1000000 ≈ 0.39/s; 259200000 = 100/s)")
	fs.IntVar(&p.PayloadBytes, "payload-bytes", p.PayloadBytes, "size of each JSON payload in bytes")
	fs.Float64Var(&p.EmailRatio, "email-ratio", p.EmailRatio, "share of events that get an email of their own, 0..1")
	fs.BoolVar(&asJSON, "json", false, "print the whole report as JSON")
	fs.StringVar(&template, "template", "", "a synthesized CloudFormation template to read instead of the checked-in one")
	return cmd
}
