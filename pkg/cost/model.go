package cost

import (
	"fmt"
	"math"
)

// SecondsPerMonth is the 30-day month the rates are computed over.
const SecondsPerMonth = 30 * 24 * 3600

// Params are what `hookline cost` is asked.
type Params struct {
	EventsPerMonth float64
	PayloadBytes   int
	// EmailRatio is the share of events that get an email of their own (0..1).
	EmailRatio float64
}

// Defaults: a million 1 KB JSON events a month, each emailed once.
var Defaults = Params{EventsPerMonth: 1e6, PayloadBytes: 1024, EmailRatio: 1}

// Validate names the first bad parameter.
func (p Params) Validate() error {
	switch {
	case !(p.EventsPerMonth >= 1) || math.IsInf(p.EventsPerMonth, 0):
		return fmt.Errorf("events per month must be at least 1, got %v", p.EventsPerMonth)
	case p.PayloadBytes < 1 || p.PayloadBytes > 256*1024:
		return fmt.Errorf("payload bytes must be 1..262144 (SNS's limit), got %d", p.PayloadBytes)
	case !(p.EmailRatio >= 0 && p.EmailRatio <= 1):
		return fmt.Errorf("email ratio must be 0..1, got %v", p.EmailRatio)
	}
	return nil
}

// Rate is the events per second of a sustained monthly volume.
func (p Params) Rate() float64 { return p.EventsPerMonth / SecondsPerMonth }

// Line is one line of a bill: a quantity of a priced unit, for the month.
type Line struct {
	Name     string  `json:"name"`
	Quantity float64 `json:"quantity"` // in the month
	Unit     string  `json:"unit"`
	USD      float64 `json:"usd"`
	Detail   string  `json:"detail"` // how the quantity arises
}

// Bill is a design's month at one email ratio.
type Bill struct {
	Lines []Line
	// Fixed are the monthly costs that do not grow with events.
	Fixed []Line
}

// Variable sums the per-event lines.
func (b Bill) Variable() float64 { return sum(b.Lines) }

// Monthly is the whole month: the per-event lines and the fixed ones.
func (b Bill) Monthly() float64 { return sum(b.Lines) + sum(b.Fixed) }

func sum(ls []Line) float64 {
	var t float64
	for _, l := range ls {
		t += l.USD
	}
	return t
}

// gatherSeconds is how long a poller's receive gathers what arrives when no batch window is
// set: the model's assumption (see Assumptions), also used for messages per ReceiveMessage.
const gatherSeconds = 1.0

// Line names, shared by every design so bills line up side by side.
const (
	LineAPI       = "API Gateway"
	LineRequests  = "Lambda requests"
	LineDuration  = "Lambda duration"
	LinePublish   = "SNS publish"
	LineSQS       = "SQS requests"
	LineWrites    = "DynamoDB writes"
	LineReads     = "DynamoDB reads"
	LineLogs      = "CloudWatch Logs"
	LineXRay      = "X-Ray traces"
	LineEmail     = "email delivery"
	logLineExtra  = 26 // bytes CloudWatch Logs adds to each line (PutLogEvents)
	gigabyte      = 1 << 30
	sqsChunkBytes = 64 * 1024
)

