package cost

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

func TestItemSize(t *testing.T) {
	// DynamoDB: name bytes + value bytes; a number is about one byte per two significant
	// digits plus one.
	item := map[string]types.AttributeValue{
		"id":         &types.AttributeValueMemberS{Value: "abc"},        // 2 + 3
		"expires_at": &types.AttributeValueMemberN{Value: "1803204000"}, // 10 + (7 significant digits + 1)/2 + 1 = 10 + 5
		"ok":         &types.AttributeValueMemberBOOL{Value: true},      // 2 + 1
	}
	if got := ItemSize(item); got != 5+15+3 {
		t.Errorf("ItemSize = %d, want 23", got)
	}
	if got := writeUnits(1024); got != 1 {
		t.Errorf("1024 bytes = %g WRU, want 1", got)
	}
	if got := writeUnits(1025); got != 2 {
		t.Errorf("1025 bytes = %g WRU, want 2", got)
	}
}

func TestBatchAndSampling(t *testing.T) {
	f := &Function{BatchSize: 10, BatchWindow: 60, Pollers: 5}
	near(t, "batch at 1 M/month", batch(1e6/SecondsPerMonth, f), 1+1e6/SecondsPerMonth*60/5)
	near(t, "batch at 100/s", batch(100, f), 10)
	near(t, "batch without a window gathers a second", batch(0.5, &Function{BatchSize: 10, Pollers: 1}), 1.5)
	near(t, "API-invoked", batch(100, &Function{BatchSize: 1}), 1)
	near(t, "X-Ray under 1/s samples all", sampled(0.5*SecondsPerMonth), 0.5*SecondsPerMonth)
	near(t, "X-Ray at 10/s: 1/s + 5 % of 9/s", sampled(10*SecondsPerMonth), 1.45*SecondsPerMonth)
}

func TestAccessLogBytes(t *testing.T) {
	if got := AccessLogBytes(`{"s":"$context.status","m":"$context.httpMethod"}`); got != len(`{"s":"202","m":"POST"}`) {
		t.Errorf("AccessLogBytes = %d", got)
	}
	if AccessLogBytes("") != 0 {
		t.Error("no format, no access log")
	}
}

// TestAccessLogSampleCoversTheStack: every variable the stack's access log format logs has a
// typical value in accessLogSample, so the model does not price a field at a guessed width.
func TestAccessLogSampleCoversTheStack(t *testing.T) {
	s, err := ReadTemplate(EmbeddedTemplate())
	if err != nil {
		t.Fatal(err)
	}
	if s.AccessLogFormat == "" {
		t.Fatal("the embedded template has no access log format")
	}
	for _, m := range contextVar.FindAllStringSubmatch(s.AccessLogFormat, -1) {
		if _, ok := accessLogSample[m[1]]; !ok {
			t.Errorf("accessLogSample has no value for $context.%s", m[1])
		}
	}
}

// TestTutorialByHand recomputes the tutorial's million events with a pencil: every price
// times every quantity, written out here rather than taken from the model.
func TestTutorialByHand(t *testing.T) {
	p := Defaults
	b := Compute(Tutorial(p.PayloadBytes), p, 1)
	want := map[string]float64{
		LineAPI:      1e6 * 3.50 / 1e6,
		LineRequests: 1e6 * 0.20 / 1e6,
		// 128 MB × 125 ms × 1 M at the x86 price.
		LineDuration: 0.125 * 0.125 * 1e6 * 0.0000166667,
		// (1024 + 250) bytes → 2 WRU.
		LineWrites: 2e6 * 0.625 / 1e6,
		// 3 text system lines (300 B) + one print (100 B), 26 B more per line.
		LineLogs:  1e6 * (300 + 100 + 4*26) / float64(1<<30) * 0.50,
		LineXRay:  0,
		LineEmail: 1e6 * 0.10 / 1000,
	}
	got := map[string]float64{}
	for _, l := range b.Lines {
		got[l.Name] = l.USD
	}
	for name, w := range want {
		near(t, name, got[name], w)
	}
	if len(got) != len(want) {
		t.Errorf("lines %v, want exactly %v", got, want)
	}
}

