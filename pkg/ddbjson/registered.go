package ddbjson

import "sync"

// Registered is the set of history partitions one writer (ddbstore's Store, ddbput's Writer) has
// added to the registry item GroupsID, so each costs that writer (that Lambda instance) one
// write, not one per event. ADD to a string set is idempotent: two writers, or two goroutines of
// one, registering the same partition is harmless, and the set only saves writes. The zero value
// is empty; it is safe for concurrent use.
type Registered struct {
	mu    sync.Mutex
	known map[string]bool
}

// Has reports whether sg was added.
func (r *Registered) Has(sg string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.known[sg]
}

// Add records sg as registered: call it once the registry's write has succeeded.
func (r *Registered) Add(sg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.known == nil {
		r.known = map[string]bool{}
	}
	r.known[sg] = true
}
