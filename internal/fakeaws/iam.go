package fakeaws

import (
	"fmt"
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

// Decide evaluates an identity policy the way IAM does for one principal: an explicit Deny
// wins, then an Allow, else the call is implicitly denied. Every resource must be allowed.
// Statements with a Condition are not evaluated: an Allow with one grants nothing here (so a
// test never passes on a grant it could not prove) and a Deny with one is not applied.
func Decide(statements []Statement, action string, resources []string) error {
	for _, res := range resources {
		allowed := false
		for _, st := range statements {
			if !st.covers(action, res) {
				continue
			}
			if st.Effect == "Deny" && len(st.Condition) == 0 {
				return fmt.Errorf("an explicit Deny covers %s on %s", action, res)
			}
			if st.Effect == "Allow" && len(st.Condition) == 0 {
				allowed = true
			}
		}
		if !allowed {
			return fmt.Errorf("no statement allows %s on %s; the role allows %s", action, res, Describe(statements))
		}
	}
	return nil
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
