// Package metrics writes CloudWatch metrics in the Embedded Metric Format (EMF): one JSON object
// per line on a Lambda function's stdout, which CloudWatch Logs turns into metrics. No API call
// (PutMetricData) is made, so a metric costs a log line and never a network round trip on the
// request path.
//
// Where it sits: the functions' mains hand an *EMF to the lambdaio handlers, which report what
// they observed through small ports they own (lambdaio.IngestMetrics, RecordMetrics,
// NotifyMetrics). `hookline local` reports the same facts to Prometheus counters instead
// (pkg/localmetrics, GET /metrics). The metric and dimension names below are the ones the CDK
// dashboard and alarms refer to.
//
// Each metric is published without dimensions and per Source (Rejected: per Reason, and per
// Source and Reason), and every combination is a billed custom metric, so no other dimension
// is added: a stack with S sources has at most 15 + 13·S of them plus one per source secret
// (SignatureKeyMatch), and only those that receive data in a month are billed. A source name
// nobody configured never becomes a dimension value (the ports are given "" instead).
package metrics

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Namespace is where every hookline metric lives.
const Namespace = "Hookline"

// Names the dashboard refers to.
const (
	// SignatureKeyMatch counts accepted requests by the secret that verified them.
	SignatureKeyMatch = "SignatureKeyMatch"
	DimSource         = "Source"
	DimKey            = "Key"    // the 0-based secret index, in config order
	DimReason         = "Reason" // pipeline.Reason*: unauthorized, not_found, …

	Accepted     = "Accepted"     // ingest answered 202
	Rejected     = "Rejected"     // ingest refused the request (Reason)
	Duplicate    = "Duplicate"    // the subscriber saw an event already stored (a retry or a replay)
	Stored       = "Stored"       // the subscriber stored a new event
	Notified     = "Notified"     // the notifier sent an event's completion email
	NotifyFailed = "NotifyFailed" // the notifier failed to email an event (it is retried)

	ReceiptToStoredMs   = "ReceiptToStoredMs"   // received_at → stored_at
	ReceiptToNotifiedMs = "ReceiptToNotifiedMs" // received_at → the email sent
	// PendingNotificationAgeMs is how long an event the notifier failed to email has been
	// stored: the age of a notification still pending. The PendingNotifications alarm watches it.
	PendingNotificationAgeMs = "PendingNotificationAgeMs"
)

// The dimension sets. Package variables, so a line costs no allocation for them.
var (
	setsAll       = [][]string{{}, {DimSource}}     // aggregate and per source
	setsNone      = [][]string{{}}                  // aggregate only
	setsKey       = [][]string{{DimSource, DimKey}} // SignatureKeyMatch
	setsReason    = [][]string{{DimReason}, {DimSource, DimReason}}
	setsReasonAny = [][]string{{DimReason}} // a refusal before any configured source was named
)

// Unit is a CloudWatch metric unit.
type Unit string

// Units in use.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
	Bytes        Unit = "Bytes"
	None         Unit = "None"
)

// Dimension is one name/value pair that identifies a metric.
type Dimension struct{ Name, Value string }

// Metric is one value of a metric, or several: Values, when set, is written as EMF's array of
// up to 100 values (each one sample, as if it had a line of its own).
type Metric struct {
	Name   string
	Unit   Unit
	Value  float64
	Values []float64
}

// MaxValues is EMF's limit on the values of one metric in one line.
const MaxValues = 100

// EMF writes EMF lines to W. It is safe for concurrent use; each line is written with one
// Write, so lines from concurrent invocations never interleave.
type EMF struct {
	W         io.Writer
	Namespace string           // "" means Namespace
	Now       func() time.Time // nil means time.Now

	mu  sync.Mutex
	buf []byte

	linesMu sync.Mutex
	lines   map[lineKey]lineAttrs // the request lines' attributes (AcceptedAttrs, RejectedAttrs)
}

// Put writes one line: metrics, all with the one dimension set dims. Write errors are
// dropped: a metric is never worth failing a request for.
func (e *EMF) Put(dims []Dimension, metrics ...Metric) {
	if len(metrics) == 0 {
		return
	}
	names := make([]string, len(dims))
	for i, d := range dims {
		names[i] = d.Name
	}
	e.line(dims, directive{sets: [][]string{names}, metrics: metrics})
}

