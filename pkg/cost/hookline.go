package cost

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/ddbitem"
	"hookline/pkg/emailpolicy"
	"hookline/pkg/event"
	"hookline/pkg/wiring"
)

// Warm durations of one invocation (assumptions: no AWS figure exists). They follow the code
// paths: ingest verifies and makes one SNS publish; the subscriber puts a batch concurrently,
// so a batch takes about as long as one put; the notifier reads, publishes and marks each
// record concurrently.
const (
	ingestWarmMS     = 20
	subscriberWarmMS = 15
	notifierWarmMS   = 40
	tutorialWarmMS   = 125 // PutItem + SES call + amortised Python cold start, x86
)

// Lambda's own lines per invocation when the system log level lets them through (assumptions,
// see Assumptions).
const (
	jsonSystemLogBytes = 650
	jsonSystemLogLines = 2
	textSystemLogBytes = 300
	textSystemLogLines = 3
)

// Sample is the event the model sizes: a GitHub delivery of a JSON body of the given size,
// verified and with a delivery id, as ingest builds it.
func Sample(payloadBytes int) *event.Record {
	body := jsonBody(payloadBytes)
	at := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	e := &event.Event{
		ID: event.BodyID("github", body), Source: "github", Type: "issues.opened", Time: at, ReceivedAt: at,
		DataContentType: "application/json", Data: body, DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		Verification: event.Verification{Scheme: "github", BodySHA256: sha256.Sum256(body), SignedID: true},
	}
	return &event.Record{Event: e, StoredAt: at.Add(250 * time.Millisecond)}
}

// jsonBody is a JSON object of exactly n bytes (at least the 2 of "{}").
func jsonBody(n int) []byte {
	const head = `{"action":"opened","filler":"`
	const tail = `"}`
	if n < len(head)+len(tail) {
		return []byte(`{}` + strings.Repeat(" ", max(0, n-2)))
	}
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}

// FromTemplate is hookline's design: the stack's properties from the template, the item the
// codec makes of a payloadBytes body, and the log lines the functions were measured to write.
func FromTemplate(s *Stack, payloadBytes int, logs Measured) (Design, error) {
	rec := Sample(payloadBytes)
	item, err := ddbitem.Marshal(rec, rec.Event.ReceivedAt.Add(wiring.Retention))
	if err != nil {
		return Design{}, fmt.Errorf("size the item: %w", err)
	}
	envelope := len(rec.Event.Marshal())

	fn := func(name string, warm float64, m Mapping, pollers int) Function {
		sf := s.Functions[name]
		f := Function{
			Name: name, MemoryMB: sf.MemoryMB, ARM: sf.ARM, Tracing: sf.Tracing == "Active",
			AppLog: logs.Functions[name], WarmMS: warm, BatchSize: max(m.BatchSize, 1), BatchWindow: m.WindowSecs, Pollers: pollers,
		}
		switch {
		case sf.SystemLogLevel == "WARN" || sf.SystemLogLevel == "ERROR" || sf.SystemLogLevel == "FATAL":
		case sf.LogFormat == "JSON":
			f.SystemLogBytes, f.SystemLogLines = jsonSystemLogBytes, jsonSystemLogLines
		default:
			f.SystemLogBytes, f.SystemLogLines = textSystemLogBytes, textSystemLogLines
		}
		return f
	}
	d := Design{
		Name:        "hookline",
		API:         API{REST: !s.HTTPAPI, AccessLogBytes: AccessLogBytes(s.AccessLogFormat)},
		Ingest:      fn(wiring.Ingest, ingestWarmMS, Mapping{}, 1),
		EventsTopic: &Topic{MessageBytes: envelope},
		// Lambda polls a standard queue with five pollers (see Assumptions).
		Queue: &Queue{MessageBytes: envelope, EmptyReceivesPerMonth: 5 * SecondsPerMonth / 20},
	}
	if !s.RawDelivery {
		d.Queue.MessageBytes += 600 // the SNS JSON envelope around the message
	}
	sub := fn(wiring.Subscriber, subscriberWarmMS, s.SQS, 5)
	d.Subscriber = &sub
	d.Table = tableCost(s.Table, item)
	d.Notifier = &Notifier{
		Function:    fn(wiring.Notifier, notifierWarmMS, s.Stream, 1),
		OnlyEmailed: streamFilterFollowsPolicy(s.Functions[wiring.Notifier].Env, s.Stream.Filters),
		Topic:       &Topic{MessageBytes: envelope + 1024}, // the email text: the data pretty-printed plus headings
	}
	d.Fixed = Fixed{
		Alarms: float64(s.Alarms), Dashboards: float64(s.Dashboards),
		KMSKeys: float64(s.KMSKeys + s.RotatedKeys), Secrets: float64(s.Secrets),
		EncryptedTopics: float64(s.EncryptedTopics),
		// One warm ingest instance re-reads the secret every TTL.
		SecretReadsPerMonth: SecondsPerMonth / wiring.DefaultSourcesTTL.Seconds(),
		ScalingAlarms:       float64(4 * s.ScalingPolicies),
	}
	return d, nil
}

