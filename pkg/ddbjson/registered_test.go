package ddbjson_test

import (
	"fmt"
	"sync"
	"testing"

	"hookline/pkg/ddbjson"
)

// TestRegistered: a partition is known once added and not before, others stay unknown, and
// writers' goroutines may add and ask at once (run with -race).
func TestRegistered(t *testing.T) {
	var r ddbjson.Registered
	if r.Has("github#issues") {
		t.Fatal("the zero value has github#issues")
	}
	r.Add("github#issues")
	if !r.Has("github#issues") {
		t.Error("github#issues added, not had")
	}
	if r.Has("github#push") {
		t.Error("github#push had, never added")
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			sg := fmt.Sprintf("s%d#t", i)
			r.Add(sg)
			if !r.Has(sg) {
				t.Errorf("%s added, not had", sg)
			}
		})
	}
	wg.Wait()
}
