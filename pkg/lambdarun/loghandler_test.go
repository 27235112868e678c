package lambdarun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// slogLambda is what lambdacontext.NewLogHandler writes with AWS_LAMBDA_LOG_FORMAT=JSON (its
// handler is built on stdout, so the test rebuilds it on a buffer: slog.JSONHandler with
// lambdacontext.ReplaceAttr, requestId added last).
type slogLambda struct{ slog.Handler }

func (h slogLambda) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h slogLambda) WithAttrs(as []slog.Attr) slog.Handler {
	return slogLambda{h.Handler.WithAttrs(as)}
}
func (h slogLambda) WithGroup(name string) slog.Handler { return slogLambda{h.Handler.WithGroup(name)} }

func newSlogLambda(w *bytes.Buffer, level slog.Level) slog.Handler {
	return slogLambda{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: lambdacontext.ReplaceAttr})}
}

// raw is a RawJSON as pkg/metrics makes them.
type raw []byte

func (r raw) MarshalJSON() ([]byte, error) { return r, nil }
func (r raw) AppendJSON(b []byte) []byte   { return append(b, r...) }

type valuer struct{ v slog.Value }

func (v valuer) LogValue() slog.Value { return v.v }

var (
	t0  = time.Date(2026, 12, 1, 17, 4, 5, 123456789, time.UTC)
	inv = lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8f507cfc-0d14-4b2b-9b8a-5d1c3b1e9a2f"})
)

type logCase struct {
	name  string
	fast  bool // formatted without slog (appendRecord ok)
	ctx   context.Context
	level slog.Level
	msg   string
	time  time.Time
	attrs []slog.Attr
}

func logCases() []logCase {
	emf := raw(`{"Timestamp":1764608645123,"CloudWatchMetrics":[{"Namespace":"Hookline","Dimensions":[[],["Source"]],"Metrics":[{"Name":"Accepted","Unit":"Count"}]}]}`)
	metrics := []slog.Attr{slog.Any("_aws", emf), slog.String("Source", "github"), slog.String("Key", "0"), slog.Float64("Accepted", 1)}
	return []logCase{
		{name: "ingest line", fast: true, ctx: inv, msg: "ingest", attrs: []slog.Attr{
			slog.String("event_id", "0b5b3a0e-6b0c-5b8e-9a4b-2c1d0e9f8a7b"), slog.String("source", "github"), slog.String("type", "push"),
			slog.Int("status", 202), slog.Float64("duration_ms", 0.123), {Value: slog.GroupValue(metrics...)}}},
		{name: "no invocation", fast: true, ctx: context.Background(), msg: "cold start failed", level: slog.LevelError,
			attrs: []slog.Attr{slog.String("error", "configuration: x"), slog.Float64("init_ms", 12.5)}},
		{name: "escapes", fast: true, ctx: inv, msg: "a \"quoted\" \\ line\n\t\r\x00\x1f <b>&amp;</b> \u2028\u2029 é 😀 \xff\xfe",
			attrs: []slog.Attr{slog.String("k\"\x01\u2029", "v\xc3(\xe2\x28\xa1"), slog.String("", "empty key")}},
		{name: "numbers", fast: true, ctx: inv, msg: "n", attrs: []slog.Attr{
			slog.Float64("zero", 0), slog.Float64("neg0", math.Copysign(0, -1)), slog.Float64("one", 1), slog.Float64("ms", 0.001),
			slog.Float64("tiny", 1e-7), slog.Float64("tiny2", -1.5e-12), slog.Float64("big", 1e21), slog.Float64("big2", 123456789012345678901234.0),
			slog.Float64("frac", 123456.789), slog.Float64("max", math.MaxFloat64), slog.Float64("min", math.SmallestNonzeroFloat64),
			slog.Int64("i", math.MinInt64), slog.Uint64("u", math.MaxUint64), slog.Bool("b", true), slog.Duration("d", 1500*time.Millisecond),
			slog.Time("t", t0.In(time.FixedZone("x", 5*3600+1800))), slog.Time("t2", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}},
		{name: "renamed keys", fast: true, ctx: inv, msg: "m", attrs: []slog.Attr{
			slog.String("time", "top"), slog.String("msg", "top"), slog.String("level", "top"),
			{Value: slog.GroupValue(slog.String("time", "inline"), slog.String("msg", "inline"))},
			slog.Group("g", slog.String("time", "nested"), slog.String("msg", "nested"), slog.Group("h", slog.Int("x", 1)))}},
		{name: "groups", fast: true, ctx: inv, msg: "g", attrs: []slog.Attr{
			slog.Group("empty"), {Value: slog.GroupValue()}, slog.Group("g", slog.Group("h", slog.String("a", "b")), slog.Int("c", 2)),
			{Value: slog.GroupValue(slog.Group("", slog.Int("deep", 3)))}, slog.Any("", nil), slog.Int("after", 4)}},
		{name: "any values", fast: true, ctx: inv, msg: "a", attrs: []slog.Attr{
			slog.Any("err", errors.New("boom \"x\"")), slog.Any("raw", emf), slog.Any("lv", valuer{slog.StringValue("resolved")}),
			slog.Any("lvg", valuer{slog.GroupValue(slog.Int("x", 1))})}},
		{name: "zero time", fast: true, ctx: inv, msg: "z", attrs: []slog.Attr{slog.Int("x", 1)}},
		{name: "level above error", fast: true, ctx: inv, level: slog.LevelError + 2, msg: "l"},
		// Left to slog: its output is what these must match.
		{name: "json.Marshaler", ctx: inv, msg: "s", attrs: []slog.Attr{slog.Any("rm", json.RawMessage(`{ "a" : [1, 2] }`))}},
		{name: "struct", ctx: inv, msg: "s", attrs: []slog.Attr{slog.Any("s", struct{ A int }{1})}},
		{name: "nil", ctx: inv, msg: "s", attrs: []slog.Attr{slog.Any("nil", nil)}},
		{name: "NaN", ctx: inv, msg: "s", attrs: []slog.Attr{slog.Float64("nan", math.NaN())}},
		{name: "Inf", ctx: inv, msg: "s", attrs: []slog.Attr{slog.Float64("inf", math.Inf(-1))}},
		{name: "year 10000", ctx: inv, msg: "s", attrs: []slog.Attr{slog.Time("t", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))}},
		{name: "record year -1", ctx: inv, msg: "s", time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "group of elided", ctx: inv, msg: "s", attrs: []slog.Attr{slog.Group("g", slog.Any("", nil)), slog.Int("x", 1)}},
		{name: "source", ctx: inv, msg: "s", attrs: []slog.Attr{slog.Any("src", &slog.Source{File: "a.go", Line: 3})}},
	}
}

