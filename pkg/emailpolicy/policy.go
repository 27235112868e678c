// Package emailpolicy decides which events get an email, and how: one email per event, or a
// digest every N minutes listing a source's events. It is a deploy-time setting (the CDK
// context "emailPolicy", HOOKLINE_EMAIL_POLICY in the notifier; `hookline local
// --email-policy`), rendered three ways from one value so they cannot disagree: the SNS filter
// policy on the email subscription, the notifier's stream filter (events no rule selects never
// invoke it) and the notifier's own check.
//
// No AWS or CDK imports: infra, the notifier and the CLI all use it.
package emailpolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/source"
)

// Any names the rule for every source the policy does not name.
const Any = "*"

// DigestType is the type attribute of a digest email, which the SNS filter policy lets through
// for sources in digest mode.
const DigestType = "hookline.digest"

// Policy maps source names (or Any) to their rule. A source with no rule, when there is no Any
// rule, gets no email. The zero Policy is Default: every event of every source is emailed.
type Policy struct {
	Sources map[string]Rule `json:"sources"`
}

// Rule is one source's emails.
type Rule struct {
	// Types are exact types or prefixes ("issues.", "orders/": the types one segment below,
	// event.MatchesType); empty means every type.
	Types []string `json:"types,omitempty"`
	// Digest, when set, gathers the source's selected events into one email every Digest
	// (whole minutes, 1m to 60m) instead of one email each.
	Digest Duration `json:"digest,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("5m").
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as \"5m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Default emails every event of every source, one email each.
func Default() Policy { return Policy{Sources: map[string]Rule{Any: {}}} }

// Digest limits.
const (
	MinDigest = time.Minute
	MaxDigest = time.Hour
)

// Parse reads and validates a policy; "" is Default. Unknown fields are errors.
func Parse(s string) (Policy, error) {
	if strings.TrimSpace(s) == "" {
		return Default(), nil
	}
	var p Policy
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Policy{}, fmt.Errorf("email policy: %w", err)
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// Validate names the first bad source, type or digest.
func (p Policy) Validate() error {
	if p.Sources == nil {
		return errors.New(`email policy: "sources" is missing (use {"sources": {}} for no email at all)`)
	}
	for _, name := range p.names() {
		r := p.Sources[name]
		if name != Any && !source.ValidName(name) {
			return fmt.Errorf("email policy: source %q: not a source name (%s)", name, source.NameRule)
		}
		for _, t := range r.Types {
			if t == "" || strings.TrimSpace(t) != t {
				return fmt.Errorf("email policy: source %s: type %q is empty or padded", name, t)
			}
		}
		if name == Any && r.Digest != 0 {
			return errors.New(`email policy: "*": a digest lists one source's events; name the source`)
		}
		if d := time.Duration(r.Digest); d != 0 && (d < MinDigest || d > MaxDigest || d%time.Minute != 0) {
			return fmt.Errorf("email policy: source %s: digest %v: want whole minutes from %v to %v", name, d, MinDigest, MaxDigest)
		}
	}
	return nil
}