// directive is one entry of a line's CloudWatchMetrics: metrics published under each of sets
// (lists of dimension names whose values are the line's dims).
type directive struct {
	sets    [][]string
	metrics []Metric
}

// line writes one EMF object with the directives, the dimension values and the metric values.
// A metric named in two directives must have one value; callers never do that.
func (e *EMF) line(dims []Dimension, dirs ...directive) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := append(e.buf[:0], `{"_aws":`...)
	b = e.appendMeta(b, e.now().UnixMilli(), dirs)
	// The values are top-level members named after the dimension and metric names.
	for _, d := range dims {
		b = append(b, ',')
		b = appendString(b, d.Name)
		b = append(b, ':')
		b = appendString(b, d.Value)
	}
	for _, d := range dirs {
		for _, m := range d.metrics {
			b = append(b, ',')
			b = appendString(b, m.Name)
			b = append(b, ':')
			b = appendValue(b, m)
		}
	}
	b = append(b, '}', '\n')
	e.buf = b
	_, _ = e.W.Write(b)
}

// attrs returns what line would write at ms (Unix milliseconds), as attributes of a log line
// someone else writes: the "_aws" metadata, the dimension values and the metric values.
// CloudWatch reads EMF metrics from any JSON log line that carries them, so a request's
// metrics need no line of their own.
func (e *EMF) attrs(ms int64, dims []Dimension, dirs ...directive) []slog.Attr {
	out := make([]slog.Attr, 0, 1+len(dims)+2*len(dirs))
	out = append(out, slog.Any("_aws", rawJSON(e.appendMeta(nil, ms, dirs))))
	for _, d := range dims {
		out = append(out, slog.String(d.Name, d.Value))
	}
	for _, d := range dirs {
		for _, m := range d.metrics {
			if m.Values != nil {
				out = append(out, slog.Any(m.Name, m.Values))
			} else {
				out = append(out, slog.Float64(m.Name, m.Value))
			}
		}
	}
	return out[:len(out):len(out)] // shared (cachedAttrs): an append must copy
}

// rawJSON is compact, valid JSON (appendMeta's): the Lambda log handler appends it as it is
// (lambdarun.RawJSON), any other slog JSON handler marshals it to the same bytes.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// AppendJSON appends r as it is.
func (r rawJSON) AppendJSON(b []byte) []byte { return append(b, r...) }

// lineKey names the metric attributes of one kind of request line.
type lineKey struct {
	rejected       bool
	source, reason string
	key            int
}

// lineAttrs are the attributes of lineKey's request lines in millisecond ms.
type lineAttrs struct {
	ms    int64
	attrs []slog.Attr
}

// maxLineKeys bounds the cache: sources × (secrets + reasons) of a configuration is far less.
const maxLineKeys = 1024

// cachedAttrs returns the attributes of k's request lines now, made by mk once per millisecond:
// every line of a millisecond carries the same ones, and a busy function then spends no
// allocation on them. The slices are shared and never written after they are made.
func (e *EMF) cachedAttrs(k lineKey, mk func(ms int64) []slog.Attr) []slog.Attr {
	ms := e.now().UnixMilli()
	e.linesMu.Lock()
	defer e.linesMu.Unlock()
	if c, ok := e.lines[k]; ok && c.ms == ms {
		return c.attrs
	}
	if e.lines == nil || len(e.lines) >= maxLineKeys {
		e.lines = make(map[lineKey]lineAttrs)
	}
	attrs := mk(ms)
	e.lines[k] = lineAttrs{ms, attrs}
	return attrs
}

