package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/internal/fakeaws"
	"hookline/internal/runtimeapi"
	"hookline/pkg/ddbitem"
	"hookline/pkg/event"
	"hookline/pkg/wiring"
)

// target is one binary to start: how to build it, its environment, the invocation it gets
// and how to tell that its answer is right.
type target struct {
	name  string
	pkg   string
	env   map[string]string
	event func() ([]byte, error)
	check func(body []byte, aws *fakeaws.Server) error
}

const (
	topicARN       = "arn:aws:sns:us-east-1:000000000000:hookline-events"
	notifyTopicARN = "arn:aws:sns:us-east-1:000000000000:hookline-notifications"
	secretARN      = "arn:aws:secretsmanager:us-east-1:000000000000:secret:hookline-sources-AbCdEf"
	bodyBucket     = "hookline-bodies" // never called: the cold start only builds the S3 client
	// Never called on an accepted request: the quarantine only makes a data key when it keeps one.
	quarantineKeyARN = "arn:aws:kms:us-east-1:000000000000:key/quarantine"
	table            = "hookline-events"
	sourceToken      = "coldstart-token-0123"
	// The sources secret: one bearer-token source, so the ingest event can be really accepted.
	sourcesSecret = `{"sources":{"coldstart":{"scheme":"token","secrets":["` + sourceToken + `"]}}}`
)

const baseline = "hello"

// targets lists the hello-world baseline first, then every function in functions/.
func targets() []target {
	return []target{
		{
			name:  baseline,
			pkg:   "hookline/cmd/coldstart/hello",
			event: func() ([]byte, error) { return []byte(`{"name":"coldstart"}`), nil },
			check: func(body []byte, _ *fakeaws.Server) error {
				if string(body) != `"Hello coldstart!"` {
					return fmt.Errorf("response %s, want \"Hello coldstart!\"", body)
				}
				return nil
			},
		},
		{
			name: "ingest",
			pkg:  "hookline/functions/ingest",
			env: map[string]string{wiring.EnvTopicARN: topicARN, wiring.EnvSourcesSecretARN: secretARN, wiring.EnvBodyBucket: bodyBucket,
				wiring.EnvTable: table, wiring.EnvQuarantineKey: quarantineKeyARN},
			event: func() ([]byte, error) {
				req := apiRequest("POST", "/webhooks/coldstart", map[string]string{"source": "coldstart"})
				req.Headers = map[string]string{"content-type": "application/json", "authorization": "Bearer " + sourceToken}
				req.Body = `{"type":"coldstart.ping","n":1}`
				return json.Marshal(req)
			},
			check: func(body []byte, aws *fakeaws.Server) error {
				var resp events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(body, &resp); err != nil {
					return fmt.Errorf("response is not an API Gateway response: %w", err)
				}
				if resp.StatusCode != 202 || !strings.Contains(resp.Body, `"status":"accepted"`) {
					return fmt.Errorf("status %d body %s, want 202 accepted", resp.StatusCode, resp.Body)
				}
				return wantCalls(aws, map[string]int{"secretsmanager:GetSecretValue": 1, "sns:Publish": 1})
			},
		},
		{
			name: "subscriber",
			pkg:  "hookline/functions/subscriber",
			env:  map[string]string{wiring.EnvTable: table},
			event: func() ([]byte, error) {
				// One good message (stored: one PutItem) and one that is not an event (reported
				// as a batch item failure, no DynamoDB call).
				ev := events.SQSEvent{Records: []events.SQSMessage{
					sqsMessage("good-1", string(sampleEvent().Marshal())),
					sqsMessage("poison-1", "not a hookline event"),
				}}
				return json.Marshal(ev)
			},
			check: func(body []byte, aws *fakeaws.Server) error {
				var resp events.SQSEventResponse
				if err := json.Unmarshal(body, &resp); err != nil {
					return fmt.Errorf("response is not an SQSEventResponse: %w", err)
				}
				if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "poison-1" {
					return fmt.Errorf("batch item failures %+v, want exactly poison-1", resp.BatchItemFailures)
				}
				return wantCalls(aws, map[string]int{"dynamodb:PutItem": 1})
			},
		},
		{
			name: "notifier",
			pkg:  "hookline/functions/notifier",
			env:  map[string]string{wiring.EnvTable: table, wiring.EnvNotifyTopicARN: notifyTopicARN},
			event: func() ([]byte, error) {
				// An INSERT (read, emailed, marked) and a MODIFY (skipped, as the stream filter
				// would never deliver it).
				rec, err := event.NewRecord(sampleEvent(), time.Now())
				if err != nil {
					return nil, err
				}
				item, err := ddbitem.Marshal(rec, time.Now().Add(24*time.Hour))
				if err != nil {
					return nil, err
				}
				img, err := ddbitem.ToStreamImage(item)
				if err != nil {
					return nil, err
				}
				keys := map[string]events.DynamoDBAttributeValue{"id": events.NewStringAttribute(rec.Event.ID)}
				ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
					streamRecord("INSERT", "100", keys, img),
					streamRecord("MODIFY", "101", keys, img),
				}}
				return json.Marshal(ev)
			},
			check: func(body []byte, aws *fakeaws.Server) error {
				var resp events.DynamoDBEventResponse
				if err := json.Unmarshal(body, &resp); err != nil {
					return fmt.Errorf("response is not a DynamoDBEventResponse: %w", err)
				}
				if len(resp.BatchItemFailures) != 0 {
					return fmt.Errorf("batch item failures %+v, want none", resp.BatchItemFailures)
				}
				return wantCalls(aws, map[string]int{"dynamodb:GetItem": 1, "sns:Publish": 1, "dynamodb:UpdateItem": 1})
			},
		},
		{
			name: "history",
			pkg:  "hookline/functions/history",
			env:  map[string]string{wiring.EnvTable: table, wiring.EnvBodyBucket: bodyBucket},
			event: func() ([]byte, error) {
				const id = "0190b4c2-0000-7000-8000-000000000000" // well-formed, not stored
				return json.Marshal(apiRequest("GET", "/events/"+id, map[string]string{"id": id}))
			},
			check: func(body []byte, aws *fakeaws.Server) error {
				var resp events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(body, &resp); err != nil {
					return fmt.Errorf("response is not an API Gateway response: %w", err)
				}
				if resp.StatusCode != 404 || !strings.HasPrefix(resp.Headers["Content-Type"], "application/problem+json") {
					return fmt.Errorf("status %d headers %v body %s, want a 404 problem", resp.StatusCode, resp.Headers, resp.Body)
				}
				return wantCalls(aws, map[string]int{"dynamodb:GetItem": 1})
			},
		},
	}
}

