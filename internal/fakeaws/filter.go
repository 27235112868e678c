package fakeaws

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Filter is one event pattern in the syntax Lambda event filters (an event source mapping's
// FilterCriteria) and SNS filter policies share: every key of the pattern must match; an object
// matches a nested object; an array lists acceptable values (strings, numbers, booleans, null)
// or comparisons: prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists.
// A pattern using anything else is refused by NewFilter, so a filter is never silently
// widened. (There is no such matcher among the modules the proxy serves here; Quamina is not.)
type Filter struct {
	pattern map[string]any
}

// NewFilter parses and checks one pattern.
func NewFilter(pattern string) (*Filter, error) {
	var p map[string]any
	if err := json.Unmarshal([]byte(pattern), &p); err != nil {
		return nil, fmt.Errorf("filter pattern %s: not a JSON object: %w", pattern, err)
	}
	if err := checkPattern(p, ""); err != nil {
		return nil, fmt.Errorf("filter pattern %s: %w", pattern, err)
	}
	return &Filter{pattern: p}, nil
}

// Match reports whether event (JSON decoded into maps, slices, strings, float64, bool, nil)
// matches the pattern.
func (f *Filter) Match(event map[string]any) bool { return matchObject(f.pattern, event) }

// Filters are the patterns of one FilterCriteria: an event passes when any one matches, and
// every event passes when there are none.
type Filters []*Filter

// Match reports whether event passes.
func (fs Filters) Match(event map[string]any) bool {
	if len(fs) == 0 {
		return true
	}
	for _, f := range fs {
		if f.Match(event) {
			return true
		}
	}
	return false
}

func checkPattern(p map[string]any, path string) error {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := p[k].(type) {
		case map[string]any:
			if err := checkPattern(v, path+k+"."); err != nil {
				return err
			}
		case []any:
			if len(v) == 0 {
				return fmt.Errorf("%s%s: an empty array matches nothing", path, k)
			}
			for _, r := range v {
				if err := checkRule(r); err != nil {
					return fmt.Errorf("%s%s: %w", path, k, err)
				}
			}
		default:
			return fmt.Errorf("%s%s: must be an array of values or an object, not %v", path, k, v)
		}
	}
	return nil
}

func checkRule(r any) error {
	switch r := r.(type) {
	case string, float64, bool, nil:
		return nil
	case map[string]any:
		if len(r) != 1 {
			return fmt.Errorf("a comparison has exactly one operator: %v", r)
		}
		for op, arg := range r {
			switch op {
			case "prefix", "suffix":
				if _, ok := arg.(string); ok {
					return nil
				}
				if m, ok := arg.(map[string]any); ok && len(m) == 1 {
					if _, ok := m["equals-ignore-case"].(string); ok {
						return nil
					}
				}
			case "equals-ignore-case", "wildcard":
				if _, ok := arg.(string); ok {
					return nil
				}
			case "exists":
				if _, ok := arg.(bool); ok {
					return nil
				}
			case "anything-but":
				switch a := arg.(type) {
				case string, float64, bool:
					return nil
				case []any:
					for _, x := range a {
						if _, isMap := x.(map[string]any); isMap {
							return fmt.Errorf("anything-but lists plain values: %v", a)
						}
					}
					return nil
				case map[string]any:
					_, p := a["prefix"]
					_, s := a["suffix"]
					if len(a) == 1 && (p || s) {
						return checkRule(a)
					}
				}
			case "numeric":
				if a, ok := arg.([]any); ok && (len(a) == 2 || len(a) == 4) {
					for i := 0; i < len(a); i += 2 {
						op, _ := a[i].(string)
						if _, ok := a[i+1].(float64); !ok || !slices.Contains([]string{"<", "<=", "=", ">", ">="}, op) {
							return fmt.Errorf("numeric: %v", a)
						}
					}
					return nil
				}
			default:
				return fmt.Errorf("operator %q is not supported by this fake", op)
			}
			return fmt.Errorf("%s: bad argument %v", op, arg)
		}
	}
	return fmt.Errorf("%v is neither a value nor a comparison", r)
}

func matchObject(p, event map[string]any) bool {
	for k, pv := range p {
		v, present := event[k]
		switch pv := pv.(type) {
		case map[string]any:
			sub, ok := v.(map[string]any)
			if !ok || !matchObject(pv, sub) {
				return false
			}
		case []any:
			if !matchRules(pv, v, present) {
				return false
			}
		}
	}
	return true
}

// matchRules: any rule matching the value (or, for an array value, any of its elements) will do.
func matchRules(rules []any, v any, present bool) bool {
	values := []any{v}
	if arr, ok := v.([]any); ok {
		values = arr
	}
	for _, r := range rules {
		if m, ok := r.(map[string]any); ok {
			if want, ok := m["exists"].(bool); ok {
				_, isObject := v.(map[string]any)
				if want == (present && !isObject) {
					return true
				}
				continue
			}
		}
		if !present {
			continue
		}
		for _, val := range values {
			if matchRule(r, val) {
				return true
			}
		}
	}
	return false
}

func matchRule(r, v any) bool {
	switch r := r.(type) {
	case nil:
		return v == nil
	case string:
		s, ok := v.(string)
		return ok && s == r
	case float64:
		f, ok := v.(float64)
		return ok && f == r
	case bool:
		b, ok := v.(bool)
		return ok && b == r
	case map[string]any:
		for op, arg := range r {
			return matchOp(op, arg, v)
		}
	}
	return false
}

func matchOp(op string, arg, v any) bool {
	s, isString := v.(string)
	switch op {
	case "prefix", "suffix":
		want, _ := arg.(string)
		fold := false
		if m, ok := arg.(map[string]any); ok {
			want, fold = m["equals-ignore-case"].(string), true
		}
		if !isString {
			return false
		}
		if fold {
			s, want = strings.ToLower(s), strings.ToLower(want)
		}
		if op == "prefix" {
			return strings.HasPrefix(s, want)
		}
		return strings.HasSuffix(s, want)
	case "equals-ignore-case":
		return isString && strings.EqualFold(s, arg.(string))
	case "wildcard":
		return isString && glob(arg.(string), s, false)
	case "anything-but":
		if _, isObject := v.(map[string]any); isObject {
			return false
		}
		switch a := arg.(type) {
		case []any:
			for _, x := range a {
				if matchRule(x, v) {
					return false
				}
			}
			return true
		default:
			return !matchRule(a, v)
		}
	case "numeric":
		f, ok := v.(float64)
		if !ok {
			return false
		}
		a := arg.([]any)
		for i := 0; i < len(a); i += 2 {
			n := a[i+1].(float64)
			var hold bool
			switch a[i].(string) {
			case "<":
				hold = f < n
			case "<=":
				hold = f <= n
			case "=":
				hold = f == n
			case ">":
				hold = f > n
			case ">=":
				hold = f >= n
			}
			if !hold {
				return false
			}
		}
		return true
	}
	return false
}

// glob matches s against a pattern where * is any run of characters and ? any one character
// (the IAM syntax; event patterns' wildcard uses only *).
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, str := []rune(pattern), []rune(s)
	// Iterative matching with one backtrack point for the last *.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
