// Package loadgen drives a running hookline with signed webhooks at a fixed rate (an open-loop
// load: requests are sent on schedule whether or not earlier ones have answered, so slow
// answers show up as latency instead of silently lowering the rate) and reports time to 202,
// then reads the history to report 202→stored and 202→emailed. It only talks to the URL it is
// given; the tests and `make bench` point it at 127.0.0.1.
package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hookline/pkg/historyapi"
	"hookline/pkg/sender"
)

// Config is one load run.
type Config struct {
	URL      string        // base URL, e.g. http://127.0.0.1:8080
	Source   string        // a github-scheme source
	Secret   string        // its secret
	Rate     int           // requests per second; 0 = as fast as Workers allow (closed loop)
	Duration time.Duration // how long to send
	Workers  int           // concurrent connections (default 64)
	BodySize int           // bytes of JSON body (default 1024)
	RunID    string        // prefix of delivery ids, so runs never collide
	Settle   time.Duration // how long to wait for processing after sending (default 60 s); negative: do not measure processing
}

// Result holds what a run measured.
type Result struct {
	Sent, Accepted, Failed int
	SendSeconds            float64
	AcceptedPerSec         float64
	P50Accept, P99Accept   time.Duration // client-side time to 202, from when each request was due
	MaxAccept              time.Duration
	Processed              int     // accepted events seen notified in the history
	ProcessedPerSec        float64 // processed / (last notified_at - first received_at)
	P50Stored, P99Stored   time.Duration
	P50Emailed, P99Emailed time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("sent %d in %.1fs: %d accepted (%.0f/s), %d failed; time to 202 p50 %v p99 %v max %v\n"+
		"processed %d (%.0f events/s stored+emailed); 202→stored p50 %v p99 %v; 202→emailed p50 %v p99 %v",
		r.Sent, r.SendSeconds, r.Accepted, r.AcceptedPerSec, r.Failed, r.P50Accept, r.P99Accept, r.MaxAccept,
		r.Processed, r.ProcessedPerSec, r.P50Stored, r.P99Stored, r.P50Emailed, r.P99Emailed)
}

// Run sends the load, waits for processing and measures.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.BodySize <= 0 {
		cfg.BodySize = 1024
	}
	if cfg.Settle == 0 {
		cfg.Settle = 60 * time.Second
	}
	if cfg.RunID == "" {
		cfg.RunID = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Workers, MaxConnsPerHost: cfg.Workers}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	defer tr.CloseIdleConnections()

	pad := strings.Repeat("x", max(0, cfg.BodySize-60))
	var (
		seq       atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
		ids       []string
		failed    int
	)
	send := func(due time.Time) {
		n := seq.Add(1)
		delivery := cfg.RunID + "-" + strconv.FormatInt(n, 10)
		body := `{"delivery":"` + delivery + `","pad":"` + pad + `"}`
		req, err := sender.NewRequest(ctx, cfg.URL, cfg.Source, sender.Request{
			Scheme: sender.GitHub, Secret: cfg.Secret, Body: []byte(body), ContentType: "application/json",
			Type: "load", DeliveryID: delivery,
		})
		if err != nil { // a bad URL or an empty secret: every request would fail alike
			mu.Lock()
			failed++
			mu.Unlock()
			return
		}
		resp, err := client.Do(req)
		var out struct{ ID string }
		ok := err == nil && resp.StatusCode == http.StatusAccepted
		if err == nil {
			ok = ok && json.NewDecoder(resp.Body).Decode(&out) == nil
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		d := time.Since(due) // from when the request was due, not from when a worker got to it
		mu.Lock()
		defer mu.Unlock()
		if ok {
			latencies = append(latencies, d)
			ids = append(ids, out.ID)
		} else {
			failed++
		}
	}

	start := time.Now()
	drive(ctx, wallClock{}, schedule{start: start, rate: cfg.Rate, duration: cfg.Duration}, cfg.Workers, send)
	sendSecs := time.Since(start).Seconds()

	res := Result{Sent: int(seq.Load()), Accepted: len(ids), Failed: failed, SendSeconds: sendSecs}
	res.AcceptedPerSec = float64(res.Accepted) / sendSecs
	slices.Sort(latencies)
	res.P50Accept, res.P99Accept = pct(latencies, 50), pct(latencies, 99)
	if len(latencies) > 0 {
		res.MaxAccept = latencies[len(latencies)-1]
	}
	if cfg.Settle < 0 {
		return res, nil
	}
	return res, measureProcessing(ctx, client, cfg, ids, &res)
}

// schedule is when each request of a run is due. At a fixed rate, request i is due at
// start + i/rate, whatever happened to the requests before it: a server that answers slowly
// cannot push the later requests back and so hide its own queueing (coordinated omission).
// Rate 0 is a closed loop: each request is due when a worker is free to send it.
type schedule struct {
	start    time.Time
	rate     int // requests per second; 0 = closed loop
	duration time.Duration
}