// names are the rule names, sorted, Any last.
func (p Policy) names() []string {
	var out []string
	for k := range p.Sources {
		if k != Any {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	if _, ok := p.Sources[Any]; ok {
		out = append(out, Any)
	}
	return out
}

// rule returns the rule that governs source, if any.
func (p Policy) rule(source string) (Rule, bool) {
	if r, ok := p.Sources[source]; ok {
		return r, true
	}
	r, ok := p.Sources[Any]
	return r, ok
}

// Mode is what happens to one event.
type Mode int

// Modes.
const (
	None      Mode = iota // no email
	Immediate             // one email for the event
	Digested              // listed in its source's next digest
)

// Decide says what the policy does with an event of source and typ, and for a digest, its
// interval.
func (p Policy) Decide(source, typ string) (Mode, time.Duration) {
	r, ok := p.rule(source)
	if !ok || !r.selects(typ) {
		return None, 0
	}
	if r.Digest != 0 {
		return Digested, time.Duration(r.Digest)
	}
	return Immediate, 0
}

func (r Rule) selects(typ string) bool {
	if len(r.Types) == 0 {
		return true
	}
	for _, q := range r.Types {
		if event.MatchesType(q, typ) {
			return true
		}
	}
	return false
}

// IsDefault reports whether p emails every event at once, as a stack without a policy does.
func (p Policy) IsDefault() bool {
	r, ok := p.Sources[Any]
	if !ok || len(r.Types) > 0 || r.Digest != 0 {
		return false
	}
	for name, r := range p.Sources {
		if name != Any && (len(r.Types) > 0 || r.Digest != 0) {
			return false
		}
	}
	return true
}

// Digests lists the sources in digest mode with their interval (Any included when its rule
// digests): what the digest flush goes through.
func (p Policy) Digests() map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, r := range p.Sources {
		if r.Digest != 0 {
			out[name] = time.Duration(r.Digest)
		}
	}
	return out
}

// String is the policy as compact JSON, what HOOKLINE_EMAIL_POLICY holds.
func (p Policy) String() string {
	b, _ := json.Marshal(p)
	return string(b)
}

// typeRules renders types as filter rules: exact values, or {"prefix": p} for a prefix (a
// superset of event.MatchesType, which also insists on one segment: the notifier checks that).
func typeRules(types []string) []any {
	out := make([]any, 0, len(types))
	for _, t := range types {
		if event.IsTypePrefix(t) {
			out = append(out, map[string]any{"prefix": t})
		} else {
			out = append(out, t)
		}
	}
	return out
}

// SNSFilterPolicy is the filter policy of the email subscription, on the message attributes
// "source" and "type" every email carries (digests carry DigestType): nil for Default (every
// email goes out). It is the outer guard: the notifier publishes only what Decide selects.
func (p Policy) SNSFilterPolicy() map[string]any {
	if p.IsDefault() {
		return nil
	}
	var named []any
	var ors []any
	for _, name := range p.names() {
		r := p.Sources[name]
		clause := map[string]any{}
		if name == Any {
			if len(named) > 0 {
				clause["source"] = []any{map[string]any{"anything-but": named}}
			} else {
				clause["source"] = []any{map[string]any{"exists": true}}
			}
		} else {
			named = append(named, name)
			clause["source"] = []any{name}
		}
		switch {
		case r.Digest != 0:
			clause["type"] = []any{DigestType}
		case len(r.Types) > 0:
			clause["type"] = typeRules(r.Types)
		}
		ors = append(ors, clause)
	}
	switch len(ors) {
	case 0:
		// No rule: nothing is emailed. Every email has a source, so this matches none.
		return map[string]any{"source": []any{map[string]any{"exists": false}}}
	case 1:
		return ors[0].(map[string]any)
	}
	return map[string]any{"$or": ors}
}

// MaxStreamFilters is Lambda's limit of filters on one event source mapping.
const MaxStreamFilters = 5

// StreamFilters are the notifier's stream filter patterns (Lambda event filtering on the
// DynamoDB stream's new images), one per group of rules with the same types: INSERTs of event
// items (they have eventKey, ddbitem.AttrSourceGroup) whose source and type some rule selects,
// digests included. Events that get no email never invoke the notifier.
func (p Policy) StreamFilters(eventKey string) ([]map[string]any, error) {
	base := func() map[string]any {
		return map[string]any{eventKey: map[string]any{"S": []any{map[string]any{"exists": true}}}}
	}
	insert := func(img map[string]any) map[string]any {
		return map[string]any{"eventName": []any{"INSERT"}, "dynamodb": map[string]any{"NewImage": img}}
	}
	if p.IsDefault() {
		return []map[string]any{insert(base())}, nil
	}
	// Group named sources by their types, so sources with the same rule share a filter.
	type group struct {
		types   []string
		sources []any
	}
	var groups []*group
	var named []any
	for _, name := range p.names() {
		if name == Any {
			continue
		}
		named = append(named, name)
		types := p.Sources[name].Types
		var g *group
		for _, x := range groups {
			if slices.Equal(x.types, types) {
				g = x
			}
		}
		if g == nil {
			g = &group{types: types}
			groups = append(groups, g)
		}
		g.sources = append(g.sources, name)
	}
	var out []map[string]any
	add := func(sources []any, types []string) {
		img := base()
		img["source"] = map[string]any{"S": sources}
		if len(types) > 0 {
			img["type"] = map[string]any{"S": typeRules(types)}
		}
		out = append(out, insert(img))
	}
	for _, g := range groups {
		add(g.sources, g.types)
	}
	if r, ok := p.Sources[Any]; ok {
		src := []any{map[string]any{"exists": true}}
		if len(named) > 0 {
			src = []any{map[string]any{"anything-but": named}}
		}
		add(src, r.Types)
	}
	if len(out) == 0 {
		// No rule: nothing is emailed. Every event has a source, so this matches none.
		img := base()
		img["source"] = map[string]any{"S": []any{map[string]any{"exists": false}}}
		return []map[string]any{insert(img)}, nil
	}
	if len(out) > MaxStreamFilters {
		return nil, fmt.Errorf("email policy: its rules need %d stream filters and Lambda allows %d: give more sources the same types", len(out), MaxStreamFilters)
	}
	return out, nil
}
