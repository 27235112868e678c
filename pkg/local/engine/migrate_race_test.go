package engine_test

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"hookline/pkg/local/engine"
)

// TestOpenFreshFileConcurrently: processes opening a new database file at once (`hookline
// local` and a CLI command on a fresh data dir) each open it; the migrations run once, not
// once per opener ("table queues already exists"). Connections of one process lock a SQLite
// file as separate processes would, so goroutines stand in for them.
func TestOpenFreshFileConcurrently(t *testing.T) {
	t.Parallel()
	for round := range 10 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("fresh-%d.db", round))
		var wg sync.WaitGroup
		errs := make([]error, 4)
		engines := make([]*engine.Engine, len(errs))
		for i := range errs {
			wg.Go(func() {
				engines[i], errs[i] = engine.Open(path, engine.Options{SweepInterval: -1, Log: slog.New(slog.DiscardHandler)})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, opener %d: %v", round, i, err)
				continue
			}
			if err := engines[i].Close(); err != nil {
				t.Errorf("round %d, close %d: %v", round, i, err)
			}
		}
	}
}