// Compute prices design d for p at email ratio r (0..1).
func Compute(d Design, p Params, r float64) Bill {
	n := p.EventsPerMonth
	rate := p.Rate()
	var b Bill
	add := func(name string, qty float64, price Price, detail string) {
		b.Lines = append(b.Lines, Line{Name: name, Quantity: qty, Unit: price.Unit, USD: qty * price.Each(), Detail: detail})
	}

	// Who runs how often.
	type run struct {
		f           *Function
		invocations float64
		records     float64
	}
	runs := []run{{&d.Ingest, n, n}}
	var subBatch float64
	if d.Subscriber != nil {
		subBatch = batch(rate, d.Subscriber)
		runs = append(runs, run{d.Subscriber, n / subBatch, n})
	}
	emails := n * r
	notified := emails // events that reach the notifier: published, marked
	if d.Notifier != nil {
		if !d.Notifier.OnlyEmailed {
			notified = n
		}
		nb := batch(rate*notified/n, &d.Notifier.Function)
		runs = append(runs, run{&d.Notifier.Function, notified / nb, notified})
	}

	// API.
	api := Prices.HTTPAPIRequest
	if d.API.REST {
		api = Prices.RESTAPIRequest
	}
	add(LineAPI, n, api, fmt.Sprintf("%s requests", count(n)))

	// Lambda requests and duration.
	var inv float64
	var invDetail, durDetail string
	var usdDur, gbs float64
	for _, x := range runs {
		inv += x.invocations
		invDetail = join(invDetail, fmt.Sprintf("%s %s", x.f.Name, count(x.invocations)))
		s := x.invocations * x.f.MemoryMB / 1024 * x.f.WarmMS / 1000
		gbs += s
		price := Prices.LambdaGBSecondX86
		arch := "x86"
		if x.f.ARM {
			price, arch = Prices.LambdaGBSecondARM, "arm64"
		}
		usdDur += s * price.Each()
		durDetail = join(durDetail, fmt.Sprintf("%s %g MB × %g ms %s", x.f.Name, x.f.MemoryMB, x.f.WarmMS, arch))
	}
	add(LineRequests, inv, Prices.LambdaRequest, invDetail)
	b.Lines = append(b.Lines, Line{Name: LineDuration, Quantity: gbs, Unit: "GB-second", USD: usdDur, Detail: durDetail})

	// SNS publishes: every event to the events topic, every notified event's email.
	var pubs float64
	var pubDetail string
	if d.EventsTopic != nil {
		q := n * chunks(d.EventsTopic.MessageBytes)
		pubs += q
		pubDetail = join(pubDetail, fmt.Sprintf("events topic %s", count(q)))
	}
	if d.Notifier != nil && d.Notifier.Topic != nil {
		q := notified * chunks(d.Notifier.Topic.MessageBytes)
		pubs += q
		pubDetail = join(pubDetail, fmt.Sprintf("notifications topic %s", count(q)))
	}
	if d.EventsTopic != nil || d.Notifier != nil {
		add(LinePublish, pubs, Prices.SNSPublish, pubDetail)
	}

	// SQS: the topic's send, the pollers' receives, one DeleteMessageBatch per invocation.
	if d.Queue != nil && d.Subscriber != nil {
		c := chunks(d.Queue.MessageBytes)
		send := n * c
		perReceive := clamp(rate*gatherSeconds/float64(max(d.Subscriber.Pollers, 1)), 1, 10)
		recv := n * c / perReceive
		del := n / subBatch * math.Ceil(subBatch/10)
		add(LineSQS, send+recv+del, Prices.SQSRequest,
			fmt.Sprintf("send %s + receive %s (%.3g %s each) + delete %s (batches of %.3g)", count(send), count(recv), perReceive, plural(perReceive, "message", "messages"), count(del), subBatch))
	}

	// DynamoDB.
	marks := notified
	if d.Notifier == nil {
		marks = 0 // the tutorial writes the item once, already sent
	}
	if len(d.Table.Provisioned) > 0 {
		wcu, rcu, wDetail, rDetail := provisionedUnits(d.Table.Provisioned, n, marks)
		hours := SecondsPerMonth / 3600.0
		add(LineWrites, wcu*hours, Prices.DynamoWCUHour, wDetail+fmt.Sprintf(", %g hours", hours))
		add(LineReads, rcu*hours, Prices.DynamoRCUHour, rDetail+fmt.Sprintf(", %g hours", hours))
	} else {
		add(LineWrites, n*d.Table.PutWRU+marks*d.Table.MarkWRU, Prices.DynamoWRU,
			fmt.Sprintf("put %g WRU × %s + notified mark %g WRU × %s", d.Table.PutWRU, count(n), d.Table.MarkWRU, count(marks)))
		if reads := marks * d.Table.NotifyReadRRU; reads > 0 || d.Notifier != nil {
			add(LineReads, reads, Prices.DynamoRRU, fmt.Sprintf("notifier's consistent read %g RRU × %s", d.Table.NotifyReadRRU, count(marks)))
		}
	}

	// Logs: Lambda's lines, the code's lines, the access log; 26 bytes more each.
	var logBytes float64
	var logDetail string
	for _, x := range runs {
		f := x.f
		bytes := x.invocations*(f.SystemLogBytes+logLineExtra*f.SystemLogLines) +
			x.invocations*(f.AppLog.BytesPerInvocation+logLineExtra*f.AppLog.LinesPerInvocation) +
			x.records*(f.AppLog.BytesPerRecord+logLineExtra*f.AppLog.LinesPerRecord)
		logBytes += bytes
		logDetail = join(logDetail, fmt.Sprintf("%s %.0f B/event", f.Name, bytes/n))
	}
	if d.API.AccessLogBytes > 0 {
		bytes := n * float64(d.API.AccessLogBytes+logLineExtra)
		logBytes += bytes
		logDetail = join(logDetail, fmt.Sprintf("access log %.0f B/event", bytes/n))
	}
	add(LineLogs, logBytes/gigabyte, Prices.LogsIngestion, logDetail)

	// X-Ray: each traced function samples the first invocation each second and 5 % of the rest.
	var traces float64
	var traceDetail string
	for _, x := range runs {
		if x.f.Tracing {
			t := sampled(x.invocations)
			traces += t
			traceDetail = join(traceDetail, fmt.Sprintf("%s %s", x.f.Name, count(t)))
		}
	}
	if traceDetail == "" {
		traceDetail = "tracing off"
	}
	add(LineXRay, traces, Prices.XRayTrace, traceDetail)

	// Emails themselves.
	mail := Prices.SNSEmail
	if d.Email.SES {
		mail = Prices.SESEmail
	}
	add(LineEmail, emails, mail, fmt.Sprintf("%s emails", count(emails)))

	b.Fixed = fixed(d, p)
	return b
}

