package main

// The rehearsal's stand-ins for the Lambda service: each function's real bootstrap binary runs
// as a process under the fake Runtime API, with the template's environment; API Gateway turns
// HTTP requests into payload v2 events by the template's routes; the event source mappings
// poll the queue and the (emulated) stream with the template's batch sizes, windows, filters
// and response types.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"hookline/internal/runtimeapi"
	"hookline/internal/sink"
	"hookline/internal/testenv"
)

// buildBootstraps compiles every function as `make lambdas` does, for the host.
func buildBootstraps(ctx context.Context, dir string) (map[string]string, error) {
	var pkgs []string
	for _, fn := range functionNames {
		pkgs = append(pkgs, "hookline/functions/"+fn)
	}
	byPkg, err := runtimeapi.Build(ctx, dir, pkgs...)
	if err != nil {
		return nil, err
	}
	bins := map[string]string{}
	for _, fn := range functionNames {
		bins[fn] = byPkg["hookline/functions/"+fn]
	}
	return bins, nil
}

// lambdaProcess is one function's bootstrap, started once and kept warm like a Lambda
// execution environment.
type lambdaProcess struct {
	fn     *lambdaFunction
	arn    string
	api    *runtimeapi.Server
	cmd    *exec.Cmd
	logs   *sink.Buffer
	exited chan struct{}
	err    error // why it exited, once exited is closed

	mu          sync.Mutex
	invocations int
}

// reservedEnv are the variables Lambda itself sets for a provided.al2023 function; a template
// may not set any of them (Lambda refuses reserved keys).
func reservedEnv(fn *lambdaFunction, fnName, runtimeAPI, region, accessKey, taskRoot string) map[string]string {
	env := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME":        fnName,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.memoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fnName,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "2026/01/01/[$LATEST]rehearsal",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"AWS_ACCESS_KEY_ID":               accessKey,
		"AWS_SECRET_ACCESS_KEY":           "rehearsal-secret-" + fn.name,
		"AWS_SESSION_TOKEN":               "rehearsal-session-" + fn.name,
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                taskRoot,
		"LAMBDA_RUNTIME_DIR":              "/var/runtime",
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
	}
	if fn.logFormat != "" {
		env["AWS_LAMBDA_LOG_FORMAT"] = fn.logFormat
	}
	return env
}

// startFunction runs bin with exactly the template's environment plus what Lambda sets and the
// harness's own additions (the fakes' endpoint, no shared config, no instance metadata).
func startFunction(fn *lambdaFunction, fnName, fnARN, bin, region, accessKey, endpoint, home string) (*lambdaProcess, error) {
	api, err := runtimeapi.Start()
	if err != nil {
		return nil, err
	}
	env := reservedEnv(fn, fnName, api.Addr(), region, accessKey, filepath.Dir(bin))
	harness := map[string]string{
		"AWS_ENDPOINT_URL":            endpoint, // every service: the fake routes by protocol
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
		"HOME":                        home,
	}
	for k, v := range harness {
		env[k] = v
	}
	for k, v := range fn.env {
		if _, clash := env[k]; clash {
			api.Close()
			return nil, fmt.Errorf("%s: the template sets %s, which Lambda reserves or the rehearsal needs", fn.name, k)
		}
		env[k] = v
	}
	p := &lambdaProcess{fn: fn, arn: fnARN, api: api, logs: &sink.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin)
	testenv.DiesWithParent(p.cmd) // a killed test binary must not leave Lambda processes behind
	p.cmd.Dir = filepath.Dir(bin)
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		api.Close()
		return nil, fmt.Errorf("%s: %w", fn.name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	return p, nil
}

func (p *lambdaProcess) stop() {
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.api.Close()
}

// invoke hands the function one event, with the deadline its template timeout gives, and
// returns its response; a function error, an init error or an exit is an error with its logs.
func (p *lambdaProcess) invoke(ctx context.Context, event any) ([]byte, error) {
	payload, err := json.Marshal(event)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.invocations++
	id := fmt.Sprintf("%s-%d", p.fn.name, p.invocations)
	p.mu.Unlock()
	p.api.Enqueue(runtimeapi.Invocation{RequestID: id, Payload: payload, Deadline: time.Now().Add(p.fn.timeout), FunctionARN: p.arn})
	// The longest a real invocation may take, plus room for a slow shared machine.
	ctx, cancel := context.WithTimeout(ctx, p.fn.timeout+30*time.Second)
	defer cancel()
	res := make(chan runtimeapi.Result, 1)
	go func() {
		if r, err := p.api.Next(ctx); err == nil {
			res <- r
		}
	}()
	select {
	case r := <-res:
		if r.Kind != "response" {
			return nil, fmt.Errorf("%s posted %s %s: %s\nlogs:\n%s", p.fn.name, r.Kind, r.ErrorType, r.Body, logTail(p.logs))
		}
		return r.Body, nil
	case <-p.exited:
		return nil, fmt.Errorf("%s exited (%v) before answering\nlogs:\n%s", p.fn.name, p.err, logTail(p.logs))
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: no answer: %w\nlogs:\n%s", p.fn.name, ctx.Err(), logTail(p.logs))
	}
}

func (p *lambdaProcess) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.invocations
}