func wantCalls(aws *fakeaws.Server, want map[string]int) error {
	var errs []error
	for op, n := range want {
		if got := aws.Count(op); got != n {
			errs = append(errs, fmt.Errorf("%s called %d times, want %d", op, got, n))
		}
	}
	if u := aws.Unanswered(); len(u) > 0 {
		errs = append(errs, fmt.Errorf("calls the fake does not answer: %v", u))
	}
	return errors.Join(errs...)
}

func apiRequest(method, path string, params map[string]string) events.APIGatewayV2HTTPRequest {
	var req events.APIGatewayV2HTTPRequest
	req.Version = "2.0"
	req.RouteKey = method + " " + path
	req.RawPath = path
	req.PathParameters = params
	req.Headers = map[string]string{}
	req.RequestContext.RequestID = "coldstart-req"
	req.RequestContext.HTTP.Method = method
	req.RequestContext.HTTP.Path = path
	req.RequestContext.HTTP.SourceIP = "127.0.0.1"
	req.RequestContext.TimeEpoch = time.Now().UnixMilli()
	return req
}

func sampleEvent() *event.Event {
	now := time.Now().UTC()
	e := &event.Event{
		ID: event.DeliveryID("coldstart", "delivery-1"), Source: "coldstart", Type: "coldstart.ping",
		Time: now, ReceivedAt: now, DeliveryID: "delivery-1",
	}
	if err := e.SetData("application/json", []byte(`{"n":1}`)); err != nil {
		panic(err) // a constant JSON body always sets
	}
	return e
}

func sqsMessage(id, body string) events.SQSMessage {
	return events.SQSMessage{
		MessageId: id, ReceiptHandle: "rh-" + id, Body: body,
		Attributes:  map[string]string{"ApproximateReceiveCount": "1"},
		EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:hookline-events", AWSRegion: "us-east-1",
	}
}

