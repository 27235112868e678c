package lambdaio

import (
	"sort"
	"strings"
)

// header serves verify.Header over API Gateway's header map, whose names the HTTP API always
// lower-cases (and so does the local gateway).
type header map[string]string

func (h header) Get(lowerName string) string { return h[lowerName] }

// Names lists the header names, sorted: binary-mode CloudEvents keep every ce-* header.
func (h header) Names() []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// lowerHeaders returns m as a header, lower-casing names only if some are not already: a
// hand-built request (tests, other runners) may use any case, API Gateway never does, so the
// hot path costs one scan of the names and no copy.
func lowerHeaders(m map[string]string) header {
	for k := range m {
		if hasUpper(k) {
			low := make(map[string]string, len(m))
			for k, v := range m {
				low[strings.ToLower(k)] = v
			}
			return low
		}
	}
	return m
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