// apiGateway turns requests into API Gateway HTTP API events by the template's routes.
type apiGateway struct {
	routes  []httpRoute
	region  string
	account string
	procs   map[string]*lambdaProcess // by function logical id
	seq     int
}

// do sends one request through the route API Gateway would pick.
func (g *apiGateway) do(ctx context.Context, method, target string, header http.Header, body []byte) (events.APIGatewayV2HTTPResponse, error) {
	var resp events.APIGatewayV2HTTPResponse
	u, err := url.Parse(target)
	if err != nil {
		return resp, err
	}
	rt, params, ok := matchRoute(g.routes, method, u.Path)
	if !ok {
		return resp, fmt.Errorf("no route of the template matches %s %s", method, u.Path)
	}
	if rt.payloadFormat != "2.0" {
		return resp, fmt.Errorf("route %s: payload format %q, the functions decode 2.0", rt.key, rt.payloadFormat)
	}
	p := g.procs[rt.fnID]
	if p == nil {
		return resp, fmt.Errorf("route %s invokes %s, which is not one of the functions", rt.key, rt.fnID)
	}
	g.seq++
	now := time.Now()
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: rt.key, RawPath: u.Path, RawQueryString: u.RawQuery,
		Headers: map[string]string{}, PathParameters: params, Body: string(body),
	}
	// HTTP APIs lower-case header names and join repeated ones with commas.
	for k, vs := range header {
		req.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	req.Headers["host"] = "rehearsal.execute-api." + g.region + ".amazonaws.com"
	if q := u.Query(); len(q) > 0 {
		req.QueryStringParameters = map[string]string{}
		for k, vs := range q {
			req.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	if ct := header.Get("Content-Type"); len(body) > 0 && !textual(ct) {
		req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	rc := &req.RequestContext
	rc.AccountID, rc.APIID, rc.Stage, rc.RouteKey = g.account, "rehearsal", "$default", rt.key
	rc.DomainName, rc.DomainPrefix = req.Headers["host"], "rehearsal"
	rc.RequestID = fmt.Sprintf("rehearsal-%d", g.seq)
	rc.Time, rc.TimeEpoch = now.UTC().Format("02/Jan/2006:15:04:05 -0700"), now.UnixMilli()
	rc.HTTP = events.APIGatewayV2HTTPRequestContextHTTPDescription{
		Method: method, Path: u.Path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7", UserAgent: header.Get("User-Agent"),
	}
	if rt.auth == "AWS_IAM" {
		rc.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
			AccessKey: "AKIDREHEARSALOPERATOR", AccountID: g.account, CallerID: "AIDAREHEARSAL",
			UserARN: "arn:aws:iam::" + g.account + ":user/operator", UserID: "AIDAREHEARSAL",
		}}
	}
	out, err := p.invoke(ctx, req)
	if err != nil {
		return resp, err
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return resp, fmt.Errorf("%s answered %s, not an HTTP API response: %w", p.fn.name, out, err)
	}
	return resp, nil
}

// textual is what the rehearsal passes to a function as text; any other media type arrives
// base64-encoded, as HTTP APIs deliver binary bodies (ingest must decode before verifying).
func textual(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "xml") ||
		strings.Contains(ct, "javascript") || strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// queuePoller is the SQS event source mapping: it polls with the function's role, as Lambda
// does, and deletes what the function's answer says succeeded.
type queuePoller struct {
	m      *eventSourceMapping
	client *sqs.Client
	url    string
	region string
	proc   *lambdaProcess
}

func newQueuePoller(m *eventSourceMapping, endpoint, queueURL, region, accessKey string, proc *lambdaProcess) *queuePoller {
	cfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(accessKey, "rehearsal", "")}
	c := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	return &queuePoller{m: m, client: c, url: queueURL, region: region, proc: proc}
}

// queueRound is what one batch did.
type queueRound struct {
	received  []events.SQSMessage
	filtered  []string // ids the mapping's filter dropped (Lambda deletes them)
	delivered []events.SQSMessage
	response  events.SQSEventResponse
	deleted   []string
}

// check is what Lambda does when the mapping is created: it reads the queue's attributes.
func (q *queuePoller) check(ctx context.Context) error {
	_, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	return err
}