func streamRecord(name, seq string, keys, img map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{
		EventID: "ev-" + seq, EventName: name, EventSource: "aws:dynamodb", EventVersion: "1.1", AWSRegion: "us-east-1",
		EventSourceArn: "arn:aws:dynamodb:us-east-1:000000000000:table/" + table + "/stream/2026-01-01T00:00:00.000",
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: time.Now()},
			Keys:                        keys, NewImage: img, SequenceNumber: seq, SizeBytes: 512, StreamViewType: "NEW_IMAGE",
		},
	}
}

// build compiles every target into dir (runtimeapi.Build: `make lambdas`' flags, host
// architecture) and returns the binary paths by target name.
func build(ctx context.Context, dir string, ts []target) (map[string]string, error) {
	var pkgs []string
	for _, t := range ts {
		pkgs = append(pkgs, t.pkg)
	}
	byPkg, err := runtimeapi.Build(ctx, dir, pkgs...)
	if err != nil {
		return nil, err
	}
	bins := map[string]string{}
	for _, t := range ts {
		bins[t.name] = byPkg[t.pkg]
	}
	return bins, nil
}

// sample is one cold start.
type sample struct {
	firstPoll time.Duration // exec → first GET invocation/next
	cpu       time.Duration // CPU time of all the process's threads at its first poll
	faults    int64         // page faults (minor + major) of the process at its first poll
	response  time.Duration // exec → the response posted
	maxRSS    int64         // bytes, the process's peak RSS when it polls for a second event
}

// coldStart runs bin once under a fresh fake Runtime API and fake AWS, with the invocation
// already queued (as Lambda has it when it starts a runtime for a request), checks the answer
// and kills the process once it polls for the next event.
func coldStart(ctx context.Context, t target, bin string, timeout time.Duration) (sample, error) {
	api, err := runtimeapi.Start()
	if err != nil {
		return sample{}, err
	}
	defer api.Close()
	aws, err := startFakeAWS()
	if err != nil {
		return sample{}, err
	}
	defer aws.Close()
	payload, err := t.event()
	if err != nil {
		return sample{}, fmt.Errorf("%s: event: %w", t.name, err)
	}
	api.Enqueue(runtimeapi.Invocation{RequestID: "coldstart-1", Payload: payload})
	// The process is blocked on its first poll while the hook runs: its CPU time is that of
	// its init, however long other processes kept it waiting for a core.
	pids := make(chan int, 1)
	var cpu, faults atomic.Int64
	api.OnFirstPoll(func() {
		pid := <-pids
		cpu.Store(int64(threadsCPU(pid)))
		faults.Store(pageFaults(pid))
	})

	home, err := os.MkdirTemp("", "coldstart-home-")
	if err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(home)
	cmd := exec.Command(bin)
	cmd.Env = lambdaEnv(t, api.Addr(), aws.URL, home)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, fmt.Errorf("%s: %w", t.name, err)
	}
	pids <- cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	var res runtimeapi.Result
	resCh := make(chan runtimeapi.Result, 1)
	go func() {
		if r, err := api.Next(ctx); err == nil {
			resCh <- r
		}
	}()
	select {
	case res = <-resCh:
	case err := <-exited:
		return sample{}, fmt.Errorf("%s exited before answering (%v):\n%s", t.name, err, tail(stderr.String()))
	case <-ctx.Done():
		stop()
		return sample{}, fmt.Errorf("%s: no answer within %s:\n%s", t.name, timeout, tail(stderr.String()))
	}
	s := sample{firstPoll: api.FirstPoll().Sub(start), cpu: time.Duration(cpu.Load()), faults: faults.Load(), response: res.At.Sub(start)}
	// Wait for the second poll: the runtime is idle then, so the RSS is that of a warm function.
	for deadline := time.Now().Add(2 * time.Second); api.Polls() < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	s.maxRSS = peakRSS(cmd.Process.Pid)
	stop()
	if res.Kind != "response" {
		return s, fmt.Errorf("%s posted %s %s: %s\n%s", t.name, res.Kind, res.ErrorType, res.Body, tail(stderr.String()))
	}
	if err := t.check(res.Body, aws); err != nil {
		return s, fmt.Errorf("%s: %w\n%s", t.name, err, tail(stderr.String()))
	}
	return s, nil
}

// startFakeAWS serves the topics and the sources secret the targets' environments name.
func startFakeAWS() (*fakeaws.Server, error) {
	f, err := fakeaws.Start(fakeaws.Options{})
	if err != nil {
		return nil, err
	}
	f.AddTopic(topicARN, "")
	f.AddTopic(notifyTopicARN, "")
	f.AddSecret(secretARN, sourcesSecret)
	return f, nil
}

