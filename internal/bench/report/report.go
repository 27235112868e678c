// Package report runs hookline's bounded load runs on loopback and writes the dated
// Markdown section of BENCHMARKS.md: throughput, time to 202, 202→stored and 202→emailed,
// peak RSS, database growth, and history query latency as the table grows. `make bench` runs
// it after the Go benchmarks.
package report

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"hookline/internal/bench/loadgen"
	"hookline/pkg/event"
	"hookline/pkg/local/engine"
	"hookline/pkg/pipeline"
)

// Config says what to run.
type Config struct {
	Bin          string        // the hookline binary
	Duration     time.Duration // each load run (default 30 s)
	Rate         int           // the fixed rate of the latency run (default 500)
	HistorySizes []int         // events in the table for the history query run
	SkipLoad     bool          // only the history query run
}

// Run executes the runs and writes Markdown to w.
func Run(ctx context.Context, cfg Config, w io.Writer) error {
	if cfg.Duration <= 0 {
		cfg.Duration = 30 * time.Second
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 500
	}
	dir, err := os.MkdirTemp("", "hookline-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintf(w, "## %s — %s\n\n", time.Now().UTC().Format("2006-01-02"), machine())
	fmt.Fprintf(w, "Reproduce: `make bench` (Go benchmarks, then `go run ./cmd/hookline-bench`). Load runs: `hookline local --durability process` on 127.0.0.1, 1 KiB GitHub-signed JSON bodies, `hookline-load` in the same machine.\n\n")

	if !cfg.SkipLoad {
		if err := loadRuns(ctx, cfg, dir, w); err != nil {
			return err
		}
	}
	if len(cfg.HistorySizes) > 0 {
		fmt.Fprintf(w, "History queries on the local engine (median of 21, page of 50, in-process):\n\n| events stored | newest across all | by source | by type, last hour | get by id |\n|---|---|---|---|---|\n")
		for _, n := range cfg.HistorySizes {
			row, err := historyLatency(ctx, filepath.Join(dir, fmt.Sprintf("hist-%d.db", n)), n)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "| %d | %v | %v | %v | %v |\n", n, row[0], row[1], row[2], row[3])
		}
		fmt.Fprintln(w)
	}
	return nil
}

// loadRuns runs the fixed-rate and the flat-out load runs against the real binary.
func loadRuns(ctx context.Context, cfg Config, dir string, w io.Writer) error {
	srv, err := start(ctx, cfg.Bin, filepath.Join(dir, "data"))
	if err != nil {
		return err
	}
	defer srv.stop()
	secret, err := os.ReadFile(filepath.Join(dir, "data", "demo-secret"))
	if err != nil {
		return err
	}
	base := loadgen.Config{URL: srv.url, Source: "demo", Secret: strings.TrimSpace(string(secret)), Duration: cfg.Duration, Settle: 120 * time.Second}

	fixed := base
	fixed.Rate, fixed.RunID = cfg.Rate, "fixed"
	r1, err := loadgen.Run(ctx, fixed)
	if err != nil {
		return fmt.Errorf("fixed-rate run: %w", err)
	}
	open := base
	open.Rate, open.RunID, open.Workers = 0, "max", 64
	r2, err := loadgen.Run(ctx, open)
	if err != nil {
		return fmt.Errorf("max-rate run: %w", err)
	}
	rss := peakRSS(srv.cmd.Process.Pid)
	if err := srv.stop(); err != nil {
		return err
	}
	dbBytes := fileSize(filepath.Join(dir, "data", "hookline.db")) + fileSize(filepath.Join(dir, "data", "hookline.db-wal"))
	events := r1.Accepted + r2.Accepted

	fmt.Fprintf(w, "| run | sent | accepted/s | time to 202 p50 / p99 / max | fully processed/s | 202→stored p50 / p99 | 202→emailed p50 / p99 |\n|---|---|---|---|---|---|---|\n")
	for _, r := range []struct {
		name string
		res  loadgen.Result
	}{{fmt.Sprintf("fixed %d req/s, %v", cfg.Rate, cfg.Duration), r1}, {fmt.Sprintf("as fast as 64 connections go, %v", cfg.Duration), r2}} {
		fmt.Fprintf(w, "| %s | %d | %.0f | %v / %v / %v | %.0f (%d of %d) | %v / %v | %v / %v |\n", r.name, r.res.Sent, r.res.AcceptedPerSec,
			r.res.P50Accept, r.res.P99Accept, r.res.MaxAccept.Round(10*time.Microsecond), r.res.ProcessedPerSec, r.res.Processed, r.res.Accepted,
			r.res.P50Stored, r.res.P99Stored, r.res.P50Emailed, r.res.P99Emailed)
	}
	fmt.Fprintf(w, "\nPeak RSS of `hookline local` over both runs: %.1f MiB. Database after %d events (file + WAL, after shutdown): %.1f MiB, %.1f MiB per 10k events.\n\n",
		float64(rss)/(1<<20), events, float64(dbBytes)/(1<<20), float64(dbBytes)/(1<<20)/float64(max(events, 1))*10000)

	return nil
}

