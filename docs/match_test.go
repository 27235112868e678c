package docs

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

const ellipsis = "…"

var (
	spaces = regexp.MustCompile(` {2,}`)
	// token finds what changes from run to run in a doc's expected output.
	token = regexp.MustCompile(strings.Join([]string{
		`(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`,
		`(?P<time>\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z| UTC|[+-]\d\d:\d\d)?)`,
		`(?P<ms>[+-]?\d+(?:\.\d+)?ms)`,
		`(?P<any>` + ellipsis + `)`,
	}, "|"))
)

const (
	uuidPattern = `([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`
	timePattern = `\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z| UTC|[+-]\d\d:\d\d)?`
	msPattern   = `[+-]?\d+(?:\.\d+)?ms`
)

// linePattern is one expected line as a regular expression, with the doc's UUIDs in the order
// of their capture groups.
type linePattern struct {
	re    *regexp.Regexp
	uuids []string
}

func compile(line string) linePattern {
	line = normalize(line)
	var b strings.Builder
	var uuids []string
	b.WriteString("^")
	last := 0
	for _, m := range token.FindAllStringSubmatchIndex(line, -1) {
		b.WriteString(regexp.QuoteMeta(line[last:m[0]]))
		text := line[m[0]:m[1]]
		switch {
		case m[2] >= 0:
			b.WriteString(uuidPattern)
			uuids = append(uuids, text)
		case m[4] >= 0:
			b.WriteString(timePattern)
		case m[6] >= 0:
			b.WriteString(msPattern)
		default:
			b.WriteString(".*?")
		}
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(line[last:]))
	b.WriteString("$")
	return linePattern{re: regexp.MustCompile(b.String()), uuids: uuids}
}

func normalize(line string) string {
	return strings.TrimRight(spaces.ReplaceAllString(strings.TrimRight(line, "\r"), " "), " ")
}

// match compares a command's output with the doc's. bound maps doc UUIDs to the run's; it
// grows with the UUIDs first seen in this output only when the whole output matches.
func match(want, got []string, bound map[string]string) error {
	pats := make([]*linePattern, len(want))
	for i, l := range want {
		if strings.TrimSpace(l) != ellipsis {
			p := compile(l)
			pats[i] = &p
		}
	}
	var fit func(wi, gi int, b map[string]string) (map[string]string, bool)
	fit = func(wi, gi int, b map[string]string) (map[string]string, bool) {
		if wi == len(pats) {
			return b, gi == len(got)
		}
		if pats[wi] == nil { // a line of "…": any number of lines
			for k := gi; k <= len(got); k++ {
				if r, ok := fit(wi+1, k, b); ok {
					return r, true
				}
			}
			return nil, false
		}
		if gi == len(got) {
			return nil, false
		}
		nb, ok := bindLine(*pats[wi], normalize(got[gi]), b)
		if !ok {
			return nil, false
		}
		return fit(wi+1, gi+1, nb)
	}
	if r, ok := fit(0, 0, bound); ok {
		for k, v := range r {
			bound[k] = v
		}
		return nil
	}
	return fmt.Errorf("output differs from the doc: %s", firstDifference(pats, got, bound))
}

// bindLine matches one line and returns the bindings with its UUIDs added; a doc UUID must
// stand for one run UUID and a run UUID for one doc UUID.
func bindLine(p linePattern, line string, b map[string]string) (map[string]string, bool) {
	m := p.re.FindStringSubmatch(line)
	if m == nil {
		return nil, false
	}
	nb := b
	if len(p.uuids) > 0 { // a copy: a branch the matcher abandons must not keep its bindings
		nb = make(map[string]string, len(b)+len(p.uuids))
		for k, v := range b {
			nb[k] = v
		}
	}
	for i, doc := range p.uuids {
		run := m[i+1]
		if prev, ok := nb[doc]; ok {
			if prev != run {
				return nil, false
			}
			continue
		}
		for d, r := range nb {
			if r == run && d != doc {
				return nil, false
			}
		}
		nb[doc] = run
	}
	return nb, true
}

