package cost

import "testing"

// TestTargets holds the stack to issue 12's target: at a million 1 KB events a month, without
// email, hookline costs at most $5.00 per million (the tutorial's design: $5.46 then). A change
// that adds a line, an index entry or a log line per event shows up here, with the figure.
func TestTargets(t *testing.T) {
	logs, err := MeasuredLogs()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Estimate(Defaults, EmbeddedTemplate(), logs)
	if err != nil {
		t.Fatal(err)
	}
	if r.TotalPerMillionWithoutEmail > 5.00 {
		t.Errorf("$%.2f per million events without email at a million a month; the target is $5.00 (hookline cost --json says which lines grew)", r.TotalPerMillionWithoutEmail)
	}
	if r.TotalPerMillionWithoutEmail >= r.Tutorial.TotalPerMillionWithoutEmail {
		t.Errorf("$%.2f per million without email, not below the tutorial's $%.2f", r.TotalPerMillionWithoutEmail, r.Tutorial.TotalPerMillionWithoutEmail)
	}
}

// TestCapacityModes holds the reason the table's default is on-demand and provisioned is a
// deploy-time choice: at a million events a month on-demand is cheaper, at a sustained 100
// events/s provisioned capacity under auto scaling is (both stacks as synthesized, without
// email). Issue 12's target at 100 events/s is $3.00 per million; the figure is reported, not
// asserted, while it is not met (docs/cost.md, "At a steady rate").
func TestCapacityModes(t *testing.T) {
	logs, err := MeasuredLogs()
	if err != nil {
		t.Fatal(err)
	}
	total := func(tmpl []byte, eventsPerMonth float64) float64 {
		p := Defaults
		p.EventsPerMonth, p.EmailRatio = eventsPerMonth, 0
		r, err := Estimate(p, tmpl, logs)
		if err != nil {
			t.Fatal(err)
		}
		return r.TotalPerMillionWithoutEmail
	}
	busy := 100.0 * SecondsPerMonth
	onDemandQuiet, provQuiet := total(EmbeddedTemplate(), 1e6), total(EmbeddedProvisionedTemplate(), 1e6)
	onDemandBusy, provBusy := total(EmbeddedTemplate(), busy), total(EmbeddedProvisionedTemplate(), busy)
	if onDemandQuiet >= provQuiet {
		t.Errorf("at a million a month on-demand costs $%.2f per million, provisioned $%.2f: on-demand should stay the default only while it is the cheaper one", onDemandQuiet, provQuiet)
	}
	if provBusy >= onDemandBusy {
		t.Errorf("at 100 events/s provisioned costs $%.2f per million, on-demand $%.2f: the provisioned option saves nothing", provBusy, onDemandBusy)
	}
	t.Logf("per million without email: a million a month on-demand $%.2f, provisioned $%.2f; 100 events/s on-demand $%.2f, provisioned $%.2f",
		onDemandQuiet, provQuiet, onDemandBusy, provBusy)
}
