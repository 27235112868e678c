package event

import "testing"

func TestTypeGroup(t *testing.T) {
	for typ, want := range map[string]string{
		"issues.opened":                 "issues",
		"customer.subscription.created": "customer.subscription",
		"orders/create":                 "orders",
		"push":                          "push",
		"com.example.object.deleted":    "com.example.object",
		".hidden":                       ".hidden",
		"unknown":                       "unknown",
	} {
		if got := TypeGroup(typ); got != want {
			t.Errorf("TypeGroup(%q) = %q, want %q", typ, got, want)
		}
	}
}

func TestMatchesType(t *testing.T) {
	tests := []struct {
		q, t string
		want bool
	}{
		{"issues.", "issues.opened", true},
		{"issues.", "issues", false},
		{"issues.", "issues.opened.extra", false},
		{"issues.", "issuesx.opened", false},
		{"issues.", "issues/opened", false},
		{"issues.opened", "issues.opened", true},
		{"issues.opened", "issues.closed", false},
		{"orders/", "orders/create", true},
		{"", "anything", true},
		{".", ".", true}, // a lone separator is no prefix: the exact type "."
		{".", ".x", false},
	}
	for _, tt := range tests {
		if got := MatchesType(tt.q, tt.t); got != tt.want {
			t.Errorf("MatchesType(%q, %q) = %v, want %v", tt.q, tt.t, got, tt.want)
		}
	}
}
