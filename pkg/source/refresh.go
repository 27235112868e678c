package source

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"hookline/pkg/wiring"
)

// Refresher serves a sources config fetched from elsewhere (a Secrets Manager secret on AWS)
// and fetches it again once it is older than TTL. A failed refresh keeps serving the last good
// config and logs why; only a failure with no good config at all is an error.
type Refresher struct {
	Fetch func(ctx context.Context) ([]byte, error)
	TTL   time.Duration    // zero means wiring.DefaultSourcesTTL
	Now   func() time.Time // nil means time.Now
	Log   *slog.Logger     // nil means slog.Default()

	mu      sync.Mutex
	set     *Set
	fetched time.Time
}

// Load fetches the config now; call it at cold start so a broken config fails the start.
func (r *Refresher) Load(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refreshLocked(ctx)
}

// Lookup returns the source called name from the current config, refreshing it first when due.
func (r *Refresher) Lookup(ctx context.Context, name string) (*Source, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set == nil || r.now().Sub(r.fetched) >= r.ttl() {
		if err := r.refreshLocked(ctx); err != nil {
			if r.set == nil {
				return nil, false, err
			}
			r.log().WarnContext(ctx, "sources refresh failed; serving the last good config", "error", err.Error())
			// Back off for a full TTL instead of hammering a failing secret store.
			r.fetched = r.now()
		}
	}
	return r.set.Lookup(ctx, name)
}

func (r *Refresher) refreshLocked(ctx context.Context) error {
	b, err := r.Fetch(ctx)
	if err != nil {
		return fmt.Errorf("fetch sources config: %w", err)
	}
	set, err := Parse(b)
	if err != nil {
		return err
	}
	r.set, r.fetched = set, r.now()
	return nil
}

func (r *Refresher) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Refresher) ttl() time.Duration {
	if r.TTL > 0 {
		return r.TTL
	}
	return wiring.DefaultSourcesTTL
}

func (r *Refresher) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}
