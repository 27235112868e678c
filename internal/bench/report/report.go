// Package report runs hookline's bounded load runs on loopback and writes the dated
// Markdown section of a run (`make bench` keeps it in docs/benchmarks/ and as BENCHMARKS.md's latest run): throughput, time to 202, 202→stored and 202→emailed,
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
	"sync/atomic"
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
	Floor        []string      // command (and arguments before the address) serving the floor; see ServeFloor
	Duration     time.Duration // each load run (default 30 s)
	Rate         int           // the fixed rate of the latency run (default 1,000)
	HistorySizes []int         // events in the table for the history query run
	SkipLoad     bool          // only the history query run
}

// Run executes the runs and writes Markdown to w.
func Run(ctx context.Context, cfg Config, w io.Writer) error {
	if cfg.Duration <= 0 {
		cfg.Duration = 30 * time.Second
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 1000
	}
	dir, err := os.MkdirTemp("", "hookline-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintf(w, "## %s — %s\n\n", time.Now().UTC().Format("2006-01-02"), machine())
	fmt.Fprintf(w, "Reproduce: `make bench` (Go benchmarks, then `go run ./cmd/hookline-bench`). Load runs: `hookline local --durability process` on 127.0.0.1, 1 KiB GitHub-signed JSON bodies, the load generator (internal/bench/loadgen: latency from each request's due time) in the same machine, against the floor first — a bare net/http server in its own process that reads the body and answers 202 — then against hookline, with the same runs.\n\n")
	fmt.Fprintf(w, "Load average before: %s.\n\n", loadavg())

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

// run is one server's pair of load runs.
type run struct {
	fixed, open loadgen.Result
	rss         int64 // peak RSS of the server over both runs
}

// loadRuns runs the fixed-rate and the flat-out load runs, first against the floor, then
// against the real binary, and writes every figure with its ratio to the floor's.
func loadRuns(ctx context.Context, cfg Config, dir string, w io.Writer) error {
	if len(cfg.Floor) == 0 {
		return fmt.Errorf("no floor command")
	}
	floor, err := floorRuns(ctx, cfg)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	srv, err := start(ctx, exec.CommandContext(ctx, cfg.Bin, "local", "--data", filepath.Join(dir, "data"), "--log-level", "error", "--durability", "process"), "--addr")
	if err != nil {
		return err
	}
	defer srv.stop()
	secret, err := os.ReadFile(filepath.Join(dir, "data", "demo-secret"))
	if err != nil {
		return err
	}
	base := loadgen.Config{URL: srv.url, Source: "demo", Secret: strings.TrimSpace(string(secret)), Duration: cfg.Duration, Settle: 120 * time.Second}
	ours, err := runPair(ctx, cfg, base, srv)
	if err != nil {
		return err
	}
	if err := srv.stop(); err != nil {
		return err
	}
	dbBytes := fileSize(filepath.Join(dir, "data", "hookline.db")) + fileSize(filepath.Join(dir, "data", "hookline.db-wal"))
	events := ours.fixed.Accepted + ours.open.Accepted
	writeTable(w, cfg, floor, ours)
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	fmt.Fprintf(w, "\nMemory: peak RSS of `hookline local` over both runs %.1f MiB (the floor's %.1f MiB, %s), %.2f MiB per 10k events handled. Database after %d events (file + WAL, after shutdown): %.1f MiB, %.1f MiB per 10k events.\n\n",
		mib(ours.rss), mib(floor.rss), ratio(float64(ours.rss), float64(floor.rss)), mib(ours.rss)/float64(max(events, 1))*10000,
		events, mib(dbBytes), mib(dbBytes)/float64(max(events, 1))*10000)
	fmt.Fprintf(w, "Load average after: %s.\n\n", loadavg())
	return nil
}

// floorRuns measures the bare net/http server with the same two runs.
func floorRuns(ctx context.Context, cfg Config) (run, error) {
	srv, err := start(ctx, exec.CommandContext(ctx, cfg.Floor[0], cfg.Floor[1:]...), "")
	if err != nil {
		return run{}, err
	}
	defer srv.stop()
	// Its exit status says only that SIGTERM stopped it.
	return runPair(ctx, cfg, loadgen.Config{URL: srv.url, Source: "floor", Secret: "floor", Duration: cfg.Duration, Settle: -1}, srv)
}

func runPair(ctx context.Context, cfg Config, base loadgen.Config, srv *server) (run, error) {
	var r run
	var err error
	fixed := base
	fixed.Rate, fixed.RunID = cfg.Rate, "fixed"
	if r.fixed, err = loadgen.Run(ctx, fixed); err != nil {
		return r, fmt.Errorf("fixed-rate run: %w", err)
	}
	open := base
	open.Rate, open.RunID, open.Workers = 0, "max", 64
	if r.open, err = loadgen.Run(ctx, open); err != nil {
		return r, fmt.Errorf("max-rate run: %w", err)
	}
	r.rss = peakRSS(srv.cmd.Process.Pid)
	return r, nil
}

func writeTable(w io.Writer, cfg Config, floor, ours run) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "| figure | floor (net/http 202) | `hookline local` | ratio to the floor | goal |\n|---|---:|---:|---:|---|\n")
	fmt.Fprintf(w, "| accepted/s, as fast as 64 connections go (%v) | %.0f | %.0f | %s | ≥ 0.3 |\n", cfg.Duration,
		floor.open.AcceptedPerSec, ours.open.AcceptedPerSec, ratio(ours.open.AcceptedPerSec, floor.open.AcceptedPerSec))
	fmt.Fprintf(w, "| fully processed/s (stored + emailed) in that run | — | %.0f (%d of %d) | %s | ≥ 5,000/s (stretch 10,000) |\n",
		ours.open.ProcessedPerSec, ours.open.Processed, ours.open.Accepted, ratio(ours.open.ProcessedPerSec, floor.open.AcceptedPerSec))
	limit := 2*floor.fixed.P99Accept + 2*time.Millisecond
	fmt.Fprintf(w, "| time to 202 p99 at %d req/s (%v) | %s | %s | %s | ≤ 2× floor + 2 ms = %s |\n", cfg.Rate, cfg.Duration,
		ms(floor.fixed.P99Accept), ms(ours.fixed.P99Accept), ratio(float64(ours.fixed.P99Accept), float64(floor.fixed.P99Accept)), ms(limit))
	fmt.Fprintf(w, "| time to 202 p50 / max at %d req/s | %s / %s | %s / %s | %s | |\n", cfg.Rate,
		ms(floor.fixed.P50Accept), ms(floor.fixed.MaxAccept), ms(ours.fixed.P50Accept), ms(ours.fixed.MaxAccept), ratio(float64(ours.fixed.P50Accept), float64(floor.fixed.P50Accept)))
	fmt.Fprintf(w, "| accepted/s at %d req/s (sent %d; %d failed) | %.0f | %.0f | %s | |\n", cfg.Rate, ours.fixed.Sent, ours.fixed.Failed,
		floor.fixed.AcceptedPerSec, ours.fixed.AcceptedPerSec, ratio(ours.fixed.AcceptedPerSec, floor.fixed.AcceptedPerSec))
	fmt.Fprintf(w, "| 202→stored p50 / p99 at %d req/s | — | %s / %s | | |\n", cfg.Rate, ms(ours.fixed.P50Stored), ms(ours.fixed.P99Stored))
	fmt.Fprintf(w, "| 202→emailed p50 / p99 at %d req/s (processed %d of %d) | — | %s / %s | | reported |\n", cfg.Rate, ours.fixed.Processed, ours.fixed.Accepted,
		ms(ours.fixed.P50Emailed), ms(ours.fixed.P99Emailed))
	fmt.Fprintf(w, "| time to 202 p50 / p99 flat out | %s / %s | %s / %s | | |\n", ms(floor.open.P50Accept), ms(floor.open.P99Accept), ms(ours.open.P50Accept), ms(ours.open.P99Accept))
	fmt.Fprintf(w, "| 202→emailed p50 / p99 flat out | — | %s / %s | | |\n", ms(ours.open.P50Emailed), ms(ours.open.P99Emailed))
}

func ratio(ours, floor float64) string {
	if floor <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", ours/floor)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// ServeFloor is the floor the load runs are compared with: a bare net/http server on addr
// that reads each request's body and answers 202 with a JSON id, as hookline's ingest does,
// and nothing else. hookline-bench runs it in its own process, as hookline runs in its own.
func ServeFloor(addr string) error {
	var n atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"id":"`+strconv.FormatInt(n.Add(1), 10)+`","status":"accepted"}`)
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.Handle("/", h)
	return (&http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}).ListenAndServe()
}

type server struct {
	cmd     *exec.Cmd
	url     string
	stopped bool
}

// start runs cmd with a free 127.0.0.1 address appended (after flag, if not empty) and
// waits until it answers GET /healthz.
func start(ctx context.Context, cmd *exec.Cmd, flag string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	if flag != "" {
		cmd.Args = append(cmd.Args, flag)
	}
	cmd.Args = append(cmd.Args, addr)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
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
			return nil, fmt.Errorf("%s did not become healthy: %v", cmd.Path, err)
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
