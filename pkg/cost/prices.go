package cost

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
// reader can check it; Assumptions lists what no AWS page in the stored copies says.
var Prices = struct {
	HTTPAPIRequest, RESTAPIRequest                           Price
	LambdaRequest, LambdaGBSecondARM, LambdaGBSecondX86      Price
	SNSPublish, SNSEmail, SESEmail                           Price
	SQSRequest                                               Price
	DynamoWRU, DynamoRRU, DynamoStorage                      Price
	DynamoWCUHour, DynamoRCUHour                             Price
	LogsIngestion                                            Price
	XRayTrace                                                Price
	KMSKey, KMSRequest, Secret, SecretCall, Alarm, Dashboard Price
}{
	HTTPAPIRequest: Price{1.00, 1e6, "HTTP API request (first 300 M; each 512 KB one request)",
		"https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html; transcription of https://aws.amazon.com/api-gateway/pricing/ (https://raw.githubusercontent.com/api-evangelist/amazon-web-services/refs/heads/main/plans/amazon-web-services-plans-pricing.yml)", "transcription read 2026-09-20"},
	RESTAPIRequest: Price{3.50, 1e6, "REST API request (first 333 M)",
		"https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html", ""},
	LambdaRequest:     Price{0.20, 1e6, "Lambda request", "https://cloudchipr.com/blog/aws-lambda-pricing", "\"Ultimate Guide 2025\""},
	LambdaGBSecondARM: Price{0.0000133334, 1, "Lambda GB-second, arm64", "https://cloudchipr.com/blog/aws-lambda-pricing", "\"Ultimate Guide 2025\""},
	LambdaGBSecondX86: Price{0.0000166667, 1, "Lambda GB-second, x86_64", "https://cloudchipr.com/blog/aws-lambda-pricing", "\"Ultimate Guide 2025\""},
	SNSPublish:        Price{0.50, 1e6, "SNS publish (each 64 KB chunk one request)", "https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/", "2026-06-13"},
	SNSEmail:          Price{2.00, 1e5, "SNS email delivery", "https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/", "2026-06-13"},
	SESEmail: Price{0.10, 1e3, "SES email (à la carte; Essentials, the default for new accounts since 2026-07-21, is $0.16)",
		"https://raw.githubusercontent.com/api-evangelist/amazon-ses/refs/heads/main/plans/amazon-ses-plans-pricing.yml (transcribed from the AWS Price List API)", "Price List 2026-07-22"},
	SQSRequest: Price{0.40, 1e6, "SQS standard request (each 64 KB chunk one request)", "https://cloudburn.io/blog/amazon-sqs-pricing; https://www.factualminds.com/blog/amazon-sqs-pricing-64kb-rule-fifo-vs-standard/", "2026-03-14; 2026-06-13"},
	DynamoWRU:  Price{0.625, 1e6, "DynamoDB on-demand write request unit (1 KB)", "https://airbyte.com/data-engineering-resources/dynamodb-pricing (units: https://aws.amazon.com/dynamodb/pricing/on-demand/)", ""},
	DynamoRRU:  Price{0.125, 1e6, "DynamoDB on-demand read request unit (4 KB strongly consistent, 2 × 4 KB eventually)", "https://airbyte.com/data-engineering-resources/dynamodb-pricing", ""},
	DynamoWCUHour: Price{0.00065, 1, "DynamoDB provisioned write capacity unit-hour (1 KB writes a second for an hour)",
		"https://aws.amazon.com/dynamodb/pricing/provisioned/ (the stored copy has the units, not the rendered rates); rate: https://www.rubydoc.info/gems/dynamo-autoscale/0.3.5/DynamoAutoscale/UnitCost ($0.0065 per 10 WCU-hours, us-east-1, read off aws.amazon.com/dynamodb/pricing/)", "not shown (an old copy; third-party copies from 2024 give the same rate)"},
	DynamoRCUHour: Price{0.00013, 1, "DynamoDB provisioned read capacity unit-hour (one 4 KB strongly consistent read a second for an hour)",
		"https://aws.amazon.com/dynamodb/pricing/provisioned/ (the stored copy has the units, not the rendered rates); rate: https://www.rubydoc.info/gems/dynamo-autoscale/0.3.5/DynamoAutoscale/UnitCost ($0.0065 per 50 RCU-hours, us-east-1)", "not shown (an old copy; third-party copies from 2024 give the same rate)"},
	DynamoStorage: Price{0.25, 1, "DynamoDB GB-month (items + 100 B each, per index too)", "https://aws.amazon.com/dynamodb/pricing/ (an old copy)", ""},
	LogsIngestion: Price{0.50, 1, "CloudWatch Logs GB ingested (first tier; Lambda logs tiered since 2025-05-01)", "https://www.duckbillgroup.com/?p=9080", ""},
	XRayTrace:     Price{5.00, 1e6, "X-Ray trace recorded (first 100,000 free, ignored)", "https://aws.amazon.com/de/xray/pricing/", ""},
	KMSKey:        Price{1.00, 1, "KMS key-month (+$1 per rotated backing key kept)", "https://aws.amazon.com/kms/pricing/", ""},
	KMSRequest:    Price{0.03, 1e4, "KMS request (20,000 free a month)", "https://www.wring.co/blog/aws-kms-pricing-guide", "2026-03-15"},
	Secret:        Price{0.40, 1, "Secrets Manager secret-month", "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms (third-party)", ""},
	SecretCall:    Price{0.05, 1e4, "Secrets Manager API call", "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms (third-party)", ""},
	Alarm:         Price{0.10, 1, "CloudWatch alarm-month (standard resolution)", "https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm", ""},
	Dashboard:     Price{3.00, 1, "CloudWatch dashboard-month (first 3 per account free, ignored)", "https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/", "2026-06-13"},
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
