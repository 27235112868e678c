package metrics_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hookline/pkg/metrics"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// emfLine is the shape CloudWatch documents for an EMF log event.
type emfLine struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

func TestKeyMatchedLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	e := &metrics.EMF{W: &buf, Now: func() time.Time { return t0 }}
	e.KeyMatched("github", 1)
	line := buf.String()
	if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
		t.Fatalf("want one line, got %q", line)
	}
	var got emfLine
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, line)
	}
	if got.AWS.Timestamp != t0.UnixMilli() || len(got.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("_aws = %+v", got.AWS)
	}
	d := got.AWS.CloudWatchMetrics[0]
	if d.Namespace != "Hookline" || cmp.Diff([][]string{{"Source", "Key"}}, d.Dimensions) != "" ||
		len(d.Metrics) != 1 || d.Metrics[0].Name != "SignatureKeyMatch" || d.Metrics[0].Unit != "Count" {
		t.Errorf("directive = %+v", d)
	}
	// Every dimension and metric named in the directive is a top-level member.
	var values map[string]any
	if err := json.Unmarshal([]byte(line), &values); err != nil {
		t.Fatal(err)
	}
	if values["Source"] != "github" || values["Key"] != "1" || values["SignatureKeyMatch"] != float64(1) {
		t.Errorf("values = %v", values)
	}
}

func TestPutEscapesAndSkipsEmpty(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	e := &metrics.EMF{W: &buf, Namespace: "Test"}
	e.Put([]metrics.Dimension{{"Source", "a\"b\\c\n\xff"}})
	if buf.Len() != 0 {
		t.Fatalf("a line without metrics was written: %q", buf.String())
	}
	e.Put([]metrics.Dimension{{"Source", "a\"b\\c\n\xff"}}, metrics.Metric{Name: "Latency", Unit: metrics.Milliseconds, Value: 12.5}, metrics.Metric{Name: "N", Value: 3})
	var values map[string]any
	if err := json.Unmarshal(buf.Bytes(), &values); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	if values["Source"] != "a\"b\\c\n\ufffd" || values["Latency"] != 12.5 || values["N"] != float64(3) {
		t.Errorf("values = %v", values)
	}
}

