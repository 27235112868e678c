package snsbus_test

import (
	"testing"

	"hookline/internal/fakeaws"
	"hookline/pkg/snsbus"
)

// TestTypeFilterPolicy: a policy with a prefix passes both levels of GitHub's types, judged by
// the SNS filter-policy matcher the AWS rehearsal uses, on the attributes the mailer sends.
func TestTypeFilterPolicy(t *testing.T) {
	policy, err := snsbus.TypeFilterPolicy("issues.", "push", "orders/")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":[{"prefix":"issues."},"push",{"prefix":"orders/"}]}`; policy != want {
		t.Errorf("policy %s, want %s", policy, want)
	}
	f, err := fakeaws.NewFilter(policy)
	if err != nil {
		t.Fatal(err)
	}
	for typ, want := range map[string]bool{
		"issues.opened": true, "issues.closed": true, "issues": false, "push": true,
		"pull_request.opened": false, "orders/create": true, "pushed": false,
	} {
		if got := f.Match(map[string]any{"type": typ, "source": "github"}); got != want {
			t.Errorf("type %q: match %v, want %v", typ, got, want)
		}
	}
	if _, err := snsbus.TypeFilterPolicy(); err == nil {
		t.Error("an empty policy was made")
	}
	// An empty type would be a rule that passes nothing (or, as a prefix, everything).
	if p, err := snsbus.TypeFilterPolicy("push", ""); err == nil {
		t.Errorf("a policy with an empty type was made: %s", p)
	}
}
