package fakeaws

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Statement is one IAM policy statement whose intrinsic functions are already resolved to
// strings.
type Statement struct {
	Effect      string // "Allow" or "Deny"
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
	Condition   map[string]any
}

// ParseStatements reads the Statement list of a policy document (decoded JSON, intrinsics
// resolved): Action, Resource and their Not forms may each be a string or a list of strings.
func ParseStatements(doc map[string]any) ([]Statement, error) {
	raw, ok := doc["Statement"]
	if !ok {
		return nil, fmt.Errorf("policy document without Statement")
	}
	list, ok := raw.([]any)
	if !ok {
		list = []any{raw} // a single statement may stand alone
	}
	var out []Statement
	for i, r := range list {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("statement %d is not an object", i)
		}
		st := Statement{}
		st.Effect, _ = m["Effect"].(string)
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, fmt.Errorf("statement %d: Effect %v", i, m["Effect"])
		}
		var err error
		for key, dst := range map[string]*[]string{"Action": &st.Action, "NotAction": &st.NotAction, "Resource": &st.Resource, "NotResource": &st.NotResource} {
			if *dst, err = strings1(m[key]); err != nil {
				return nil, fmt.Errorf("statement %d: %s: %w", i, key, err)
			}
		}
		if _, ok := m["Principal"]; ok {
			return nil, fmt.Errorf("statement %d: a Principal belongs in a resource policy, not a role's", i)
		}
		st.Condition, _ = m["Condition"].(map[string]any)
		out = append(out, st)
	}
	return out, nil
}

func strings1(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%v is not a string (an unresolved intrinsic?)", x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v is neither a string nor a list", v)
}

// Keys are the IAM condition keys of one request, by name as AWS writes them (compared
// case-insensitively): "dynamodb:LeadingKeys" holds the partition key values a DynamoDB call
// touches.
type Keys map[string][]string

// Unknowable is the one value of dynamodb:LeadingKeys when the fake cannot read a call's
// partition keys (a Query, a Scan, a table it was not told the key of): it matches no
// pattern, so a role whose grant depends on those keys is refused rather than allowed on
// keys nobody checked.
const Unknowable = "<unknowable>"

// Decide evaluates an identity policy the way IAM does for one principal: an explicit Deny
// wins, then an Allow, else the call is implicitly denied. Every resource must be allowed.
// A statement's Condition is evaluated against keys when every operator in it is one of
// StringEquals, StringLike (each against a key with one value at most) and their
// ForAllValues: and ForAnyValue: forms (IAM's semantics, including that ForAllValues holds
// for a key the request lacks). A Condition with any other operator is not evaluated: an
// Allow with one grants nothing here (so a test never passes on a grant it could not prove)
// and a Deny with one is not applied.
func Decide(statements []Statement, action string, resources []string, keys Keys) error {
	for _, res := range resources {
		allowed := false
		for _, st := range statements {
			if !st.covers(action, res) {
				continue
			}
			holds, known := conditionHolds(st.Condition, keys)
			if !known || !holds {
				continue
			}
			if st.Effect == "Deny" {
				return fmt.Errorf("an explicit Deny covers %s on %s", action, res)
			}
			allowed = true
		}
		if !allowed {
			return fmt.Errorf("no statement allows %s on %s%s; the role allows %s", action, res, describeKeys(keys), Describe(statements))
		}
	}
	return nil
}

// conditionHolds evaluates a statement's Condition block (operator → key → value or values):
// every operator and every key in it must hold. known is false when an operator is not
// one Decide evaluates.
func conditionHolds(cond map[string]any, keys Keys) (holds, known bool) {
	holds = true
	for op, byKey := range cond {
		set, base, _ := strings.Cut(op, ":")
		if base == "" {
			set, base = "", op
		}
		like := false
		switch base {
		case "StringEquals":
		case "StringLike":
			like = true
		default:
			return false, false
		}
		m, ok := byKey.(map[string]any)
		if !ok {
			return false, false
		}
		for key, raw := range m {
			want, err := strings1(raw)
			if err != nil {
				return false, false
			}
			got := keys.get(key)
			match := func(v string) bool {
				return slices.ContainsFunc(want, func(p string) bool {
					if like {
						return glob(p, v, false)
					}
					return p == v
				})
			}
			var h bool
			switch set {
			case "ForAllValues":
				h = !slices.ContainsFunc(got, func(v string) bool { return !match(v) })
			case "ForAnyValue":
				h = slices.ContainsFunc(got, match)
			case "":
				if len(got) > 1 {
					return false, false // a single-valued operator on a multivalued key
				}
				h = len(got) == 1 && match(got[0])
			default:
				return false, false
			}
			holds = holds && h
		}
	}
	return holds, true
}

func (k Keys) get(name string) []string {
	for n, v := range k {
		if strings.EqualFold(n, name) {
			return v
		}
	}
	return nil
}

func describeKeys(keys Keys) string {
	if len(keys) == 0 {
		return ""
	}
	names := slices.Sorted(maps.Keys(keys))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + strings.Join(keys[n], ",")
	}
	return " with " + strings.Join(parts, " ")
}

func (st Statement) covers(action, resource string) bool {
	matchAny := func(patterns []string, s string, fold bool) bool {
		return slices.ContainsFunc(patterns, func(p string) bool { return glob(p, s, fold) })
	}
	if (st.Action == nil) == (st.NotAction == nil) || (st.Resource == nil) == (st.NotResource == nil) {
		return false // malformed: IAM requires exactly one of each pair
	}
	if st.Action != nil && !matchAny(st.Action, action, true) {
		return false
	}
	if st.NotAction != nil && matchAny(st.NotAction, action, true) {
		return false
	}
	if st.Resource != nil && !matchAny(st.Resource, resource, false) {
		return false
	}
	if st.NotResource != nil && matchAny(st.NotResource, resource, false) {
		return false
	}
	return true
}

// Describe summarises statements for an error message: "[sns:Publish on arn:…; …]".
func Describe(statements []Statement) string {
	var parts []string
	for _, st := range statements {
		if st.Effect != "Allow" {
			continue
		}
		s := strings.Join(st.Action, ",") + " on " + strings.Join(st.Resource, ",")
		if len(st.Condition) > 0 {
			s += " (with a condition)"
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}
