package lambdaio

// bySource keeps one tally per source in the order the sources first appear in a batch, so
// batch metrics are reported in the batch's order.
type bySource[T any] struct {
	tallies map[string]*T
	order   []string
}

// of returns source's tally, adding an empty one the first time.
func (b *bySource[T]) of(source string) *T {
	if t, ok := b.tallies[source]; ok {
		return t
	}
	if b.tallies == nil {
		b.tallies = map[string]*T{}
	}
	t := new(T)
	b.tallies[source] = t
	b.order = append(b.order, source)
	return t
}

// each calls fn with every source's tally, in first-seen order.
func (b *bySource[T]) each(fn func(source string, t *T)) {
	for _, src := range b.order {
		fn(src, b.tallies[src])
	}
}
