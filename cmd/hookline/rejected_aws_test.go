package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hookline/internal/fakeaws"
	"hookline/internal/testenv"
	"hookline/pkg/awsjson"
	"hookline/pkg/ddbkeep"
	"hookline/pkg/ddbstore"
	"hookline/pkg/event"
	"hookline/pkg/kmsseal"
	"hookline/pkg/lambdaio"
	"hookline/pkg/pipeline"
	"hookline/pkg/sender"
	"hookline/pkg/source"
)

// TestRejectedOnAWS: the ingest handler, wired as functions/ingest wires it (the quarantine in
// the events table, a shared quota, KMS sealing), refuses a request signed with a secret the
// config does not have yet and keeps it; `hookline rejected list|get --table` show it with the
// signature redacted; after the secret is added to the sources secret, `readmit --table
// --topic-arn --sources-secret` publishes it to the SNS topic with the id ingest would have
// given it, and a second readmit publishes nothing. DynamoDB is dynalite behind the fake AWS
// endpoint, which also serves SNS, SQS, KMS and Secrets Manager.
func TestRejectedOnAWS(t *testing.T) {
	ctx := context.Background()
	aws := fakeAWS(t)
	const (
		topicARN  = "arn:aws:sns:us-east-1:000000000000:events"
		queueARN  = "arn:aws:sqs:us-east-1:000000000000:backfill"
		secretARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:hookline-sources-AbCdEf"
		keyARN    = "arn:aws:kms:us-east-1:000000000000:key/quarantine"
		oldSecret = "aws-readmit-old-secret-01"
		newSecret = "aws-readmit-new-secret-01"
	)
	aws.AddTopic(topicARN, "")
	aws.AddQueue(queueARN, fakeaws.QueueOptions{})
	if err := aws.Subscribe(topicARN, fakeaws.Subscription{Protocol: "sqs", Endpoint: queueARN, RawMessageDelivery: true}); err != nil {
		t.Fatal(err)
	}
	config := func(secrets ...string) string {
		return `{"sources": {"github": {"scheme": "github", "secrets": ["` + strings.Join(secrets, `","`) + `"]}}}`
	}
	aws.AddSecret(secretARN, config(oldSecret))

	// The ingest side, as functions/ingest builds it.
	cfg := awsTestConfig(aws.URL)
	db := dynamodb.NewFromConfig(cfg)
	if err := ddbstore.CreateTable(ctx, db, "events"); err != nil {
		t.Fatal(err)
	}
	tableCalls, err := awsjson.New(ctx, cfg, awsjson.DynamoDB)
	if err != nil {
		t.Fatal(err)
	}
	quarantine, err := ddbkeep.New(tableCalls, "events")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := awsjson.New(ctx, cfg, awsjson.KMS)
	if err != nil {
		t.Fatal(err)
	}
	sources, err := source.Parse([]byte(config(oldSecret)))
	if err != nil {
		t.Fatal(err)
	}
	ingest := &lambdaio.IngestHandler{Log: slog.New(slog.DiscardHandler), Service: &pipeline.Ingest{
		Sources: sources, Publisher: failingPublisher{},
		Quarantine: &pipeline.Keeper{Store: quarantine, Quota: quarantine, Sealer: &kmsseal.Sealer{Client: keys, KeyID: keyARN}},
	}}
	body := `{"action":"opened","number":7}`
	h, err := sender.Sign(sender.Request{Scheme: sender.GitHub, Secret: newSecret, Body: []byte(body), Type: "issues", ContentType: "application/json"})
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	for k := range h {
		headers[strings.ToLower(k)] = h.Get(k)
	}
	resp, err := ingest.Handle(ctx, events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /webhooks/{source}", RawPath: "/webhooks/github", Headers: headers,
		PathParameters: map[string]string{"source": "github"}, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method: "POST", Path: "/webhooks/github", SourceIP: "198.51.100.7"}},
	})
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signed with a secret not configured yet: %d, %v; want 401", resp.StatusCode, err)
	}

	table := []string{"--table", "events", "--region", "us-east-1"}
	v, out := onlyRejection(t, append([]string{"--endpoint", aws.URL}, table...)...)
	if v.Source != "github" || v.Reason != "unauthorized" || v.SourceIP != "198.51.100.7" || v.BodySize != len(body) ||
		v.Headers["x-hub-signature-256"] != pipeline.Redacted || v.Headers["x-github-event"] != "issues" {
		t.Errorf("kept rejection: %+v", v)
	}
	got, err := cli(t, append([]string{"rejected", "get", v.ID}, table...)...)
	if err != nil || !strings.Contains(got, `{"action":"opened","number":7}`) || !strings.Contains(got, "readmitted  no: hookline rejected readmit "+v.ID) {
		t.Errorf("rejected get --table: %v\n%s", err, got)
	}
	for what, s := range map[string]string{"list": out, "get": got} {
		if strings.Contains(s, strings.TrimPrefix(h.Get("X-Hub-Signature-256"), "sha256=")) {
			t.Errorf("rejected %s --table shows the signature", what)
		}
	}

	readmit := append([]string{"rejected", "readmit", v.ID, "--topic-arn", topicARN, "--sources-secret", secretARN}, table...)
	out, err = cli(t, readmit...)
	if err == nil || !strings.Contains(out, "still refused: ") || !strings.Contains(out, "matches no secret") {
		t.Errorf("readmit before the secret is configured: %v\n%s", err, out)
	}
	aws.AddSecret(secretARN, config(oldSecret, newSecret))
	out, err = cli(t, readmit...)
	if err != nil || !strings.Contains(out, v.ID+"  readmitted: published as event ") {
		t.Fatalf("readmit after the secret is added: %v\n%s", err, out)
	}
	eventID := strings.TrimSpace(out[strings.LastIndex(out, " ")+1:])
	// The id ingest gives this delivery: GitHub's identity is the body hash, never a header.
	accepted, err := (&pipeline.Ingest{Sources: mustSources(t, config(newSecret)), Publisher: discardPublisher{}}).
		Accept(ctx, pipeline.IngestRequest{Source: "github", Header: headerMap(headers), Headers: headers, Body: []byte(body), Method: "POST"})
	if err != nil || accepted.ID != eventID {
		t.Errorf("readmitted as %s; ingest accepts the same request as %s (%v)", eventID, accepted.ID, err)
	}
	out, err = cli(t, readmit...)
	if err != nil || !strings.Contains(out, "already readmitted as event "+eventID+"; nothing published") {
		t.Errorf("second readmit: %v\n%s", err, out)
	}
	msgs := aws.Messages(queueARN)
	if len(msgs) != 1 {
		t.Fatalf("the topic's queue holds %d messages, want 1", len(msgs))
	}
	var env event.Event
	if err := json.Unmarshal([]byte(msgs[0].Body), &env); err != nil || env.ID != eventID || env.Type != "issues.opened" {
		t.Errorf("published %v (%v), want event %s of type issues.opened", env.ID, err, eventID)
	}
	out, err = cli(t, append([]string{"rejected", "list"}, table...)...)
	if err != nil || !strings.Contains(out, eventID) {
		t.Errorf("list after the readmit names no event: %v\n%s", err, out)
	}
}

