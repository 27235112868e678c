package lambdarun

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"hookline/pkg/event"
)

// RawJSON is a log value that is already compact, valid JSON (pkg/metrics' EMF metadata):
// LogHandler appends its bytes as they are, and any other slog JSON handler marshals it, to
// the same bytes. Rendering through encoding/json instead (which compacts, that is re-scans,
// a json.Marshaler's output) cost the ingest request line more than the rest of its log line.
type RawJSON interface {
	json.Marshaler
	AppendJSON(b []byte) []byte
}

// NewLogHandler is the log handler of every hookline Lambda: lambdacontext.NewLogHandler's
// output (the format and level Lambda's logging config sets in AWS_LAMBDA_LOG_FORMAT and
// AWS_LAMBDA_LOG_LEVEL, the requestId of the invocation on every line), written to stdout.
func NewLogHandler() slog.Handler {
	if os.Getenv("AWS_LAMBDA_LOG_FORMAT") != "JSON" {
		return lambdacontext.NewLogHandler() // text: no EMF, no fast path
	}
	return LogHandler(os.Stdout, lambdaLevel(os.Getenv("AWS_LAMBDA_LOG_LEVEL")))
}

// lambdaLevel is lambdacontext's reading of AWS_LAMBDA_LOG_LEVEL.
func lambdaLevel(s string) slog.Level {
	switch s {
	case "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// LogHandler writes the bytes lambdacontext's JSON handler writes (slog.JSONHandler with
// lambdacontext.ReplaceAttr, then requestId) to w, one Write per line. A record made only of
// plain values (strings, numbers, booleans, times, errors, groups, RawJSON) is formatted here
// without encoding/json; any other record, and every record of a handler made by WithAttrs or
// WithGroup, goes through slog.JSONHandler. TestLogHandlerMatchesSlog and FuzzLogHandler hold
// the two to the same bytes.
func LogHandler(w io.Writer, level slog.Leveler) slog.Handler {
	lw := &lockedWriter{w: w}
	return &logHandler{
		level: level,
		out:   lw,
		slow:  slog.NewJSONHandler(lw, &slog.HandlerOptions{Level: level, ReplaceAttr: lambdacontext.ReplaceAttr}),
		plain: true,
	}
}

type logHandler struct {
	level slog.Leveler
	out   *lockedWriter
	slow  slog.Handler
	plain bool // no WithAttrs/WithGroup: the fast path may format the record
}

// lockedWriter makes each line one Write, whichever path formatted it.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (h *logHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logHandler{level: h.level, out: h.out, slow: h.slow.WithAttrs(as)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{level: h.level, out: h.out, slow: h.slow.WithGroup(name)}
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	lc, hasLC := lambdacontext.FromContext(ctx)
	if h.plain {
		p := linePool.Get().(*[]byte)
		b, ok := appendRecord((*p)[:0], r)
		if ok {
			if hasLC {
				b = append(b, `,"requestId":`...)
				b = appendJSONString(b, lc.AwsRequestID)
			}
			b = append(b, '}', '\n')
			_, err := h.out.Write(b)
			if cap(b) <= 16<<10 { // keep only ordinary lines' buffers
				*p = b
				linePool.Put(p)
			}
			return err
		}
		linePool.Put(p)
	}
	if hasLC {
		r = r.Clone() // AddAttrs may write into an array the caller's record shares
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.slow.Handle(ctx, r)
}

// appendRecord appends the record as slog.JSONHandler with lambdacontext.ReplaceAttr would, but
// for the closing brace; ok is false for anything it leaves to slog.
func appendRecord(b []byte, r slog.Record) (_ []byte, ok bool) {
	b = append(b, '{')
	if !r.Time.IsZero() {
		t := r.Time.Round(0)
		if y := t.Year(); y < 0 || y >= 10000 {
			return b, false
		}
		b = append(b, `"timestamp":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
	}
	b = append(b, `"level":`...)
	b = appendJSONString(b, r.Level.String())
	b = append(b, `,"message":`...)
	b = appendJSONString(b, r.Message)
	ok = true
	r.Attrs(func(a slog.Attr) bool {
		b, _, ok = appendAttr(b, a, true)
		return ok
	})
	return b, ok
}

// appendAttr appends ,"key":value (slog's handleState.appendAttr for JSON); wrote is false for
// an attribute slog elides. top: not inside a named group, where ReplaceAttr renames keys.
func appendAttr(b []byte, a slog.Attr, top bool) (_ []byte, wrote, ok bool) {
	v := resolve(a.Value)
	if top && v.Kind() != slog.KindGroup {
		a = lambdacontext.ReplaceAttr(nil, slog.Attr{Key: a.Key, Value: v})
		v = resolve(a.Value)
	}
	if a.Key == "" && v.Kind() == slog.KindAny && v.Any() == nil {
		return b, false, true
	}
	if v.Kind() == slog.KindGroup {
		as := v.Group()
		if len(as) == 0 {
			return b, false, true
		}
		if a.Key != "" {
			b = append(b, ',')
			b = appendJSONString(b, a.Key)
			b = append(b, ':')
			start := len(b)
			for _, ga := range as {
				var w bool
				if b, w, ok = appendAttr(b, ga, false); !ok || !w {
					return b, false, false // an elided member: slog's separators differ there
				}
			}
			b[start] = '{' // the first member's comma opens the object
			return append(b, '}'), true, true
		}
		wrote = false
		for _, ga := range as {
			var w bool
			if b, w, ok = appendAttr(b, ga, top); !ok {
				return b, false, false
			}
			wrote = wrote || w
		}
		return b, wrote, true
	}
	b = append(b, ',')
	b = appendJSONString(b, a.Key)
	b = append(b, ':')
	b, ok = appendValue(b, v)
	return b, true, ok
}

// resolve is v.Resolve(), which defers a recover even for a value that is no LogValuer.
func resolve(v slog.Value) slog.Value {
	if v.Kind() == slog.KindLogValuer {
		return v.Resolve()
	}
	return v
}

// appendValue is slog's appendJSONValue for the kinds it formats without encoding/json, and
// encoding/json's float format.
func appendValue(b []byte, v slog.Value) ([]byte, bool) {
	switch v.Kind() {
	case slog.KindString:
		return appendJSONString(b, v.String()), true
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10), true
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10), true
	case slog.KindFloat64:
		return appendJSONFloat(b, v.Float64())
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool()), true
	case slog.KindDuration:
		return strconv.AppendInt(b, int64(v.Duration()), 10), true
	case slog.KindTime:
		t := v.Time()
		if y := t.Year(); y < 0 || y >= 10000 {
			return b, false
		}
		b = append(b, '"')
		return append(t.AppendFormat(b, time.RFC3339Nano), '"'), true
	case slog.KindAny:
		switch x := v.Any().(type) {
		case RawJSON:
			return x.AppendJSON(b), true
		case json.Marshaler:
			return b, false
		case error:
			return appendJSONString(b, x.Error()), true
		}
	}
	return b, false
}

// appendJSONFloat formats f as encoding/json does (slog marshals floats with it).
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendJSONString appends s quoted and escaped as slog's JSON handler does (HTML characters as
// they are).
func appendJSONString(b []byte, s string) []byte { return event.AppendJSONString(b, s, false) }