// streamFilterFollowsPolicy reports whether the notifier's stream filters are its email
// policy's (emailpolicy.Policy.StreamFilters of the HOOKLINE_EMAIL_POLICY the stack gives it):
// then an event the policy gives no email never invokes the notifier, whatever the policy —
// which is what pricing "without email" assumes (a policy that emails nothing).
func streamFilterFollowsPolicy(env map[string]any, filters []string) bool {
	text, _ := env[wiring.EnvEmailPolicy].(string)
	p, err := emailpolicy.Parse(text)
	if err != nil || text == "" {
		return false
	}
	want, err := p.StreamFilters(ddbitem.AttrSourceGroup)
	if err != nil || len(want) != len(filters) {
		return false
	}
	for i, w := range want {
		b, err := json.Marshal(w)
		if err != nil || string(b) != filters[i] {
			return false
		}
	}
	return true
}

// tableCost sizes the writes, reads and storage of item in table t.
func tableCost(t StackTable, item map[string]types.AttributeValue) Table {
	size := ItemSize(item)
	marked := make(map[string]types.AttributeValue, len(item)+1)
	for k, v := range item {
		marked[k] = v
	}
	marked[ddbitem.AttrNotifiedAt] = item[ddbitem.AttrStoredAt] // same length as a real mark
	out := Table{
		ItemBytes:     size,
		PutWRU:        writeUnits(size),
		MarkWRU:       writeUnits(max(size, ItemSize(marked))),
		NotifyReadRRU: math.Ceil(float64(size) / 4096),
		RetentionDays: wiring.Retention.Hours() / 24,
		PITR:          t.PITR,
	}
	out.StoredBytesPerEvent = float64(size + 100)
	if !t.PayPerRequest {
		out.Provisioned = append(out.Provisioned, Provisioned{
			Name: "table", Write: provisioned(t.Capacity.Write, t.Capacity.WriteScaling), Read: provisioned(t.Capacity.Read, t.Capacity.ReadScaling),
			PutWCU: out.PutWRU, MarkWCU: out.MarkWRU, ReadRCU: out.NotifyReadRRU,
		})
	}
	for _, ix := range t.Indexes {
		var p *Provisioned
		if !t.PayPerRequest {
			// Every GSI of a provisioned table has capacity, the sparse ones too.
			out.Provisioned = append(out.Provisioned, Provisioned{
				Name: ix.Name, Write: provisioned(ix.Capacity.Write, ix.Capacity.WriteScaling), Read: provisioned(ix.Capacity.Read, ix.Capacity.ReadScaling),
			})
			p = &out.Provisioned[len(out.Provisioned)-1]
		}
		entry, in := indexEntry(t.Keys, ix, item)
		if !in {
			continue // a sparse index the item is not in
		}
		markedEntry, _ := indexEntry(t.Keys, ix, marked)
		i := Index{Name: ix.Name, Projection: ix.Projection, EntryBytes: ItemSize(entry), ProjectsMark: len(markedEntry) != len(entry)}
		out.Indexes = append(out.Indexes, i)
		out.PutWRU += writeUnits(i.EntryBytes)
		if p != nil {
			p.PutWCU = writeUnits(i.EntryBytes)
		}
		if i.ProjectsMark {
			out.MarkWRU += writeUnits(ItemSize(markedEntry))
			if p != nil {
				p.MarkWCU = writeUnits(ItemSize(markedEntry))
			}
		}
		out.StoredBytesPerEvent += float64(i.EntryBytes + 100)
	}
	return out
}

func provisioned(units float64, s *Scaling) Throughput { return Throughput{Fixed: units, Scaling: s} }

// indexEntry is what index ix holds of item: its keys, the table's keys and the projected
// attributes. in is false when the item lacks one of the index's keys (a sparse index).
func indexEntry(tableKeys []string, ix StackIndex, item map[string]types.AttributeValue) (map[string]types.AttributeValue, bool) {
	for _, k := range ix.Keys {
		if _, ok := item[k]; !ok {
			return nil, false
		}
	}
	if ix.Projection == "ALL" {
		return item, true
	}
	out := map[string]types.AttributeValue{}
	for _, k := range append(append(append([]string{}, tableKeys...), ix.Keys...), ix.NonKey...) {
		if v, ok := item[k]; ok {
			out[k] = v
		}
	}
	return out, true
}

func writeUnits(bytes int) float64 { return math.Max(1, math.Ceil(float64(bytes)/1024)) }

// ItemSize is DynamoDB's size of an item: each attribute's name plus its value (strings and
// binaries their bytes, numbers about one byte per two digits plus one).
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		digits := len(strings.Trim(strings.NewReplacer("-", "", ".", "").Replace(v.Value), "0"))
		return (digits+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// Tutorial is the design a tutorial would give: a REST API in front of one Python Lambda
// (x86, 128 MB) that writes the item and sends the email through SES before it answers.
func Tutorial(payloadBytes int) Design {
	item := payloadBytes + 250
	return Design{
		Name: "tutorial",
		API:  API{REST: true},
		Ingest: Function{
			Name: "handler", MemoryMB: 128, WarmMS: tutorialWarmMS, BatchSize: 1, Pollers: 1,
			SystemLogBytes: textSystemLogBytes, SystemLogLines: textSystemLogLines,
			AppLog: LogLines{BytesPerInvocation: 100, LinesPerInvocation: 1},
		},
		Table: Table{
			ItemBytes: item, PutWRU: writeUnits(item),
			StoredBytesPerEvent: float64(item + 100), RetentionDays: wiring.Retention.Hours() / 24,
		},
		Email: Email{SES: true},
	}
}
