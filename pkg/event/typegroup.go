package event

import "strings"

// Type separators: GitHub, Stripe and CloudEvents name types with dots (issues.opened,
// invoice.paid, com.example.object.deleted), Shopify with slashes (orders/create).
const typeSeparators = "./"

// TypeGroup is what history indexes a type under: the type without its last segment
// ("issues.opened" → "issues", "customer.subscription.created" → "customer.subscription",
// "orders/create" → "orders"), or the type itself when it has one segment ("push"). A query for
// a type or a type prefix reads exactly one group, so it stays one index partition however many
// events the table holds; the last segment is left out (not kept as the first) so reverse-DNS
// CloudEvents types do not all share one "com" partition.
func TypeGroup(t string) string {
	if i := strings.LastIndexAny(t, typeSeparators); i > 0 {
		return t[:i]
	}
	return t
}

// IsTypePrefix reports whether a type filter is a prefix ("issues.", "orders/"): it selects the
// types one segment below it, the group TypeGroup(prefix) names.
func IsTypePrefix(q string) bool {
	return len(q) > 1 && strings.ContainsRune(typeSeparators, rune(q[len(q)-1]))
}

// TypeFilterGroup returns the group a type filter reads: the prefix without its separator, or
// the exact type's group.
func TypeFilterGroup(q string) string {
	if IsTypePrefix(q) {
		return q[:len(q)-1]
	}
	return TypeGroup(q)
}

// MatchesType reports whether type t passes filter q: equal, or, for a prefix, one segment
// below it. "" matches everything.
func MatchesType(q, t string) bool {
	switch {
	case q == "":
		return true
	case IsTypePrefix(q):
		return strings.HasPrefix(t, q) && TypeGroup(t) == q[:len(q)-1]
	}
	return q == t
}