type server struct {
	cmd     *exec.Cmd
	url     string
	stopped bool
}

func start(ctx context.Context, bin, data string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.CommandContext(ctx, bin, "local", "--addr", addr, "--data", data, "--log-level", "error", "--durability", "process")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, url: "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("hookline did not become healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) stop() error {
	if s.stopped {
		return nil
	}
	s.stopped = true
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		return fmt.Errorf("hookline did not stop within 30s of SIGTERM")
	}
}

// historyLatency fills a fresh engine with n events over 8 sources and 16 types, spread over
// the last 24 hours, then times the history's access patterns.
func historyLatency(ctx context.Context, path string, n int) ([4]time.Duration, error) {
	var out [4]time.Duration
	eng, err := engine.Open(path, engine.Options{Durability: engine.DurabilityProcess, SweepInterval: -1})
	if err != nil {
		return out, err
	}
	defer eng.Close()
	store := eng.Events()
	now := time.Now().UTC()
	ids := make([]string, 0, n)
	const parallel = 64
	errs := make(chan error, parallel)
	for w := range parallel {
		go func() {
			for i := w; i < n; i += parallel {
				e := &event.Event{ID: event.DeliveryID("bench", strconv.Itoa(i)), Source: "source-" + strconv.Itoa(i%8), Type: "type." + strconv.Itoa(i%16),
					Time: now, ReceivedAt: now.Add(-time.Duration(i) * 24 * time.Hour / time.Duration(n))}
				if err := e.SetData("application/json", []byte(`{"n":`+strconv.Itoa(i)+`,"pad":"0123456789abcdef0123456789abcdef"}`)); err != nil {
					errs <- err
					return
				}
				if _, err := store.PutNew(ctx, &event.Record{Event: e, StoredAt: now}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range parallel {
		if err := <-errs; err != nil {
			return out, fmt.Errorf("fill %d events: %w", n, err)
		}
	}
	for i := 0; i < n; i += max(1, n/21) {
		ids = append(ids, event.DeliveryID("bench", strconv.Itoa(i)))
	}
	queries := []func() error{
		func() error { _, err := store.List(ctx, pipeline.Query{Limit: 50}); return err },
		func() error { _, err := store.List(ctx, pipeline.Query{Source: "source-3", Limit: 50}); return err },
		func() error {
			_, err := store.List(ctx, pipeline.Query{Type: "type.7", Since: now.Add(-time.Hour), Limit: 50})
			return err
		},
	}
	for qi, q := range queries {
		d, err := median(21, q)
		if err != nil {
			return out, err
		}
		out[qi] = d
	}
	i := 0
	d, err := median(21, func() error { _, err := store.Get(ctx, ids[i%len(ids)]); i++; return err })
	out[3] = d
	return out, err
}

func median(n int, f func() error) (time.Duration, error) {
	ds := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds[n/2].Round(time.Microsecond), nil
}

func peakRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (%s), %s", runtime.NumCPU(), model, runtime.Version())
}