// TestHooklineLinesByHand prices a small hookline-shaped design by hand: the point is the
// quantities — batches, receives, marks, publishes — each derived here from first principles.
func TestHooklineLinesByHand(t *testing.T) {
	n := 2.592e6 // 1 event a second
	p := Params{EventsPerMonth: n, PayloadBytes: 1000, EmailRatio: 0.5}
	d := Design{
		Name:        "h",
		API:         API{AccessLogBytes: 74},
		Ingest:      Function{Name: "i", MemoryMB: 256, ARM: true, WarmMS: 20, BatchSize: 1, AppLog: LogLines{BytesPerRecord: 100, LinesPerRecord: 1}},
		EventsTopic: &Topic{MessageBytes: 1500},
		Queue:       &Queue{MessageBytes: 1500},
		Subscriber:  &Function{Name: "s", MemoryMB: 128, ARM: true, WarmMS: 10, BatchSize: 10, BatchWindow: 20, Pollers: 5},
		Table:       Table{PutWRU: 3, MarkWRU: 2, NotifyReadRRU: 1},
		Notifier: &Notifier{
			Function:    Function{Name: "n", MemoryMB: 128, ARM: true, WarmMS: 40, BatchSize: 10, BatchWindow: 4, Pollers: 1},
			OnlyEmailed: true, Topic: &Topic{MessageBytes: 2500},
		},
	}
	b := Compute(d, p, p.EmailRatio)
	got := map[string]Line{}
	for _, l := range b.Lines {
		got[l.Name] = l
	}
	// Subscriber batches: 1 + 1 event/s × 20 s / 5 pollers = 5; the notifier sees 0.5/s:
	// 1 + 0.5 × 4 = 3 records a batch.
	subInv, notInv := n/5, n*0.5/3
	near(t, "Lambda requests", got[LineRequests].Quantity, n+subInv+notInv)
	// One publish per event, one per email.
	near(t, "SNS publishes", got[LinePublish].Quantity, n+n*0.5)
	// Send one per event; below 1 message/s per poller a receive brings one; one delete a batch.
	near(t, "SQS requests", got[LineSQS].Quantity, n+n+subInv)
	near(t, "WRU", got[LineWrites].Quantity, 3*n+2*n*0.5)
	near(t, "RRU", got[LineReads].Quantity, n*0.5)
	// Ingest's one 100-byte line per event and the access log, 26 bytes more each.
	near(t, "log GB", got[LineLogs].Quantity, n*(100+26+74+26)/float64(1<<30))
	near(t, "GB-seconds", got[LineDuration].Quantity, n*0.25*0.020+subInv*0.125*0.010+notInv*0.125*0.040)
	near(t, "emails", got[LineEmail].Quantity, n*0.5)

	// Without email nothing reaches the notifier: no invocation, publish, mark or read.
	w := Compute(d, p, 0)
	for _, l := range w.Lines {
		switch l.Name {
		case LinePublish:
			near(t, "publishes without email", l.Quantity, n)
		case LineReads, LineEmail:
			near(t, l.Name+" without email", l.Quantity, 0)
		case LineWrites:
			near(t, "WRU without email", l.Quantity, 3*n)
		}
	}
	// A notifier that sees every INSERT publishes, marks and reads for every event.
	d.Notifier.OnlyEmailed = false
	for _, l := range Compute(d, p, 0).Lines {
		if l.Name == LineWrites {
			near(t, "WRU when every event reaches the notifier", l.Quantity, 3*n+2*n)
		}
	}
}