// lambdaEnv is what Lambda sets for a provided.al2023 function, plus endpoints that point the
// AWS SDK at the fake (the SDK reads AWS_ENDPOINT_URL_<SERVICE ID>, see
// aws-sdk-go-v2/config's EnvConfig.GetServiceBaseEndpoint). Nothing of the host's environment
// leaks in: no ~/.aws, no instance metadata.
func lambdaEnv(t target, runtimeAPI, awsURL, home string) []string {
	env := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":           runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME":         "hookline-" + t.name,
		"AWS_LAMBDA_FUNCTION_VERSION":      "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE":  "128",
		"AWS_LAMBDA_LOG_GROUP_NAME":        "/aws/lambda/hookline-" + t.name,
		"AWS_LAMBDA_LOG_STREAM_NAME":       "coldstart",
		"AWS_REGION":                       "us-east-1",
		"AWS_DEFAULT_REGION":               "us-east-1",
		"AWS_ACCESS_KEY_ID":                "AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY":            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_SESSION_TOKEN":                "coldstart",
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_CONFIG_FILE":                  filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":      filepath.Join(home, "credentials"),
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": awsURL,
		"AWS_ENDPOINT_URL_SNS":             awsURL,
		"AWS_ENDPOINT_URL_DYNAMODB":        awsURL,
		"HOME":                             home,
		"TZ":                               ":UTC",
	}
	for k, v := range t.env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// threadsCPU sums the time on a CPU of every thread of the process (/proc/<pid>/task/*/schedstat,
// nanoseconds); 0 where there is no such file.
func threadsCPU(pid int) time.Duration {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum time.Duration
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread exited
		}
		var ns int64
		if _, err := fmt.Sscan(string(b), &ns); err == nil {
			sum += time.Duration(ns)
		}
	}
	return sum
}

// pageFaults is the process's page faults so far, minor and major (/proc/<pid>/stat fields 10
// and 12, all threads); 0 where there is no such file. Each first touch of a page of the
// binary or of fresh heap is one, and in a VM each costs more than on bare metal: the cold
// start of a bigger binary, or of more package-init data, shows here first.
func pageFaults(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces: count after its end.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 10 {
		return 0
	}
	var minflt, majflt int64
	fmt.Sscan(f[7], &minflt)
	fmt.Sscan(f[9], &majflt)
	return minflt + majflt
}

// peakRSS reads the process's own high-water RSS (VmHWM) from /proc; 0 where there is none.
// (The rusage of a reaped child is no good here: its ru_maxrss keeps the parent's RSS from
// before the exec.)
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

func tail(s string) string {
	const max = 2000
	if len(s) > max {
		return "…" + s[len(s)-max:]
	}
	return s
}

// deployedZips builds every function target for linux/arm64 into dir, as `make lambdas` does,
// and returns the size of each one's deployment zip: the binary alone, named bootstrap,
// deflated at the best compression (as `zip -9`). The hello world's is there for comparison.
func deployedZips(ctx context.Context, dir string, ts []target) (map[string]int64, error) {
	var pkgs []string
	for _, t := range ts {
		pkgs = append(pkgs, t.pkg)
	}
	byPkg, err := runtimeapi.BuildFor(ctx, "linux", "arm64", dir, pkgs...)
	if err != nil {
		return nil, err
	}
	sizes := map[string]int64{}
	for _, t := range ts {
		n, err := zipSize(byPkg[t.pkg])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		sizes[t.name] = n
	}
	return sizes, nil
}

// zipSize is the size of a zip archive holding the file at path as an executable bootstrap.
func zipSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var out countingWriter
	zw := zip.NewWriter(&out)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	fw, err := zw.CreateHeader(h)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(fw, f); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(out), nil
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// alsoTargets adds, for every function target with a binary of the same name in dir, a copy
// of the target named "<fn> (<dir's base name>)" that runs that binary.
func alsoTargets(ts []target, bins map[string]string, dir string) ([]target, error) {
	label := filepath.Base(filepath.Clean(dir))
	var extra []target
	for _, t := range ts {
		if t.name == baseline {
			continue
		}
		path := filepath.Join(dir, t.name)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("-also: %w", err)
		}
		c := t
		c.name = t.name + " (" + label + ")"
		bins[c.name] = path
		extra = append(extra, c)
	}
	return append(ts, extra...), nil
}