// round receives one batch (up to the batch size, waiting up to the batching window once the
// first message is in), filters it, invokes the function and deletes what succeeded.
func (q *queuePoller) round(ctx context.Context, firstWait time.Duration) (queueRound, error) {
	var r queueRound
	var first time.Time
	for len(r.received) < q.m.batchSize {
		wait := firstWait
		if !first.IsZero() {
			wait = q.m.window - time.Since(first)
			if wait <= 0 {
				break
			}
		}
		out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(q.url), MaxNumberOfMessages: int32(min(10, q.m.batchSize-len(r.received))),
			WaitTimeSeconds:             int32((wait + time.Second - 1) / time.Second),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return r, fmt.Errorf("receive from %s: %w", q.url, err)
		}
		if len(out.Messages) == 0 && first.IsZero() {
			return r, nil // nothing to deliver
		}
		if first.IsZero() {
			first = time.Now()
		}
		for _, m := range out.Messages {
			r.received = append(r.received, lambdaSQSMessage(m, q.m.source, q.region))
		}
		if q.m.window == 0 {
			break
		}
	}
	var drop []string
	for _, m := range r.received {
		if q.m.filters.Match(sqsFilterInput(m)) {
			r.delivered = append(r.delivered, m)
		} else {
			r.filtered = append(r.filtered, m.MessageId)
			drop = append(drop, m.ReceiptHandle)
		}
	}
	succeeded := drop
	if len(r.delivered) > 0 {
		out, err := q.proc.invoke(ctx, events.SQSEvent{Records: r.delivered})
		if err != nil {
			return r, err // a function error: Lambda deletes nothing, the batch returns after the visibility timeout
		}
		if err := json.Unmarshal(out, &r.response); err != nil {
			return r, fmt.Errorf("%s answered %s: %w", q.proc.fn.name, out, err)
		}
		failed := map[string]bool{}
		if q.m.reportItemFailures {
			// Without ReportBatchItemFailures Lambda ignores the list and deletes the whole batch.
			for _, f := range r.response.BatchItemFailures {
				failed[f.ItemIdentifier] = true
			}
		}
		for _, m := range r.delivered {
			if !failed[m.MessageId] {
				succeeded = append(succeeded, m.ReceiptHandle)
			}
		}
	}
	for _, h := range succeeded {
		if _, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(h)}); err != nil {
			return r, fmt.Errorf("delete from %s: %w", q.url, err)
		}
		r.deleted = append(r.deleted, h)
	}
	return r, nil
}

// lambdaSQSMessage is a received message as Lambda puts it in an SQSEvent.
func lambdaSQSMessage(m sqstypes.Message, queueARN, region string) events.SQSMessage {
	attrs := map[string]events.SQSMessageAttribute{}
	for k, v := range m.MessageAttributes {
		attrs[k] = events.SQSMessageAttribute{StringValue: v.StringValue, DataType: aws.ToString(v.DataType),
			StringListValues: []string{}, BinaryListValues: [][]byte{}}
	}
	return events.SQSMessage{
		MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
		Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: m.Attributes, MessageAttributes: attrs,
		EventSource: "aws:sqs", EventSourceARN: queueARN, AWSRegion: region,
	}
}

// sqsFilterInput is the message as Lambda's filter sees it: the record, with a JSON body parsed.
func sqsFilterInput(m events.SQSMessage) map[string]any {
	b, _ := json.Marshal(m)
	var in map[string]any
	_ = json.Unmarshal(b, &in)
	var body any
	if json.Unmarshal([]byte(m.Body), &body) == nil {
		in["body"] = body
	}
	return in
}

// streamRound is what one pass over the emulated stream did.
type streamRound struct {
	records   []map[string]any // every change record the stream produced
	delivered []map[string]any // those the mapping's filter passed
	responses []events.DynamoDBEventResponse
}

// pollStream is the DynamoDB stream event source mapping: the changes since the last poll,
// filtered by the mapping's FilterCriteria, in batches of its batch size.
func pollStream(ctx context.Context, m *eventSourceMapping, next func(context.Context) ([]map[string]any, error), p *lambdaProcess) (streamRound, error) {
	var r streamRound
	recs, err := next(ctx)
	if err != nil {
		return r, err
	}
	r.records = recs
	for _, rec := range recs {
		if m.filters.Match(rec) {
			r.delivered = append(r.delivered, rec)
		}
	}
	for i := 0; i < len(r.delivered); i += m.batchSize {
		batch := r.delivered[i:min(i+m.batchSize, len(r.delivered))]
		out, err := p.invoke(ctx, map[string]any{"Records": batch})
		if err != nil {
			return r, err
		}
		var resp events.DynamoDBEventResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			return r, fmt.Errorf("%s answered %s: %w", p.fn.name, out, err)
		}
		if len(resp.BatchItemFailures) > 0 {
			// Retrying and bisecting are not rehearsed: a failure in the happy path is the finding.
			return r, fmt.Errorf("%s reported failed stream records %+v\nlogs:\n%s", p.fn.name, resp.BatchItemFailures, logTail(p.logs))
		}
		r.responses = append(r.responses, resp)
	}
	return r, nil
}

// logTail is the end of a process's output (both pipes), for a failure message.
func logTail(b *sink.Buffer) string {
	const max = 3000
	s := b.String()
	if len(s) > max {
		return "…" + s[len(s)-max:]
	}
	return s
}
