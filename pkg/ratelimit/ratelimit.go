// Package ratelimit is the per-source rate limit of `hookline local`: one token bucket per
// source ("rate": {"per_second": 50, "burst": 200} in the sources config), which the ingest
// service consults before any signature work (it is a pipeline.Limiter). A source over its
// rate gets 429 with Retry-After.
//
// A bucket only limits what the process holding it sees. `hookline local` sees every request
// to a source, so there it is the source's limit. A Lambda instance sees a share of them that
// depends on how many instances are running, so on AWS the limits are API Gateway's throttles
// (infra/), and the ingest function is built without a Limiter.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"hookline/pkg/pipeline"
	"hookline/pkg/source"
)

// PerSource holds a bucket per source name. The zero value is ready to use.
type PerSource struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

var _ pipeline.Limiter = (*PerSource)(nil)

type bucket struct {
	cfg source.Rate
	lim *rate.Limiter
}

// Allow takes a token from src's bucket at now. Without one it says how long until the next
// token, and takes nothing: a refused request does not push later ones further back.
func (p *PerSource) Allow(src *source.Source, now time.Time) (time.Duration, bool) {
	if src.Rate == nil {
		return 0, true
	}
	b := p.bucket(src.Name, *src.Rate)
	r := b.lim.ReserveN(now, 1)
	if !r.OK() { // only when burst < 1, which the config refuses
		return time.Second, false
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// bucket returns name's bucket, a new full one when the source is new or its rate changed.
func (p *PerSource) bucket(name string, cfg source.Rate) *bucket {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.buckets[name]
	if b == nil || b.cfg != cfg {
		if p.buckets == nil {
			p.buckets = map[string]*bucket{}
		}
		b = &bucket{cfg: cfg, lim: rate.NewLimiter(rate.Limit(cfg.PerSecond), cfg.Burst)}
		p.buckets[name] = b
	}
	return b
}
