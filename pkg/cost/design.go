package cost

// Design is a webhook receiver's architecture as far as its bill is concerned: what runs for
// each event and how big what it writes is. Hookline's comes from the synthesized template, the
// item codec and the measured log lines (FromTemplate); the tutorial's is written out
// (Tutorial). Compute prices both the same way.
type Design struct {
	Name string
	API  API
	// Ingest is the function behind the API: one invocation per request.
	Ingest Function
	// EventsTopic: Ingest publishes every event to an SNS topic.
	EventsTopic *Topic
	// Queue: the topic delivers to an SQS queue that Subscriber drains in batches. Nil when
	// Ingest stores the event itself.
	Queue      *Queue
	Subscriber *Function
	Table      Table
	// Notifier reads the table's stream and emails; nil when Ingest emails synchronously.
	Notifier *Notifier
	Email    Email
	// Fixed is what the design costs a month whatever the traffic (alarms, keys, …).
	Fixed Fixed
}

// API is the HTTP front door.
type API struct {
	REST bool // a REST API; otherwise an HTTP API
	// AccessLogBytes is one access log line; 0 when the stage writes none.
	AccessLogBytes int
}

// Function is one Lambda function.
type Function struct {
	Name     string
	MemoryMB float64
	ARM      bool
	Tracing  bool // X-Ray active tracing
	// SystemLogBytes and SystemLogLines are Lambda's own lines per invocation: none when the
	// system log level is WARN.
	SystemLogBytes, SystemLogLines float64
	// AppLog is what the function's code writes (measured, see measured.go).
	AppLog LogLines
	// WarmMS is the billed duration of one warm invocation (an assumption).
	WarmMS float64
	// BatchSize and BatchWindow (seconds) are the event source mapping's; Pollers is how many
	// batches are gathered in parallel (5 for SQS, one per stream shard).
	BatchSize   int
	BatchWindow float64
	Pollers     int
}

// LogLines is what a function logs: per invocation and per record of a batch.
type LogLines struct {
	BytesPerInvocation, LinesPerInvocation float64
	BytesPerRecord, LinesPerRecord         float64
}

// Topic is an SNS topic an event or email is published to.
type Topic struct {
	MessageBytes int
}

// Queue is the SQS queue between the events topic and the subscriber.
type Queue struct {
	MessageBytes int
	// EmptyReceivesPerMonth is what the idle pollers cost whatever the traffic.
	EmptyReceivesPerMonth float64
}

// Table is the event store's write and read units.
type Table struct {
	ItemBytes int
	// PutWRU is one new event: the base item plus every index entry it creates.
	PutWRU float64
	// MarkWRU is the notified mark of one emailed event: the base item rewritten, plus the
	// index entries that project the mark.
	MarkWRU float64
	// NotifyReadRRU is the notifier's strongly consistent read before it sends.
	NotifyReadRRU float64
	// StoredBytesPerEvent is the item plus every index entry, each with DynamoDB's 100-byte
	// overhead; RetentionDays is how long they stay.
	StoredBytesPerEvent float64
	RetentionDays       float64
	PITR                bool
	Indexes             []Index
	// Provisioned is the table's provisioned capacity, the base table first and then each GSI;
	// nil for on-demand, where the writes and reads are priced per request unit instead.
	Provisioned []Provisioned
}

// Provisioned is the capacity of the base table or one GSI, and what one event consumes of it.
type Provisioned struct {
	Name        string // "table" or the index's name
	Write, Read Throughput
	// PutWCU and MarkWCU are the write units a new event and its notified mark take here;
	// ReadRCU the notifier's consistent read (base table only).
	PutWCU, MarkWCU, ReadRCU float64
}

// Throughput is one provisioned dimension: fixed units, or auto scaled.
type Throughput struct {
	Fixed   float64
	Scaling *Scaling
}

// Units is what is provisioned while consumed units a second are used: auto scaling holds
// consumption at the target utilization between its floor and ceiling.
func (t Throughput) Units(consumed float64) float64 {
	if t.Scaling == nil || t.Scaling.Target <= 0 {
		return t.Fixed
	}
	return clamp(consumed/(t.Scaling.Target/100), t.Scaling.Min, t.Scaling.Max)
}

// Index is one GSI as the model sees it.
type Index struct {
	Name, Projection string
	EntryBytes       int
	ProjectsMark     bool // the notified mark rewrites its entry
}

// Notifier is the stream-triggered function that emails and marks.
type Notifier struct {
	Function
	// OnlyEmailed: the stream filter passes only events the email policy selects, so events
	// that get no email never invoke the notifier (nor are published or marked).
	OnlyEmailed bool
	// Topic is the notifications topic the emails are published to.
	Topic *Topic
}

// Email is how emails leave.
type Email struct {
	SES bool // SES per recipient; otherwise an SNS email subscription
}

// Fixed is the monthly cost that does not grow with events.
type Fixed struct {
	Alarms, Dashboards, KMSKeys, Secrets float64
	EncryptedTopics                      float64
	// SecretReadsPerMonth: ingest re-reads its sources secret every TTL per warm instance.
	SecretReadsPerMonth float64
	// ScalingAlarms are the alarms auto scaling creates for the table's capacity.
	ScalingAlarms float64
}
