// Package localmetrics is what CloudWatch's EMF metrics (pkg/metrics) are for `hookline local`:
// the same counters and receipt latencies, as Prometheus metrics served at GET /metrics in the
// text exposition format. It implements the lambdaio metric ports, so the handlers report
// to it exactly what they report to EMF on AWS. pkg/localrun wires it.
//
// Names: the EMF metric in snake case with Prometheus' suffixes, labels in lower case:
//
//	hookline_accepted_total{source}            Accepted
//	hookline_rejected_total{reason,source}     Rejected (source "" for a name nobody configured)
//	hookline_signature_key_match_total{source,key}
//	hookline_duplicate_total{source}           Duplicate
//	hookline_stored_total{source}              Stored
//	hookline_notified_total{source}            Notified
//	hookline_notify_failed_total{source}       NotifyFailed
//	hookline_receipt_to_stored_ms{source}      ReceiptToStoredMs (histogram)
//	hookline_receipt_to_notified_ms{source}    ReceiptToNotifiedMs (histogram)
//	hookline_pending_notification_age_ms       the oldest stored event without its email, read at scrape time
//
// Latencies are in milliseconds, like every duration hookline reports, not Prometheus'
// customary seconds; the unit is in the name.
package localmetrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// LatencyBucketsMs are the histogram buckets, in milliseconds: from a fast local pipeline
// (a few ms) to a mail server that was down for a quarter of an hour.
var LatencyBucketsMs = []float64{1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 900_000}

// Registry holds hookline's metrics. Build it with New.
type Registry struct {
	reg *prometheus.Registry

	accepted, duplicate, stored, notified, notifyFailed *prometheus.CounterVec
	rejected, keyMatch                                  *prometheus.CounterVec
	toStored, toNotified                                *prometheus.HistogramVec
}

// PendingAge returns how long the oldest stored event without its email has waited (zero when
// none waits). It is read at every scrape.
type PendingAge func(ctx context.Context) (time.Duration, error)

// New returns a registry. pending, if not nil, backs hookline_pending_notification_age_ms.
func New(pending PendingAge) *Registry {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hookline_" + name, Help: help}, labels)
	}
	histogram := func(name, help string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hookline_" + name, Help: help, Buckets: LatencyBucketsMs}, []string{"source"})
	}
	r := &Registry{
		reg:          prometheus.NewRegistry(),
		accepted:     counter("accepted_total", "Webhook requests answered 202.", "source"),
		rejected:     counter("rejected_total", "Webhook requests refused, by reason (source is empty for a name nobody configured).", "reason", "source"),
		keyMatch:     counter("signature_key_match_total", "Accepted requests by the index of the secret that verified them.", "source", "key"),
		duplicate:    counter("duplicate_total", "Deliveries of events already stored (retries, replays).", "source"),
		stored:       counter("stored_total", "Events stored.", "source"),
		notified:     counter("notified_total", "Completion emails sent.", "source"),
		notifyFailed: counter("notify_failed_total", "Failed attempts to send a completion email.", "source"),
		toStored:     histogram("receipt_to_stored_ms", "Milliseconds from receipt to stored."),
		toNotified:   histogram("receipt_to_notified_ms", "Milliseconds from receipt to the email sent."),
	}
	r.reg.MustRegister(r.accepted, r.rejected, r.keyMatch, r.duplicate, r.stored, r.notified, r.notifyFailed, r.toStored, r.toNotified)
	if pending != nil {
		r.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hookline_pending_notification_age_ms",
			Help: "Milliseconds the oldest stored event without its completion email has waited (0: none). NaN when the store cannot be read.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			d, err := pending(ctx)
			if err != nil {
				return nan()
			}
			return ms(d)
		}))
	}
	return r
}

// Handler serves the metrics in the Prometheus text format (or OpenMetrics, when asked).
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// Gatherer exposes the registry to tests and other exporters.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Accepted implements lambdaio.IngestMetrics.
func (r *Registry) Accepted(source string, key int) {
	r.accepted.WithLabelValues(source).Inc()
	r.keyMatch.WithLabelValues(source, strconv.Itoa(key)).Inc()
}

// Rejected implements lambdaio.IngestMetrics.
func (r *Registry) Rejected(source, reason string) { r.rejected.WithLabelValues(reason, source).Inc() }

// Stored implements lambdaio.RecordMetrics.
func (r *Registry) Stored(source string, receiptToStored time.Duration) {
	r.stored.WithLabelValues(source).Inc()
	r.toStored.WithLabelValues(source).Observe(ms(receiptToStored))
}

// Duplicate implements lambdaio.RecordMetrics.
func (r *Registry) Duplicate(source string) { r.duplicate.WithLabelValues(source).Inc() }

// Notified implements lambdaio.NotifyMetrics.
func (r *Registry) Notified(source string, receiptToNotified time.Duration) {
	r.notified.WithLabelValues(source).Inc()
	r.toNotified.WithLabelValues(source).Observe(ms(receiptToNotified))
}

// NotifyFailed implements lambdaio.NotifyMetrics. The pending age is read from the store at
// scrape time instead (hookline_pending_notification_age_ms), which also sees events no
// attempt has reached.
func (r *Registry) NotifyFailed(source string, _ time.Duration) {
	r.notifyFailed.WithLabelValues(source).Inc()
}

func ms(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return float64(d.Microseconds()) / 1000
}