func (c logCase) record() slog.Record {
	at := t0
	if !c.time.IsZero() {
		at = c.time
	}
	if c.name == "zero time" {
		at = time.Time{}
	}
	r := slog.NewRecord(at, c.level, c.msg, 0)
	r.AddAttrs(c.attrs...)
	return r
}

// TestLogHandlerMatchesSlog: the Lambda log handler writes what lambdacontext's (slog's)
// writes, byte for byte, whether it formats a record itself or leaves it to slog.
func TestLogHandlerMatchesSlog(t *testing.T) {
	t.Parallel()
	for _, c := range logCases() {
		var want, got bytes.Buffer
		if err := newSlogLambda(&want, slog.LevelInfo).Handle(c.ctx, c.record()); err != nil {
			t.Fatal(err)
		}
		if err := LogHandler(&got, slog.LevelInfo).Handle(c.ctx, c.record()); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got.Bytes(), want.Bytes())
		}
		if _, ok := appendRecord(nil, c.record()); ok != c.fast {
			t.Errorf("%s: formatted without slog = %v, want %v", c.name, ok, c.fast)
		}
	}
}

func TestLogHandlerWithAttrsAndLevels(t *testing.T) {
	t.Parallel()
	var want, got bytes.Buffer
	for _, h := range []slog.Handler{newSlogLambda(&want, slog.LevelWarn), LogHandler(&got, slog.LevelWarn)} {
		l := slog.New(h)
		l.InfoContext(inv, "dropped")
		l.WarnContext(inv, "kept", "a", 1)
		l.With("w", "x").WithGroup("g").ErrorContext(inv, "grouped", "b", 2, "time", "not renamed")
		l.With("time", "renamed").ErrorContext(inv, "with")
		l.WithGroup("g").ErrorContext(inv, "no attrs")
	}
	// The logger stamps each record with its own clock reading.
	stamp := regexp.MustCompile(`(?m)^\{"timestamp":"[^"]+",`)
	g, w := stamp.ReplaceAllString(got.String(), "{"), stamp.ReplaceAllString(want.String(), "{")
	if g != w {
		t.Errorf("got:\n%s\nwant:\n%s", g, w)
	}
	if n := bytes.Count(got.Bytes(), []byte("\n")); n != 4 {
		t.Errorf("%d lines, want 4 (the Info line is below the level):\n%s", n, got.Bytes())
	}
}

func FuzzLogHandler(f *testing.F) {
	f.Add("msg", "key", "value", 1.5, int64(-3), true)
	f.Add("time", "msg", "\u2028\xff\"<>", 1e-7, int64(0), false)
	f.Add("", "", "", 0.0, int64(1), true)
	f.Fuzz(func(t *testing.T, msg, key, s string, x float64, n int64, grouped bool) {
		as := []slog.Attr{slog.String(key, s), slog.Float64(key+"f", x), slog.Int64("n", n), slog.Any(key, errors.New(s))}
		if grouped {
			as = append(as, slog.Group(key, slog.String(s, key), slog.Group("", slog.Float64(s, x))), slog.Attr{Value: slog.GroupValue(slog.String(key, msg))})
		}
		r := slog.NewRecord(t0.Add(time.Duration(n)), slog.Level(n%16), msg, 0)
		r.AddAttrs(as...)
		var want, got bytes.Buffer
		if err := newSlogLambda(&want, slog.LevelDebug).Handle(inv, r.Clone()); err != nil {
			t.Fatal(err)
		}
		if err := LogHandler(&got, slog.LevelDebug).Handle(inv, r.Clone()); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("\n got %s\nwant %s", got.Bytes(), want.Bytes())
		}
	})
}