// fakeAWS serves the AWS APIs on 127.0.0.1, DynamoDB by dynalite, and points every SDK client
// this process makes at it.
func fakeAWS(t *testing.T) *fakeaws.Server {
	t.Helper()
	s, err := fakeaws.Start(fakeaws.Options{DynamoDB: testenv.StartDynalite(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	t.Setenv("AWS_ENDPOINT_URL", s.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDOPERATOR")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return s
}

func awsTestConfig(endpoint string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDINGEST", "fake", "")}
}

func mustSources(t *testing.T, config string) *source.Set {
	t.Helper()
	s, err := source.Parse([]byte(config))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type headerMap map[string]string

func (h headerMap) Get(n string) string { return h[n] }

// failingPublisher would be the SNS topic; a refused request never reaches it.
type failingPublisher struct{}

func (failingPublisher) Publish(context.Context, pipeline.Message) error {
	panic("a refused request was published")
}

type discardPublisher struct{}

func (discardPublisher) Publish(context.Context, pipeline.Message) error { return nil }

// TestAWSEndpointFromTheEnvironment: without --endpoint, events list, dlq list and notify
// --pending reach the endpoint AWS_ENDPOINT_URL names, as rejected does (they used to set the
// clients' endpoint to nil, which sent them to AWS itself).
func TestAWSEndpointFromTheEnvironment(t *testing.T) {
	fake := fakeAWS(t)
	const dlqARN = "arn:aws:sqs:us-east-1:000000000000:hookline-dlq"
	queueURL := fake.AddQueue(dlqARN, fakeaws.QueueOptions{})
	if err := ddbstore.CreateTable(context.Background(), dynamodb.NewFromConfig(awsTestConfig(fake.URL)), "events"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"events", "list", "--table", "events"},
		{"dlq", "list", "--queue-url", queueURL},
		{"notify", "--pending", "--table", "events", "--topic-arn", "arn:aws:sns:us-east-1:000000000000:notifications"},
	} {
		if out, err := cli(t, args...); err != nil {
			t.Errorf("hookline %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