func TestConcurrentLinesStayWhole(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		out bytes.Buffer
	)
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	e := &metrics.EMF{W: w}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				e.KeyMatched("s", g*100+i)
			}
		}()
	}
	wg.Wait()
	sc := bufio.NewScanner(&out)
	n := 0
	for sc.Scan() {
		var l emfLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d broken: %v: %s", n, err, sc.Text())
		}
		n++
	}
	if n != 400 {
		t.Errorf("%d lines, want 400", n)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestKeyMatchedDoesNotAllocate(t *testing.T) {
	e := &metrics.EMF{W: io.Discard}
	e.KeyMatched("github", 0) // grow the buffer once
	if n := testing.AllocsPerRun(100, func() { e.KeyMatched("github", 12) }); n != 0 {
		t.Errorf("KeyMatched allocates %.0f times per call; it runs on every request", n)
	}
}

// TestHooklineMetrics: each port method writes one EMF line whose directives publish the
// metrics under the documented dimension sets, with every named member present.
func TestHooklineMetrics(t *testing.T) {
	t.Parallel()
	type directive struct {
		Dimensions [][]string
		Metrics    []string
	}
	tests := []struct {
		name   string
		emit   func(e *metrics.EMF)
		want   []directive
		values map[string]any
	}{
		{"accepted", func(e *metrics.EMF) { e.Accepted("github", 1) },
			[]directive{{[][]string{{}, {"Source"}}, []string{"Accepted"}}, {[][]string{{"Source", "Key"}}, []string{"SignatureKeyMatch"}}},
			map[string]any{"Source": "github", "Key": "1", "Accepted": 1.0, "SignatureKeyMatch": 1.0}},
		{"rejected by a configured source", func(e *metrics.EMF) { e.Rejected("github", "unauthorized") },
			[]directive{{[][]string{{"Reason"}, {"Source", "Reason"}}, []string{"Rejected"}}},
			map[string]any{"Source": "github", "Reason": "unauthorized", "Rejected": 1.0}},
		{"rejected, no source", func(e *metrics.EMF) { e.Rejected("", "not_found") },
			[]directive{{[][]string{{"Reason"}}, []string{"Rejected"}}},
			map[string]any{"Reason": "not_found", "Rejected": 1.0}},
		{"stored", func(e *metrics.EMF) { e.Stored("stripe", 1234567*time.Microsecond) },
			[]directive{{[][]string{{}, {"Source"}}, []string{"Stored", "ReceiptToStoredMs"}}},
			map[string]any{"Source": "stripe", "Stored": 1.0, "ReceiptToStoredMs": 1234.567}},
		{"duplicate", func(e *metrics.EMF) { e.Duplicate("stripe") },
			[]directive{{[][]string{{}, {"Source"}}, []string{"Duplicate"}}},
			map[string]any{"Source": "stripe", "Duplicate": 1.0}},
		{"notified", func(e *metrics.EMF) { e.Notified("stripe", 2*time.Second) },
			[]directive{{[][]string{{}, {"Source"}}, []string{"Notified", "ReceiptToNotifiedMs"}}},
			map[string]any{"Source": "stripe", "Notified": 1.0, "ReceiptToNotifiedMs": 2000.0}},
		{"notify failed", func(e *metrics.EMF) { e.NotifyFailed("stripe", 16*time.Minute) },
			[]directive{{[][]string{{}, {"Source"}}, []string{"NotifyFailed"}}, {[][]string{{}}, []string{"PendingNotificationAgeMs"}}},
			map[string]any{"Source": "stripe", "NotifyFailed": 1.0, "PendingNotificationAgeMs": 960000.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			tt.emit(&metrics.EMF{W: &buf, Now: func() time.Time { return t0 }})
			if strings.Count(buf.String(), "\n") != 1 {
				t.Fatalf("want one line, got %q", buf.String())
			}
			var line emfLine
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("not JSON: %v: %s", err, buf.String())
			}
			var got []directive
			for _, d := range line.AWS.CloudWatchMetrics {
				if d.Namespace != "Hookline" {
					t.Errorf("namespace %q", d.Namespace)
				}
				var names []string
				for _, m := range d.Metrics {
					names = append(names, m.Name)
				}
				got = append(got, directive{d.Dimensions, names})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("directives (-want +got):\n%s", diff)
			}
			var values map[string]any
			if err := json.Unmarshal(buf.Bytes(), &values); err != nil {
				t.Fatal(err)
			}
			delete(values, "_aws")
			if diff := cmp.Diff(tt.values, values); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPerRequestMetricsDoNotAllocate(t *testing.T) {
	e := &metrics.EMF{W: io.Discard}
	e.Accepted("github", 0)
	for name, f := range map[string]func(){
		"Accepted": func() { e.Accepted("github", 3) },
		"Rejected": func() { e.Rejected("github", "unauthorized") },
		"Stored":   func() { e.Stored("github", time.Millisecond) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %.0f times per call", name, n)
		}
	}
}

// TestBatchLines: a batch's outcome for one source is one line, its latencies as EMF's value
// array (each a sample), the count the number of events; more than 100 values start a new line.
func TestBatchLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	e := &metrics.EMF{W: &buf, Now: func() time.Time { return t0 }}
	e.StoredBatch("github", []time.Duration{1500 * time.Microsecond, 2 * time.Millisecond, 3 * time.Millisecond}, 2)
	e.NotifiedBatch("stripe", []time.Duration{40 * time.Millisecond}, []time.Duration{time.Minute})
	many := make([]time.Duration, 150)
	e.StoredBatch("shop", many, 0)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5 (stored, notified, failed, shop ×2):\n%s", len(lines), buf.String())
	}
	var stored map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &stored); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"Source": "github", "Stored": 3.0, "ReceiptToStoredMs": []any{1.5, 2.0, 3.0}, "Duplicate": 2.0},
		map[string]any{"Source": stored["Source"], "Stored": stored["Stored"], "ReceiptToStoredMs": stored["ReceiptToStoredMs"], "Duplicate": stored["Duplicate"]}); diff != "" {
		t.Errorf("stored line (-want +got):\n%s", diff)
	}
	var l emfLine
	if err := json.Unmarshal([]byte(lines[2]), &l); err != nil || len(l.AWS.CloudWatchMetrics) != 2 {
		t.Errorf("failed line %s: %v", lines[2], err)
	}
	for i, want := range []float64{100, 50} {
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[3+i]), &m); err != nil {
			t.Fatal(err)
		}
		if m["Stored"] != want || len(m["ReceiptToStoredMs"].([]any)) != int(want) {
			t.Errorf("shop line %d: Stored %v with %d values, want %v", i, m["Stored"], len(m["ReceiptToStoredMs"].([]any)), want)
		}
	}
}

