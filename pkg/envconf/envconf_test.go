package envconf_test

import (
	"strings"
	"testing"
	"time"

	"hookline/pkg/envconf"
)

func TestReader(t *testing.T) {
	t.Parallel()
	env := map[string]string{"A": "x", "D": "90s", "BAD_D": "soon", "N": "7", "BAD_N": "70"}
	r := envconf.New(func(k string) string { return env[k] })
	if r.Required("A") != "x" || r.String("MISSING", "def") != "def" || r.Duration("D", 0) != 90*time.Second || r.Int("N", 1, 1, 10) != 7 {
		t.Error("good values misread")
	}
	if r.Err() != nil {
		t.Fatalf("Err() = %v before any bad value", r.Err())
	}
	r.Required("TABLE")
	r.Duration("BAD_D", time.Minute)
	r.Int("BAD_N", 4, 1, 64)
	err := r.Err()
	for _, want := range []string{"TABLE: required", `BAD_D: "soon"`, `BAD_N: "70" is not a whole number from 1 to 64`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Err() = %v, want it to mention %q", err, want)
		}
	}
}
