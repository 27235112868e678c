package lambdaio

import "strings"

// header serves verify.Header over API Gateway's header map. API Gateway's HTTP API lower-cases
// header names; the fallback scan keeps hand-built requests (tests, other runners) working.
type header map[string]string

func (h header) Get(lowerName string) string {
	if v, ok := h[lowerName]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, lowerName) {
			return v
		}
	}
	return ""
}
