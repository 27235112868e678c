package cost

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Price is one list price with where it was read. USD is the price of Per units of Unit.
type Price struct {
	USD    float64
	Per    float64 // 1 for a unit price, 1e6 for "per million", 1e5 for "per 100,000", …
	Unit   string  // what one unit is
	Source string  // the page the price was read from (a stored copy)
	Shown  string  // the date the page shows, "" when it shows none
}

// Each returns the price of one unit.
func (p Price) Each() float64 { return p.USD / p.Per }

// PricesRead is when the stored copies behind Prices were read. Check the AWS Pricing
// Calculator before budgeting: none of these copies is newer than 2026-09.
const PricesRead = "2026-11-23"

// Region the prices are for.
const Region = "us-east-1"

// Prices are us-east-1 list prices, first tier, free tiers ignored. Each names its source so a
// reader can check it; Assumptions lists what no AWS page in the stored copies says. They are
// data, kept in prices.json: one object per field of priceList, every field present.
var Prices = mustPrices(pricesJSON)

//go:embed prices.json
var pricesJSON []byte

// priceList is the priced items, in the order docs/cost.md lists them.
type priceList struct {
	HTTPAPIRequest, RESTAPIRequest                           Price
	LambdaRequest, LambdaGBSecondARM, LambdaGBSecondX86      Price
	SNSPublish, SNSEmail, SESEmail                           Price
	SQSRequest                                               Price
	DynamoWRU, DynamoRRU, DynamoStorage                      Price
	DynamoWCUHour, DynamoRCUHour                             Price
	LogsIngestion                                            Price
	XRayTrace                                                Price
	KMSKey, KMSRequest, Secret, SecretCall, Alarm, Dashboard Price
}

// decodePrices reads a price list: no unknown item or field (a misspelt name), and no item
// without a price, a unit count, a unit or a source (a missing one).
func decodePrices(b []byte) (priceList, error) {
	var l priceList
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return l, fmt.Errorf("prices.json: %w", err)
	}
	if dec.More() {
		return l, errors.New("prices.json: more than one JSON value")
	}
	v := reflect.ValueOf(l)
	for i := range v.NumField() {
		if p := v.Field(i).Interface().(Price); p.USD <= 0 || p.Per <= 0 || p.Unit == "" || p.Source == "" {
			return l, fmt.Errorf("prices.json: %s needs a USD and a Per above 0, a Unit and a Source", v.Type().Field(i).Name)
		}
	}
	return l, nil
}

func mustPrices(b []byte) priceList {
	l, err := decodePrices(b)
	if err != nil {
		panic(err)
	}
	return l
}

// Rule is a documented fact the model applies (not a price).
type Rule struct {
	What, Source, Shown string
}

// Rules are the billing and behaviour rules the model relies on, with their sources.
var Rules = []Rule{
	{"Lambda bills the INIT phase for all runtimes since 2025-08-01 (cold starts are not in the per-event lines)", "https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/ (stored as a mirror)", "2025-04-29"},
	{"GSI writes: only when a projected attribute changes, sized on the index entry (projected attributes + keys); a write is sized on the larger of the item before and after", "https://raw.githubusercontent.com/aws/agent-toolkit-for-aws/main/skills/specialized-skills/database-skills/amazon-dynamodb/scripts/calculate_costs.py", ""},
	{"DynamoDB Streams reads by a Lambda trigger are free; Lambda event filtering drops records before they cost an invocation", "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html", ""},
	{"TTL deletes consume no write units", "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-global-table-design.prescriptive-guidance.throughput.html", ""},
	{"A log event counts its UTF-8 message plus 26 bytes", "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html", ""},
	{"Lambda log-level filtering: system log level WARN drops the platform.start/platform.report lines; application lines without a level count as INFO", "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html", ""},
	{"X-Ray default sampling: the first request each second + 5 % of the rest; Lambda active tracing samples at that rate without an incoming header", "https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html; https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda.Tracing.html", ""},
	{"SNS email: more than 10 messages/s suspends the subscription", "https://docs.amazonaws.cn/en_us/sns/latest/dg/sns-email-notifications.html", ""},
	{"SNS KMS requests: R = B / D × 2 × P, a data key reused for at most 5 minutes", "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html", ""},
	{"SQS batching window: Lambda gathers records up to the window before invoking; with a window the batch size may exceed 10", "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html", ""},
	{"DynamoDB auto scaling (target tracking) raises provisioned capacity when consumption stays above the target for 2 consecutive minutes, lowers it after 15 minutes 20 % below; it creates the CloudWatch alarms it acts on; burst capacity covers short spikes", "https://www.repost.aws/knowledge-center/dynamodb-auto-scaling", ""},
}

// Assumptions are the figures no AWS page in the stored copies gives; a deployment's own
// metrics (Duration, IncomingBytes, NumberOfMessagesReceived) should replace them.
var Assumptions = []string{
	"SNS → SQS deliveries cost nothing on the SNS side; the SQS SendMessage is counted",
	"the first 1,000 SNS emails a month are free (only third-party copies say so; ignored here)",
	"warm durations per invocation (no AWS figure exists; they come from the code paths: one SNS publish, a batch of concurrent PutItems, one publish + one UpdateItem per email)",
	"Lambda's SQS pollers: 5 gather batches independently, so a batch window W at λ events/s fills 1 + λW/5 messages (up to the batch size); a ReceiveMessage returns one message below 1 message/s per poller, up to 10 above",
	"DynamoDB stream: one shard at these rates (one notifier batch gathers 1 + λW records)",
	"Lambda JSON system lines (platform.start + platform.report) ≈ 650 bytes an invocation; text START/END/REPORT ≈ 300 bytes",
	"PITR at $0.20/GB-month, billed on the base table (only a 2020 third-party copy)",
	"the tutorial's item: the payload + 250 bytes of attributes; its one print line 100 bytes",
	"provisioned capacity: a steady rate all month, so auto scaling holds consumption at its target utilization (never under the floor, never over the ceiling); bursts above what is provisioned use burst capacity, then throttle and are retried (the SDK, then SQS or the stream)",
	"auto scaling: 4 CloudWatch alarms per target tracking policy (high and low on consumption, high and low on provisioned capacity), billed like any alarm",
}