func TestReadTemplate(t *testing.T) {
	tmpl := `{"Resources": {
	  "Ingest4069586C": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 256, "Architectures": ["arm64"],
	    "LoggingConfig": {"LogFormat": "JSON", "SystemLogLevel": "WARN", "ApplicationLogLevel": "INFO"}}},
	  "Subscriber1956AC64": {"Type": "AWS::Lambda::Function", "Properties": {"TracingConfig": {"Mode": "Active"}}},
	  "NotifierDFD80165": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 128,
	    "Environment": {"Variables": {"HOOKLINE_EMAIL_POLICY": "{\"sources\":{\"github\":{}}}"}}}},
	  "SubscriberSqsEventSourceHooklineEventsQueueECDEF20BAA77F24D": {"Type": "AWS::Lambda::EventSourceMapping",
	    "Properties": {"FunctionName": {"Ref": "Subscriber1956AC64"}, "MaximumBatchingWindowInSeconds": 60, "FunctionResponseTypes": ["ReportBatchItemFailures"]}},
	  "NotifierDynamoDBEventSource0123456789ABCDEF": {"Type": "AWS::Lambda::EventSourceMapping",
	    "Properties": {"FunctionName": {"Ref": "NotifierDFD80165"}, "BatchSize": 10,
	      "FilterCriteria": {"Filters": [{"Pattern": "{\"dynamodb\":{\"NewImage\":{\"source\":{\"S\":[\"github\"]},\"source_group\":{\"S\":[{\"exists\":true}]}}},\"eventName\":[\"INSERT\"]}"}]}}},
	  "NotificationsTopicE4AF40A8": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "k"}},
	  "NotificationsTopicTokenSubscription13DCED6A2": {"Type": "AWS::SNS::Subscription",
	    "Properties": {"Protocol": "email", "TopicArn": {"Ref": "NotificationsTopicE4AF40A8"}, "FilterPolicy": {"source": ["github"]}}},
	  "EventsTableD24865E5": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST",
	    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
	    "GlobalSecondaryIndexes": [{"IndexName": "g", "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}], "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["type"]}}]}},
	  "Other": {"Type": "AWS::S3::Bucket", "Properties": {"X": 1}}
	}}`
	s, err := ReadTemplate([]byte(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	in, sub, not := s.Functions["ingest"], s.Functions["subscriber"], s.Functions["notifier"]
	if in.MemoryMB != 256 || !in.ARM || in.SystemLogLevel != "WARN" || in.LogFormat != "JSON" {
		t.Errorf("ingest %+v", in)
	}
	if sub.MemoryMB != 128 || sub.ARM || sub.Tracing != "Active" || sub.LogFormat != "Text" {
		t.Errorf("subscriber %+v: defaults are 128 MB, x86, text logs", sub)
	}
	if not.LogicalID != "NotifierDFD80165" {
		t.Errorf("notifier %+v", not)
	}
	if s.SQS.BatchSize != 10 || s.SQS.WindowSecs != 60 || !s.SQS.PartialFail {
		t.Errorf("SQS mapping %+v: batch size defaults to 10", s.SQS)
	}
	if s.Stream.BatchSize != 10 || len(s.Stream.Filters) != 1 || !streamFilterFollowsPolicy(not.Env, s.Stream.Filters) {
		t.Errorf("stream mapping %+v: the filter is the notifier's policy's", s.Stream)
	}
	if streamFilterFollowsPolicy(not.Env, []string{`{"eventName":["INSERT"]}`}) || streamFilterFollowsPolicy(nil, s.Stream.Filters) {
		t.Error("a filter other than the policy's, or no policy, counts as following the policy")
	}
	if !s.EmailSubscription || s.EmailFilterPolicy["source"] == nil || s.EncryptedTopics != 1 {
		t.Errorf("email subscription %v %v, %d encrypted topics", s.EmailSubscription, s.EmailFilterPolicy, s.EncryptedTopics)
	}
	if ix := s.Table.Indexes; len(ix) != 1 || ix[0].Projection != "INCLUDE" || ix[0].NonKey[0] != "type" {
		t.Errorf("indexes %+v", ix)
	}
	// Pruning keeps what ReadTemplate reads and drops the rest.
	pruned, err := Prune([]byte(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(pruned), "AWS::S3::Bucket") {
		t.Error("Prune kept a resource the model does not read")
	}
	s2, err := ReadTemplate(pruned)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(s)
	b, _ := json.Marshal(s2)
	if !bytes.Equal(a, b) {
		t.Errorf("the model reads the pruned template differently:\n%s\n%s", a, b)
	}
	if _, err := ReadTemplate([]byte(`{"Resources": {}}`)); err == nil {
		t.Error("a template without the functions reads without error")
	}
}

func TestParamsValidate(t *testing.T) {
	for _, p := range []Params{
		{EventsPerMonth: 0, PayloadBytes: 1, EmailRatio: 0},
		{EventsPerMonth: 1, PayloadBytes: 0, EmailRatio: 0},
		{EventsPerMonth: 1, PayloadBytes: 1, EmailRatio: 1.5},
		{EventsPerMonth: math.NaN(), PayloadBytes: 1, EmailRatio: 0},
	} {
		if p.Validate() == nil {
			t.Errorf("%+v validates", p)
		}
	}
	if err := Defaults.Validate(); err != nil {
		t.Error(err)
	}
}

// TestSampleSize: the model sizes the envelope and item the codec really makes.
func TestSampleSize(t *testing.T) {
	r := Sample(1024)
	if got := len(r.Event.Data); got != 1024 {
		t.Errorf("payload %d bytes, want 1024", got)
	}
	if !json.Valid(r.Event.Data) {
		t.Error("payload is not JSON")
	}
	if env := len(r.Event.Marshal()); env <= 1024 {
		t.Errorf("envelope %d bytes, not bigger than its payload", env)
	}
}
