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