// provisionedUnits is the capacity a provisioned table and its GSIs hold for n events and
// marks emailed events a month, evenly spread: each one's consumption a second, scaled to
// its target utilization (or fixed), in write and read units, with how each arises.
func provisionedUnits(ps []Provisioned, n, marks float64) (wcu, rcu float64, wDetail, rDetail string) {
	for _, p := range ps {
		w := (n*p.PutWCU + marks*p.MarkWCU) / SecondsPerMonth
		r := marks * p.ReadRCU / SecondsPerMonth
		wu, ru := p.Write.Units(w), p.Read.Units(r)
		wcu += wu
		rcu += ru
		wDetail = join(wDetail, fmt.Sprintf("%s %s WCU%s", p.Name, trimZeros(fmt.Sprintf("%.1f", wu)), scaled(p.Write, w)))
		rDetail = join(rDetail, fmt.Sprintf("%s %s RCU%s", p.Name, trimZeros(fmt.Sprintf("%.1f", ru)), scaled(p.Read, r)))
	}
	return wcu, rcu, wDetail, rDetail
}

// scaled says why a throughput is what it is: fixed, the floor, or consumption at the target.
func scaled(t Throughput, consumed float64) string {
	switch s := t.Scaling; {
	case s == nil || s.Target <= 0:
		return " (fixed)"
	case consumed/(s.Target/100) <= s.Min:
		return fmt.Sprintf(" (the floor; %.3g used a second)", consumed)
	case consumed/(s.Target/100) >= s.Max:
		return fmt.Sprintf(" (the ceiling; %.3g used a second)", consumed)
	}
	return fmt.Sprintf(" (%.3g used a second at %g %%)", consumed, t.Scaling.Target)
}

// batch is how many records an event source mapping hands a function at once at rate events/s.
func batch(rate float64, f *Function) float64 {
	if f.BatchSize <= 1 {
		return 1
	}
	w := math.Max(f.BatchWindow, gatherSeconds)
	return clamp(1+rate*w/float64(max(f.Pollers, 1)), 1, float64(f.BatchSize))
}

// sampled is X-Ray's default rule over a month of evenly spread invocations.
func sampled(invocations float64) float64 {
	perSecond := invocations / SecondsPerMonth
	if perSecond <= 1 {
		return invocations
	}
	return SecondsPerMonth * (1 + 0.05*(perSecond-1))
}

func fixed(d Design, p Params) []Line {
	var out []Line
	add := func(name string, qty float64, price Price, detail string) {
		if qty > 0 {
			out = append(out, Line{Name: name, Quantity: qty, Unit: price.Unit, USD: qty * price.Each(), Detail: detail})
		}
	}
	f := d.Fixed
	add("KMS keys", f.KMSKeys, Prices.KMSKey, "")
	if f.EncryptedTopics > 0 {
		// SNS reuses a data key for at most 5 minutes per topic (and per principal).
		req := math.Max(0, SecondsPerMonth/300*2*f.EncryptedTopics-20000)
		add("KMS requests", req, Prices.KMSRequest, fmt.Sprintf("%g encrypted topics, data key reused ≤ 5 min, 20,000 free", f.EncryptedTopics))
	}
	add("secrets", f.Secrets, Prices.Secret, "")
	add("secret reads", f.SecretReadsPerMonth, Prices.SecretCall, "ingest re-reads its sources every TTL per warm instance")
	add("alarms", f.Alarms, Prices.Alarm, "")
	add("auto scaling alarms", f.ScalingAlarms, Prices.Alarm, "4 per target tracking policy of the table's capacity")
	add("dashboards", f.Dashboards, Prices.Dashboard, "")
	if d.Queue != nil {
		add("SQS empty receives", d.Queue.EmptyReceivesPerMonth, Prices.SQSRequest, "Lambda's idle pollers (20 s long polls)")
	}
	if t := d.Table; t.StoredBytesPerEvent > 0 {
		gb := p.EventsPerMonth * t.RetentionDays / 30 * t.StoredBytesPerEvent / gigabyte
		add("DynamoDB storage", gb, Prices.DynamoStorage, fmt.Sprintf("%.0f B per event (item and index entries) kept %g days", t.StoredBytesPerEvent, t.RetentionDays))
		if t.PITR {
			base := p.EventsPerMonth * t.RetentionDays / 30 * float64(t.ItemBytes+100) / gigabyte
			add("DynamoDB PITR", base, Price{0.20, 1, "GB-month of point-in-time recovery (assumed)", "", ""}, "base table only")
		}
	}
	return out
}

// chunks is how many 64 KB requests SNS and SQS bill for a message.
func chunks(bytes int) float64 {
	return math.Max(1, math.Ceil(float64(bytes)/sqsChunkBytes))
}

func clamp(x, lo, hi float64) float64 { return math.Min(hi, math.Max(lo, x)) }

func plural(n float64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + " + " + b
}

// count prints a monthly quantity compactly: 1 M, 250 k, 1,234.
func count(x float64) string {
	switch {
	case x >= 1e6:
		return trimZeros(fmt.Sprintf("%.3f", x/1e6)) + " M"
	case x >= 1e4:
		return trimZeros(fmt.Sprintf("%.1f", x/1e3)) + " k"
	}
	return trimZeros(fmt.Sprintf("%.1f", x))
}

func trimZeros(s string) string {
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}
