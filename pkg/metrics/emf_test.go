package metrics_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
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
