// Package metrics writes CloudWatch metrics in the Embedded Metric Format (EMF): one JSON object
// per line on a Lambda function's stdout, which CloudWatch Logs turns into metrics. No API call
// (PutMetricData) is made, so a metric costs a log line and never a network round trip on the
// request path.
//
// Where it sits: the functions' mains hand an *EMF to the lambdaio handlers, which report what
// they observed through small ports they own (lambdaio.IngestMetrics). `hookline local` does not
// use it: locally the same facts are read from the store. The metric and dimension names below
// are the ones the CDK dashboard and alarms refer to.
package metrics

import (
	"io"
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
	DimKey            = "Key" // the 0-based secret index, in config order
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

// Metric is one value of a metric.
type Metric struct {
	Name  string
	Unit  Unit
	Value float64
}

// EMF writes EMF lines to W. It is safe for concurrent use; each line is written with one
// Write, so lines from concurrent invocations never interleave.
type EMF struct {
	W         io.Writer
	Namespace string           // "" means Namespace
	Now       func() time.Time // nil means time.Now

	mu  sync.Mutex
	buf []byte
}

// Put writes one line: metrics, all with the one dimension set dims. Write errors are
// dropped: a metric is never worth failing a request for.
func (e *EMF) Put(dims []Dimension, metrics ...Metric) {
	if len(metrics) == 0 {
		return
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	ns := e.Namespace
	if ns == "" {
		ns = Namespace
	}
	ts := now().UnixMilli()

	e.mu.Lock()
	defer e.mu.Unlock()
	b := append(e.buf[:0], `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":`...)
	b = appendString(b, ns)
	b = append(b, `,"Dimensions":[[`...)
	for i, d := range dims {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, d.Name)
	}
	b = append(b, `]],"Metrics":[`...)
	for i, m := range metrics {
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
	b = append(b, `]}]}`...)
	// The values are top-level members named after the dimension and metric names.
	for _, d := range dims {
		b = append(b, ',')
		b = appendString(b, d.Name)
		b = append(b, ':')
		b = appendString(b, d.Value)
	}
	for _, m := range metrics {
		b = append(b, ',')
		b = appendString(b, m.Name)
		b = append(b, ':')
		b = strconv.AppendFloat(b, m.Value, 'g', -1, 64)
	}
	b = append(b, '}', '\n')
	e.buf = b
	_, _ = e.W.Write(b)
}

// KeyMatched records that secret index key of source verified an accepted request
// (lambdaio.IngestMetrics).
func (e *EMF) KeyMatched(source string, key int) {
	var kb [20]byte
	dims := [2]Dimension{{DimSource, source}, {DimKey, string(strconv.AppendInt(kb[:0], int64(key), 10))}}
	e.Put(dims[:], Metric{Name: SignatureKeyMatch, Unit: Count, Value: 1})
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