// firstDifference names the first expected line that no output line matches in order, for the
// failure message.
func firstDifference(pats []*linePattern, got []string, bound map[string]string) string {
	gi := 0
	for wi, p := range pats {
		if p == nil {
			continue
		}
		found := false
		for k := gi; k < len(got); k++ {
			if _, ok := bindLine(*p, normalize(got[k]), bound); ok {
				gi, found = k+1, true
				break
			}
		}
		if !found {
			return fmt.Sprintf("expected line %d has no match in order (pattern %s)", wi+1, p.re)
		}
	}
	return "extra or missing lines"
}

func TestMatch(t *testing.T) {
	t.Parallel()
	const docID = "3dcd5d4d-cca6-50f9-9687-b5a8fe29d9db"
	const runID = "79503677-3e53-5bbf-b1dd-021b79a79eb3"
	const other = "01a231b4-06e6-75da-bfe1-0ec52cac0323"
	cases := []struct {
		name      string
		want, got []string
		bound     map[string]string
		ok        bool
	}{
		{"table widths and times", []string{"ID  RECEIVED                  SOURCE", docID + "  2026-12-01T13:03:30.695Z  github   +3ms"},
			[]string{"ID RECEIVED SOURCE", runID + "  2027-01-02T00:00:00.000Z  github  +12ms"}, nil, true},
		{"a changed word", []string{"202 Accepted"}, []string{"201 Created"}, nil, false},
		{"a missing line", []string{"a", "b"}, []string{"a"}, nil, false},
		{"an extra line", []string{"a"}, []string{"a", "b"}, nil, false},
		{"ellipsis line", []string{"id x", ellipsis, "data:"}, []string{"id x", "1", "2", "data:"}, nil, true},
		{"ellipsis line, nothing", []string{"id x", ellipsis, "data:"}, []string{"id x", "data:"}, nil, true},
		{"ellipsis in a line", []string{"Date: " + ellipsis}, []string{"Date: Tue, 01 Dec 2026 14:43:06 +0000"}, nil, true},
		{"same doc id, two run ids", []string{docID, docID}, []string{runID, other}, nil, false},
		{"two doc ids, one run id", []string{docID, other}, []string{runID, runID}, nil, false},
		{"bound earlier", []string{"event id: " + docID}, []string{"event id: " + runID}, map[string]string{docID: runID}, true},
		{"bound earlier to another", []string{"event id: " + docID}, []string{"event id: " + other}, map[string]string{docID: runID}, false},
		{"email times", []string{"  Sent at:      2026-11-23 10:00:00.000 UTC"}, []string{"  Sent at: 2026-12-01 14:43:06.667 UTC"}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bound := map[string]string{}
			for k, v := range c.bound {
				bound[k] = v
			}
			err := match(c.want, c.got, bound)
			if (err == nil) != c.ok {
				t.Fatalf("match(%q, %q) = %v, want ok=%v", c.want, c.got, err, c.ok)
			}
		})
	}
	bound := map[string]string{}
	if err := match([]string{"x " + docID}, []string{"x " + runID}, bound); err != nil || bound[docID] != runID {
		t.Errorf("binding after a match: %v, %v", err, bound)
	}
	bound = map[string]string{}
	if err := match([]string{"x " + docID, "y"}, []string{"x " + runID, "z"}, bound); err == nil || len(bound) != 0 {
		t.Errorf("a failed match must bind nothing: %v, %v", err, bound)
	}
}

func TestSteps(t *testing.T) {
	t.Parallel()
	b := block{lang: "console", line: 10, lines: []string{
		"$ hookline send --a \\",
		"    '{}'",
		"202 Accepted",
		"",
		"$ echo hi; echo \"exit $?\"",
		"hi",
		"exit 0",
		"",
	}}
	got := steps(b)
	if len(got) != 2 || got[0].command != "hookline send --a \\\n    '{}'" || got[0].line != 11 ||
		strings.Join(got[0].want, "|") != "202 Accepted" || strings.Join(got[1].want, "|") != "hi|exit 0" || got[1].line != 15 {
		t.Errorf("steps = %#v", got)
	}
	args, ok := serverArgs([]block{{lines: []string{"make build", "bin/hookline local --sources examples/sources.json   # leave it running"}}})
	if !ok || strings.Join(args, " ") != "--sources examples/sources.json" {
		t.Errorf("serverArgs = %q, %v", args, ok)
	}
}