// TestAttrsMatchLine: the attributes for a request's own log line carry what the line would.
func TestAttrsMatchLine(t *testing.T) {
	t.Parallel()
	var line, logs bytes.Buffer
	e := &metrics.EMF{W: &line, Now: func() time.Time { return t0 }}
	e.Accepted("github", 1)
	slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey {
			return slog.Attr{}
		}
		return a
	}})).LogAttrs(context.Background(), slog.LevelInfo, "ingest", e.AcceptedAttrs("github", 1)...)
	var a, b map[string]any
	if err := json.Unmarshal(line.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(logs.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("log-line attributes differ from the EMF line (-line +attrs):\n%s", diff)
	}
}

// TestLineAttrsPerMillisecond: a request line's metric attributes are made once per millisecond
// and kind of line, and carry that millisecond's timestamp; their "_aws" value is the compact
// JSON a log handler may append as it is.
func TestLineAttrsPerMillisecond(t *testing.T) {
	t.Parallel()
	at := t0
	e := &metrics.EMF{W: io.Discard, Now: func() time.Time { return at }}
	stamp := func(attrs []slog.Attr) float64 {
		t.Helper()
		raw, err := json.Marshal(attrs[0].Value.Any())
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil || compact.String() != string(raw) {
			t.Fatalf("_aws = %s is not compact JSON (%v)", raw, err)
		}
		if a, ok := attrs[0].Value.Any().(interface{ AppendJSON([]byte) []byte }); !ok || string(a.AppendJSON(nil)) != string(raw) {
			t.Fatalf("_aws value %T does not append what it marshals", attrs[0].Value.Any())
		}
		var m struct{ Timestamp float64 }
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m.Timestamp
	}
	first := e.AcceptedAttrs("github", 1)
	if again := e.AcceptedAttrs("github", 1); &again[0] != &first[0] {
		t.Error("the same line's attributes were made twice in one millisecond")
	}
	if other := e.AcceptedAttrs("github", 0); other[2].Value.String() != "0" {
		t.Errorf("key 0's line carries Key %v", other[2].Value)
	}
	if r := e.RejectedAttrs("github", "unauthorized"); r[2].Value.String() != "unauthorized" || stamp(r) != float64(t0.UnixMilli()) {
		t.Errorf("rejected line attributes %v", r)
	}
	if got := stamp(first); got != float64(t0.UnixMilli()) {
		t.Errorf("Timestamp %v, want %v", got, t0.UnixMilli())
	}
	at = t0.Add(time.Millisecond)
	if got := stamp(e.AcceptedAttrs("github", 1)); got != float64(at.UnixMilli()) {
		t.Errorf("a millisecond later, Timestamp %v, want %v", got, at.UnixMilli())
	}
	if got := stamp(first); got != float64(t0.UnixMilli()) {
		t.Errorf("an earlier line's attributes changed: Timestamp %v", got)
	}
}