// due is when request i (0-based) should be sent; exact in nanoseconds, with no drift from
// rounding an interval (1/3 s is not a whole number of nanoseconds).
func (s schedule) due(i int) time.Time {
	return s.start.Add(time.Duration(int64(i) * int64(time.Second) / int64(s.rate)))
}

// count is how many requests a fixed-rate run sends: those due before start + duration.
func (s schedule) count() int {
	// i is due before the end iff i·10⁹ < duration·rate, i.e. i < ceil(duration·rate / 10⁹).
	n := int64(s.duration) * int64(s.rate)
	return int((n + int64(time.Second) - 1) / int64(time.Second))
}

// clock is what drive needs of time, so a test can run it on a clock it controls.
type clock interface {
	Now() time.Time
	SleepUntil(t time.Time)
}

type wallClock struct{}

func (wallClock) Now() time.Time         { return time.Now() }
func (wallClock) SleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

// drive sends the requests of s with the given number of workers, handing each request its
// due time (the zero time in a closed loop: the worker stamps it when it starts). A fixed-rate request waits for a free worker if all are busy, but keeps its due
// time, so the wait shows in its latency.
func drive(ctx context.Context, c clock, s schedule, workers int, send func(due time.Time)) {
	work := make(chan time.Time)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for due := range work {
				if due.IsZero() { // closed loop: due as soon as this worker is free
					due = c.Now()
				}
				send(due)
			}
		})
	}
	if s.rate > 0 {
		for i, n := 0, s.count(); i < n && ctx.Err() == nil; i++ {
			at := s.due(i)
			c.SleepUntil(at)
			work <- at
		}
	} else {
		end := s.start.Add(s.duration)
		for c.Now().Before(end) && ctx.Err() == nil {
			work <- time.Time{}
		}
	}
	close(work)
	wg.Wait()
}

// measureProcessing waits until every accepted event is notified (or Settle passes) and reads
// the server-side timestamps from the history. While waiting it only asks for single events
// (the last accepted ones, which are processed last), so the measurement does not load the
// server it measures; the full history is read once at the end.
func measureProcessing(ctx context.Context, c *http.Client, cfg Config, ids []string, res *Result) error {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	deadline := time.Now().Add(cfg.Settle)
	tail := ids[max(0, len(ids)-20):]
	for _, id := range tail {
		for time.Now().Before(deadline) {
			v, err := one(ctx, c, cfg.URL, id)
			if err != nil {
				return err
			}
			if v.NotifiedAt != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var views map[string]historyapi.EventView
	for {
		var err error
		views, err = history(ctx, c, cfg.URL, want)
		if err != nil {
			return err
		}
		done := 0
		for _, v := range views {
			if v.NotifiedAt != nil {
				done++
			}
		}
		if done == len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	var stored, emailed []time.Duration
	var first, last time.Time
	for _, v := range views {
		stored = append(stored, v.StoredAt.Sub(v.ReceivedAt))
		if v.NotifiedAt == nil {
			continue
		}
		res.Processed++
		emailed = append(emailed, v.NotifiedAt.Sub(v.ReceivedAt))
		if first.IsZero() || v.ReceivedAt.Before(first) {
			first = v.ReceivedAt
		}
		if v.NotifiedAt.After(last) {
			last = *v.NotifiedAt
		}
	}
	slices.Sort(stored)
	slices.Sort(emailed)
	res.P50Stored, res.P99Stored = pct(stored, 50), pct(stored, 99)
	res.P50Emailed, res.P99Emailed = pct(emailed, 50), pct(emailed, 99)
	if span := last.Sub(first).Seconds(); span > 0 {
		res.ProcessedPerSec = float64(res.Processed) / span
	}
	return nil
}

// one reads a single event; a 404 (not stored yet) is an empty view.
func one(ctx context.Context, c *http.Client, base, id string) (historyapi.EventView, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events/"+id, nil)
	resp, err := c.Do(req)
	if err != nil {
		return historyapi.EventView{}, fmt.Errorf("read event %s: %w", id, err)
	}
	defer resp.Body.Close()
	var v historyapi.EventView
	if resp.StatusCode == http.StatusOK {
		_ = json.NewDecoder(resp.Body).Decode(&v)
	}
	return v, nil
}

// history pages through GET /events?type=load and keeps the events of this run.
func history(ctx context.Context, c *http.Client, base string, want map[string]bool) (map[string]historyapi.EventView, error) {
	out := make(map[string]historyapi.EventView, len(want))
	cursor := ""
	for {
		u := base + "/events?type=load&limit=1000"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("read history: %w", err)
		}
		var page historyapi.ListView
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			return nil, fmt.Errorf("read history: status %d: %v", resp.StatusCode, err)
		}
		for _, v := range page.Events {
			if want[v.ID] {
				out[v.ID] = v
			}
		}
		if cursor = page.NextCursor; cursor == "" || len(out) == len(want) {
			return out, nil
		}
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	if i > 0 {
		i--
	}
	return sorted[i].Round(10 * time.Microsecond)
}
