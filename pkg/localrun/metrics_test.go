package localrun_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	dto "github.com/prometheus/client_model/go"

	"hookline/pkg/sender"
)

const metricsSecret = "metrics-test-github-secret"

// writeSources writes a sources file with one GitHub source "github" whose secrets are given.
func writeSources(t *testing.T, dir string, secrets ...string) string {
	t.Helper()
	quoted := make([]string, len(secrets))
	for i, s := range secrets {
		quoted[i] = `"` + s + `"`
	}
	p := filepath.Join(dir, "sources.json")
	cfg := `{"sources": {"github": {"scheme": "github", "secrets": [` + strings.Join(quoted, ",") + `]}}}`
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// githubHeaders signs body as GitHub would with secret.
func githubHeaders(t *testing.T, secret, body string) map[string]string {
	t.Helper()
	h, err := sender.Sign(sender.Request{Scheme: sender.GitHub, Secret: secret, Body: []byte(body), Type: "push", ContentType: "application/json"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k := range h {
		out[k] = h.Get(k)
	}
	return out
}

// scrape reads GET /metrics and parses the Prometheus text format.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("GET /metrics is not the Prometheus text format: %v", err)
	}
	return fams
}

// value returns the counter, gauge or histogram count of family name whose labels include
// labels; -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		for k, v := range labels {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestMetricsCountRejectionsAndTheJourney: requests signed with a wrong secret grow
// hookline_rejected_total{reason="unauthorized"} at GET /metrics; a good one is counted
// accepted, stored and notified, with both latencies observed.
func TestMetricsCountRejectionsAndTheJourney(t *testing.T) {
	dir := t.TempDir()
	s := start(t, writeSources(t, dir, metricsSecret), 0)
	unauthorized := map[string]string{"reason": "unauthorized", "source": "github"}
	before := value(scrape(t, s.url), "hookline_rejected_total", unauthorized)
	if before != -1 {
		t.Fatalf("a fresh server already counts %v unauthorized rejections", before)
	}
	for i := range 3 {
		body := `{"n":` + string(rune('0'+i)) + `}`
		if code, _ := s.post(t, "github", githubHeaders(t, "not-the-configured-secret", body), body); code != http.StatusUnauthorized {
			t.Fatalf("wrong secret: %d, want 401", code)
		}
		if got := value(scrape(t, s.url), "hookline_rejected_total", unauthorized); got != float64(i+1) {
			t.Fatalf("after %d wrong-secret requests hookline_rejected_total{reason=unauthorized,source=github} = %v", i+1, got)
		}
	}
	body := `{"ok":true}`
	code, out := s.post(t, "github", githubHeaders(t, metricsSecret, body), body)
	if code != http.StatusAccepted {
		t.Fatalf("good request: %d %v", code, out)
	}
	s.waitNotified(t, out["id"].(string))
	gh := map[string]string{"source": "github"}
	// The notifier counts the email after its mark is committed, so the history can show the
	// mark a moment before the counter moves: wait for the counter (bounded, for hangs only).
	deadline := time.Now().Add(30 * time.Second)
	fams := scrape(t, s.url)
	for value(fams, "hookline_notified_total", gh) != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		fams = scrape(t, s.url)
	}
	for name, want := range map[string]float64{
		"hookline_accepted_total":              1,
		"hookline_stored_total":                1,
		"hookline_notified_total":              1,
		"hookline_receipt_to_stored_ms":        1,
		"hookline_receipt_to_notified_ms":      1,
		"hookline_signature_key_match_total":   1,
		"hookline_rejected_total":              3,
		"hookline_pending_notification_age_ms": 0,
	} {
		labels := gh
		if name == "hookline_pending_notification_age_ms" {
			labels = nil
		}
		if got := value(fams, name, labels); got != want {
			t.Errorf("%s%v = %v, want %v", name, labels, got, want)
		}
	}
	if got := value(fams, "hookline_notify_failed_total", gh); got != -1 {
		t.Errorf("hookline_notify_failed_total = %v, want no series", got)
	}
}