func (e *EMF) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func appendValue(b []byte, m Metric) []byte {
	if m.Values == nil {
		return strconv.AppendFloat(b, m.Value, 'g', -1, 64)
	}
	b = append(b, '[')
	for i, v := range m.Values {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return append(b, ']')
}

// appendMeta appends the "_aws" object: the timestamp (Unix milliseconds) and the directives.
func (e *EMF) appendMeta(b []byte, ms int64, dirs []directive) []byte {
	ns := e.Namespace
	if ns == "" {
		ns = Namespace
	}
	b = append(b, `{"Timestamp":`...)
	b = strconv.AppendInt(b, ms, 10)
	b = append(b, `,"CloudWatchMetrics":[`...)
	for di, d := range dirs {
		if di > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Namespace":`...)
		b = appendString(b, ns)
		b = append(b, `,"Dimensions":[`...)
		for si, set := range d.sets {
			if si > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			for i, name := range set {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, name)
			}
			b = append(b, ']')
		}
		b = append(b, `],"Metrics":[`...)
		for i, m := range d.metrics {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"Name":`...)
			b = appendString(b, m.Name)
			if m.Unit != "" {
				b = append(b, `,"Unit":`...)
				b = appendString(b, string(m.Unit))
			}
			b = append(b, '}')
		}
		b = append(b, `]}`...)
	}
	return append(b, `]}`...)
}

// KeyMatched records that secret index key of source verified an accepted request
// (lambdaio.IngestMetrics).
func (e *EMF) KeyMatched(source string, key int) {
	var kb [20]byte
	dims := [2]Dimension{{DimSource, source}, {DimKey, string(strconv.AppendInt(kb[:0], int64(key), 10))}}
	m := [1]Metric{{Name: SignatureKeyMatch, Unit: Count, Value: 1}}
	e.line(dims[:], directive{setsKey, m[:]})
}

// Accepted records one accepted request of source, verified by its secret index key, in one
// line: Accepted (aggregate and per source) and SignatureKeyMatch (per source and key).
func (e *EMF) Accepted(source string, key int) {
	var kb [20]byte
	dims := [2]Dimension{{DimSource, source}, {DimKey, string(strconv.AppendInt(kb[:0], int64(key), 10))}}
	acc := [1]Metric{{Name: Accepted, Unit: Count, Value: 1}}
	km := [1]Metric{{Name: SignatureKeyMatch, Unit: Count, Value: 1}}
	e.line(dims[:], directive{setsAll, acc[:]}, directive{setsKey, km[:]})
}

// AcceptedAttrs is Accepted as attributes of the request's own log line (lambdaio.LineMetrics):
// one line per request instead of two.
func (e *EMF) AcceptedAttrs(source string, key int) []slog.Attr {
	return e.cachedAttrs(lineKey{source: source, key: key}, func(ms int64) []slog.Attr {
		dims := []Dimension{{DimSource, source}, {DimKey, strconv.Itoa(key)}}
		return e.attrs(ms, dims, directive{setsAll, []Metric{{Name: Accepted, Unit: Count, Value: 1}}}, directive{setsKey, []Metric{{Name: SignatureKeyMatch, Unit: Count, Value: 1}}})
	})
}

// RejectedAttrs is Rejected as attributes of the request's own log line.
func (e *EMF) RejectedAttrs(source, reason string) []slog.Attr {
	return e.cachedAttrs(lineKey{rejected: true, source: source, reason: reason}, func(ms int64) []slog.Attr {
		m := []Metric{{Name: Rejected, Unit: Count, Value: 1}}
		if source == "" {
			return e.attrs(ms, []Dimension{{DimReason, reason}}, directive{setsReasonAny, m})
		}
		return e.attrs(ms, []Dimension{{DimSource, source}, {DimReason, reason}}, directive{setsReason, m})
	})
}

// Rejected records one refused request. source is "" unless the path named a configured
// source: then the refusal counts per Reason only.
func (e *EMF) Rejected(source, reason string) {
	m := [1]Metric{{Name: Rejected, Unit: Count, Value: 1}}
	if source == "" {
		dims := [1]Dimension{{DimReason, reason}}
		e.line(dims[:], directive{setsReasonAny, m[:]})
		return
	}
	dims := [2]Dimension{{DimSource, source}, {DimReason, reason}}
	e.line(dims[:], directive{setsReason, m[:]})
}

// Stored records a newly stored event of source and its receipt-to-stored latency.
func (e *EMF) Stored(source string, receiptToStored time.Duration) {
	dims := [1]Dimension{{DimSource, source}}
	m := [2]Metric{{Name: Stored, Unit: Count, Value: 1}, {Name: ReceiptToStoredMs, Unit: Milliseconds, Value: ms(receiptToStored)}}
	e.line(dims[:], directive{setsAll, m[:]})
}

// Duplicate records a delivery of an event that was already stored (a retry or a replay).
func (e *EMF) Duplicate(source string) {
	dims := [1]Dimension{{DimSource, source}}
	m := [1]Metric{{Name: Duplicate, Unit: Count, Value: 1}}
	e.line(dims[:], directive{setsAll, m[:]})
}

// StoredBatch records a batch's outcome for one source in one line: Stored (the count) with each
// event's receipt-to-stored latency, and Duplicate (lambdaio.RecordBatchMetrics). A line per
// event would cost more than the subscriber's invocation (`hookline cost`).
func (e *EMF) StoredBatch(source string, receiptToStored []time.Duration, duplicates int) {
	dims := []Dimension{{DimSource, source}}
	var ms []Metric
	for len(receiptToStored) > 0 {
		n := min(len(receiptToStored), MaxValues)
		ms = append(ms[:0], Metric{Name: Stored, Unit: Count, Value: float64(n)},
			Metric{Name: ReceiptToStoredMs, Unit: Milliseconds, Values: millis(receiptToStored[:n])})
		receiptToStored = receiptToStored[n:]
		if len(receiptToStored) == 0 && duplicates > 0 {
			ms = append(ms, Metric{Name: Duplicate, Unit: Count, Value: float64(duplicates)})
			duplicates = 0
		}
		e.line(dims, directive{setsAll, ms})
	}
	if duplicates > 0 {
		e.line(dims, directive{setsAll, []Metric{{Name: Duplicate, Unit: Count, Value: float64(duplicates)}}})
	}
}

// NotifiedBatch records a batch's outcome for one source: Notified with each email's
// receipt-to-notified latency, and NotifyFailed with each failed event's pending age
// (lambdaio.NotifyBatchMetrics), at most one line for each.
func (e *EMF) NotifiedBatch(source string, receiptToNotified, pendingFor []time.Duration) {
	dims := []Dimension{{DimSource, source}}
	for len(receiptToNotified) > 0 {
		n := min(len(receiptToNotified), MaxValues)
		e.line(dims, directive{setsAll, []Metric{{Name: Notified, Unit: Count, Value: float64(n)},
			{Name: ReceiptToNotifiedMs, Unit: Milliseconds, Values: millis(receiptToNotified[:n])}}})
		receiptToNotified = receiptToNotified[n:]
	}
	for len(pendingFor) > 0 {
		n := min(len(pendingFor), MaxValues)
		e.line(dims, directive{setsAll, []Metric{{Name: NotifyFailed, Unit: Count, Value: float64(n)}}},
			directive{setsNone, []Metric{{Name: PendingNotificationAgeMs, Unit: Milliseconds, Values: millis(pendingFor[:n])}}})
		pendingFor = pendingFor[n:]
	}
}

func millis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = ms(d)
	}
	return out
}

// Notified records a sent completion email and its receipt-to-notified latency.
func (e *EMF) Notified(source string, receiptToNotified time.Duration) {
	dims := [1]Dimension{{DimSource, source}}
	m := [2]Metric{{Name: Notified, Unit: Count, Value: 1}, {Name: ReceiptToNotifiedMs, Unit: Milliseconds, Value: ms(receiptToNotified)}}
	e.line(dims[:], directive{setsAll, m[:]})
}

// NotifyFailed records a failed attempt to email an event stored pendingFor ago:
// NotifyFailed (aggregate and per source) and PendingNotificationAgeMs (aggregate only: the
// alarm watches the oldest pending email, whatever its source).
func (e *EMF) NotifyFailed(source string, pendingFor time.Duration) {
	dims := [1]Dimension{{DimSource, source}}
	f := [1]Metric{{Name: NotifyFailed, Unit: Count, Value: 1}}
	age := [1]Metric{{Name: PendingNotificationAgeMs, Unit: Milliseconds, Value: ms(pendingFor)}}
	e.line(dims[:], directive{setsAll, f[:]}, directive{setsNone, age[:]})
}

// ms is d in milliseconds with microsecond precision, never negative (clocks of two machines
// may disagree by a little).
func ms(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return float64(d.Microseconds()) / 1000
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
