// Package rotation is secret rotation tracking: how many stored events each secret of each
// source verified, and when last, so an operator sees when an old secret is no longer used and
// can be removed. It reads the verification evidence every stored event carries (its key is
// the 0-based index of the secret that matched, in config order).
//
// Where it sits: `hookline sources` and the web view of `hookline local` read the local store
// through the Usage port (pkg/local/engine implements it). On AWS the same fact is the
// SignatureKeyMatch metric that the ingest function emits (pkg/metrics) and the dashboard shows.
package rotation

import (
	"cmp"
	"context"
	"slices"
	"time"

	"hookline/pkg/source"
)

// DefaultWindow is how far back the table looks unless told otherwise.
const DefaultWindow = 7 * 24 * time.Hour

// KeyUse is how many stored events one secret of one source verified since a time, and when
// the last of them was received.
type KeyUse struct {
	Source string
	Key    int
	Events int
	Last   time.Time
}

// Usage reads key use from stored events received at or after since, ordered by source and
// key. Events stored without evidence are not counted.
type Usage interface {
	KeyUsage(ctx context.Context, since time.Time) ([]KeyUse, error)
}

// Row is one line of the rotation table.
type Row struct {
	Source string `json:"source"`
	Scheme string `json:"scheme,omitempty"` // "" when the source is not in the config given
	Key    int    `json:"key"`
	Events int    `json:"events"`
	// Last is when the newest of those events was received; nil when none was.
	Last *time.Time `json:"last,omitempty"`
	// Configured says the config has a secret at this index. An unconfigured row is traffic
	// verified by a secret that has since been removed (or the config was not given).
	Configured bool `json:"configured"`
}

// Sources is what the table needs of a sources config: names, schemes and secret counts.
type Sources interface {
	Names() []string
	Lookup(ctx context.Context, name string) (*source.Source, bool, error)
}

// Table merges the use read from the store with the config, so every configured secret has a
// row — an unused one with 0 events, which is the row that says "remove me". set may be nil:
// then only secrets that verified something appear.
func Table(ctx context.Context, set Sources, used []KeyUse) ([]Row, error) {
	type k struct {
		source string
		key    int
	}
	rows := map[k]*Row{}
	schemes := map[string]string{}
	if set != nil {
		for _, name := range set.Names() {
			src, ok, err := set.Lookup(ctx, name)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			schemes[name] = src.Scheme
			for i := range src.Keys {
				rows[k{name, i}] = &Row{Source: name, Scheme: src.Scheme, Key: i, Configured: true}
			}
		}
	}
	for _, u := range used {
		r := rows[k{u.Source, u.Key}]
		if r == nil {
			r = &Row{Source: u.Source, Scheme: schemes[u.Source], Key: u.Key}
			rows[k{u.Source, u.Key}] = r
		}
		r.Events += u.Events
		if !u.Last.IsZero() && (r.Last == nil || u.Last.After(*r.Last)) {
			last := u.Last.UTC()
			r.Last = &last
		}
	}
	out := make([]Row, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}
