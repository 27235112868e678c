package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"hookline/internal/fakeaws"
	"hookline/internal/testenv"
	"hookline/pkg/awsjson"
	"hookline/pkg/ddbstore"
	"hookline/pkg/kmsseal"
	"hookline/pkg/pipeline"
	"hookline/pkg/sender"
)

// The rehearsal's account, and the sources config the operator puts in the secret after the
// deploy (`aws secretsmanager put-secret-value`): one GitHub source.
const (
	rehearsalRegion  = "eu-west-1"
	rehearsalAccount = "123456789012"
	githubSecret     = "rehearsal-github-webhook-secret"
	harnessKey       = "AKIDREHEARSALHARNESS" // the harness's own setup and inspection calls
)

// TestAWSRehearsal deploys the synthesized stack onto fakes and runs one signed webhook
// through it with the four real bootstrap binaries: ingest → events topic → queue → subscriber
// → table → stream → notifier → notifications topic, then reads it back through history; then
// one whose body is too large for an SNS message, which ingest puts in the body bucket (the
// claim check) and history reads back from it.
//
// Everything the functions see comes from the template: their environment (references
// resolved to the fakes' names and ARNs, nothing renamed or added but what Lambda itself sets
// and the endpoint/credentials that point the SDK at the fakes), their routes, their event
// source mappings (batch size, window, filter, response types) and their roles: every AWS call
// a binary makes is checked against its role's policies, and refused as AWS would refuse it.
func TestAWSRehearsal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the four functions and runs them against dynalite (~1 min); run without -short")
	}
	// A bound on the whole run, far above its usual time, so a hang fails instead of waiting
	// for go test's own timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	started := time.Now()

	// The peer first: without dynalite this fails under CI=true (skips elsewhere) before the slow part.
	dynalite := testenv.StartDynalite(t)
	// The build runs while the stack synthesizes; on an early failure it is cancelled and
	// waited for before its directory goes.
	built, binDir := make(chan buildResult, 1), t.TempDir()
	var building sync.WaitGroup
	defer building.Wait()
	defer cancel()
	building.Add(1)
	go func() {
		defer building.Done()
		bins, err := buildBootstraps(ctx, binDir)
		built <- buildResult{bins, err}
	}()

	f := prod(t)
	r := newRehearsal(ctx, t, f, dynalite)
	b := <-built
	if b.err != nil {
		t.Fatal(b.err)
	}
	t.Logf("synthesized, built and deployed onto the fakes in %v", time.Since(started).Round(time.Millisecond))
	r.startFunctions(b.bins)
	r.run()
	r.checkCalls()
	r.checkIngestWritesOnlyTheQuarantine()
	t.Logf("rehearsal done in %v", time.Since(started).Round(time.Millisecond))
}

type buildResult struct {
	bins map[string]string
	err  error
}

// rehearsal is one deployment of the template onto the fakes.
type rehearsal struct {
	ctx      context.Context
	t        *testing.T
	tmpl     *cfnTemplate
	acct     *account
	fake     *fakeaws.Server
	dynalite string
	fns      map[string]*lambdaFunction // by name
	procs    map[string]*lambdaProcess  // by name

	mu   sync.Mutex
	keys map[string]*lambdaFunction // access key → the function whose role signs with it

	table, eventsTopic, notifyTopic, eventsQueue, secret, bucket string // resolved ARNs / names
	quarantineKey                                                string
	email                                                        string // the NotifyEmail parameter's default
}

func accessKey(fn, actor string) string {
	return "AKIDREHEARSAL" + strings.ToUpper(fn+actor)
}

func newRehearsal(ctx context.Context, t *testing.T, f *fixture, dynalite string) *rehearsal {
	t.Helper()
	r := &rehearsal{ctx: ctx, t: t, dynalite: dynalite, fns: map[string]*lambdaFunction{}, procs: map[string]*lambdaProcess{}, keys: map[string]*lambdaFunction{}}
	var err error
	if r.tmpl, err = newCfnTemplate(f.json); err != nil {
		t.Fatal(err)
	}
	r.fake, err = fakeaws.Start(fakeaws.Options{Region: rehearsalRegion, Account: rehearsalAccount, DynamoDB: dynalite, Authorize: r.authorize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.fake.Close)
	r.acct = &account{stack: *f.h.Stack.StackName(), region: rehearsalRegion, id: rehearsalAccount, fake: r.fake}

	for _, name := range functionNames {
		fn, err := r.acct.function(r.tmpl, name, f.logicalID(f.h.Functions[name]))
		if err != nil {
			t.Fatal(err)
		}
		r.fns[name] = fn
		r.mu.Lock()
		r.keys[accessKey(name, "")] = fn
		r.keys[accessKey(name, "mapping")] = fn // Lambda's pollers act with the function's role
		r.mu.Unlock()
	}
	names := map[*string]any{
		&r.table:         obj{"Ref": f.logicalID(f.h.Table)},
		&r.eventsTopic:   obj{"Ref": f.logicalID(f.h.EventsTopic)},
		&r.notifyTopic:   obj{"Ref": f.logicalID(f.h.NotificationsTopic)},
		&r.eventsQueue:   getAtt(f.logicalID(f.h.EventsQueue), "Arn"),
		&r.secret:        obj{"Ref": f.logicalID(f.h.SourcesSecret)},
		&r.bucket:        obj{"Ref": f.logicalID(f.h.BodyBucket)},
		&r.quarantineKey: getAtt(f.logicalID(f.h.QuarantineKey), "Arn"),
		&r.email:         obj{"Ref": "NotifyEmail"},
	}
	for dst, v := range names {
		if *dst, err = r.acct.str(r.tmpl, v); err != nil {
			t.Fatal(err)
		}
	}
	r.deploy()
	return r
}

// authorize judges a call by the policies of the role whose access key signed it.
func (r *rehearsal) authorize(key, action string, resources []string, keys fakeaws.Keys) error {
	if key == harnessKey {
		return nil
	}
	r.mu.Lock()
	fn := r.keys[key]
	r.mu.Unlock()
	if fn == nil {
		return fmt.Errorf("access key %s belongs to no function of the stack", key)
	}
	return fakeaws.Decide(fn.policy, action, resources, keys)
}

// deploy creates what the template declares: the table in dynalite (its keys and indexes), the
// topics with their keys and subscriptions, the queues with their redrive policies, the
// buckets, and the secret with its initial value; then the operator puts the real sources
// config.
func (r *rehearsal) deploy() {
	t, tmpl, a := r.t, r.tmpl, r.acct
	t.Helper()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("deploy %s: %v", what, err)
		}
	}
	for _, id := range tmpl.ofType("AWS::DynamoDB::Table") {
		p := tmpl.resources[id].Properties
		in := obj{"TableName": a.physical(id)}
		for _, k := range []string{"AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode"} {
			if v, ok := p[k]; ok {
				in[k] = v
			}
		}
		var ct dynamodb.CreateTableInput
		b, _ := json.Marshal(in)
		must(id, json.Unmarshal(b, &ct))
		_, err := testenv.DynamoDB(t, r.dynalite).CreateTable(r.ctx, &ct)
		must(id, err)
		for _, k := range ct.KeySchema {
			if k.KeyType == "HASH" {
				r.fake.DeclareTable(aws.ToString(ct.TableName), aws.ToString(k.AttributeName)) // for dynamodb:LeadingKeys
			}
		}
	}
	for _, id := range tmpl.ofType("AWS::SNS::Topic") {
		arn, err := a.str(tmpl, obj{"Ref": id})
		must(id, err)
		key := ""
		if k, ok := tmpl.resources[id].Properties["KmsMasterKeyId"]; ok {
			key, err = a.str(tmpl, k)
			must(id, err)
		}
		r.fake.AddTopic(arn, key)
	}
	for _, id := range tmpl.ofType("AWS::SQS::Queue") {
		p, err := a.resolve(tmpl, tmpl.resources[id].Properties)
		must(id, err)
		props := p.(map[string]any)
		arn, err := a.str(tmpl, getAtt(id, "Arn"))
		must(id, err)
		opts := fakeaws.QueueOptions{}
		if v, ok := props["VisibilityTimeout"].(float64); ok {
			opts.VisibilityTimeout = time.Duration(v) * time.Second
		}
		if rp, ok := props["RedrivePolicy"].(map[string]any); ok {
			opts.DeadLetterARN, _ = rp["deadLetterTargetArn"].(string)
			n, _ := rp["maxReceiveCount"].(float64)
			opts.MaxReceiveCount = int(n)
		}
		r.fake.AddQueue(arn, opts)
	}
	for _, id := range tmpl.ofType("AWS::SNS::Subscription") {
		p, err := a.resolve(tmpl, tmpl.resources[id].Properties)
		must(id, err)
		props := p.(map[string]any)
		sub := fakeaws.Subscription{}
		sub.Protocol, _ = props["Protocol"].(string)
		sub.Endpoint, _ = props["Endpoint"].(string)
		sub.RawMessageDelivery, _ = props["RawMessageDelivery"].(bool)
		if fp, ok := props["FilterPolicy"]; ok {
			b, _ := json.Marshal(fp)
			sub.FilterPolicy = string(b)
		}
		sub.FilterPolicyScope, _ = props["FilterPolicyScope"].(string)
		topic, _ := props["TopicArn"].(string)
		must(id, r.fake.Subscribe(topic, sub))
	}
	for _, id := range tmpl.ofType("AWS::S3::Bucket") {
		name, err := a.str(tmpl, obj{"Ref": id})
		must(id, err)
		r.fake.AddBucket(name)
	}
	for _, id := range tmpl.ofType("AWS::SecretsManager::Secret") {
		arn, err := a.str(tmpl, obj{"Ref": id})
		must(id, err)
		value, ok := tmpl.resources[id].Properties["SecretString"].(string)
		if !ok {
			t.Fatalf("deploy %s: only a SecretString is rehearsed", id)
		}
		r.fake.AddSecret(arn, value)
	}
	sources := `{"sources":{"github":{"scheme":"github","secrets":["` + githubSecret + `"]}}}`
	_, err := r.harnessSecrets().PutSecretValue(r.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(r.secret), SecretString: aws.String(sources)})
	must("the sources config", err)
}

func (r *rehearsal) harnessConfig() aws.Config {
	return aws.Config{Region: rehearsalRegion, Credentials: credentials.NewStaticCredentialsProvider(harnessKey, "rehearsal", "")}
}

func (r *rehearsal) harnessSecrets() *secretsmanager.Client {
	return secretsmanager.NewFromConfig(r.harnessConfig(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(r.fake.URL) })
}

// startFunctions starts every bootstrap; each stays up, warm, until the test ends.
func (r *rehearsal) startFunctions(bins map[string]string) {
	t := r.t
	t.Helper()
	for _, name := range functionNames {
		fn := r.fns[name]
		fnName, err := r.acct.str(r.tmpl, obj{"Ref": fn.id})
		if err != nil {
			t.Fatal(err)
		}
		fnARN, err := r.acct.str(r.tmpl, getAtt(fn.id, "Arn"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := startFunction(fn, fnName, fnARN, bins[name], rehearsalRegion, accessKey(name, ""), r.fake.URL, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.stop)
		r.procs[name] = p
	}
}

// run is the journey of one webhook, hop by hop.
func (r *rehearsal) run() {
	t, ctx := r.t, r.ctx
	routes, err := r.acct.routes(r.tmpl)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*lambdaProcess{}
	for name, p := range r.procs {
		byID[r.fns[name].id] = p
	}
	gw := &apiGateway{routes: routes, region: rehearsalRegion, account: rehearsalAccount, procs: byID}

	// Hop 1: a GitHub-signed webhook through the template's route to ingest.
	body := []byte(`{"action":"opened","number":42,"repository":{"full_name":"acme/hookline"}}`)
	header, resp := r.postGitHub(gw, sender.Request{Secret: githubSecret, Body: body, Type: "pull_request", DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958"})
	var accepted struct{ ID, Status string }
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal([]byte(resp.Body), &accepted) != nil || accepted.ID == "" || accepted.Status != "accepted" {
		t.Fatalf("ingest answered %d %s, want 202 with an id\nlogs:\n%s", resp.StatusCode, resp.Body, logTail(r.procs[fnIngest].logs))
	}
	id := accepted.ID
	t.Logf("hop 1 ingest: 202 %s", resp.Body)

	// Hop 2: the events topic got the CloudEvents envelope, with the attributes subscribers filter on.
	published := r.fake.Deliveries(r.eventsTopic)
	if len(published) != 1 {
		t.Fatalf("events topic deliveries %+v, want one (to the events queue)", published)
	}
	var envelope struct {
		ID, Source, Type, Specversion string
		Data                          json.RawMessage
	}
	if err := json.Unmarshal([]byte(published[0].Message), &envelope); err != nil {
		t.Fatalf("events topic message %q is not JSON: %v", published[0].Message, err)
	}
	if envelope.ID != id || envelope.Source != "github" || envelope.Type != "pull_request.opened" || envelope.Specversion != "1.0" || !jsonEqual(envelope.Data, body) {
		t.Errorf("events topic message %s, want the CloudEvents envelope of %s with the body as data", published[0].Message, id)
	}
	// GitHub types name the body's action (issue 16): X-GitHub-Event pull_request + "opened".
	if a := published[0].Attributes; a["source"] != "github" || a["type"] != "pull_request.opened" {
		t.Errorf("events topic message attributes %v, want source=github type=pull_request.opened", a)
	}
	t.Logf("hop 2 events topic: %s", published[0].Message)

	// Hop 3: the queue holds the same bytes (raw delivery). A message some other publisher put
	// on the topic goes with it: the subscriber must reject it alone.
	r.publishForeign()
	queued := r.fake.Messages(r.eventsQueue)
	if len(queued) != 2 || queued[0].Body != published[0].Message {
		t.Fatalf("events queue holds %+v, want the event's envelope as is, then the foreign message", queued)
	}
	t.Logf("hop 3 events queue: %d messages, the first the envelope byte for byte", len(queued))

	// Hop 4: the SQS event source mapping delivers one batch to the subscriber.
	sm, err := r.acct.mappingOf(r.tmpl, r.fns[fnSubscriber].id)
	if err != nil {
		t.Fatal(err)
	}
	queue := newQueuePoller(sm, r.fake.URL, r.fake.QueueURL(sm.source), rehearsalRegion, accessKey(fnSubscriber, "mapping"), r.procs[fnSubscriber])
	if err := queue.check(ctx); err != nil {
		t.Fatalf("the subscriber's event source mapping cannot read its queue: %v", err)
	}
	round, err := queue.round(ctx, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(round.delivered) != 2 {
		t.Fatalf("the subscriber got %d messages in one batch (batch size %d, window %v), want both", len(round.delivered), sm.batchSize, sm.window)
	}
	foreign := round.delivered[1].MessageId
	if f := round.response.BatchItemFailures; len(f) != 1 || f[0].ItemIdentifier != foreign {
		t.Errorf("subscriber batch item failures %+v, want exactly the foreign message %s", f, foreign)
	}
	left := r.fake.Messages(r.eventsQueue)
	if len(left) != 1 || left[0].ID != foreign || left[0].Visible {
		t.Errorf("after the batch the queue holds %+v, want only the foreign message, invisible until its retry (ReportBatchItemFailures=%v)", left, sm.reportItemFailures)
	}
	t.Logf("hop 4 subscriber: batch of %d, failures %+v", len(round.delivered), round.response.BatchItemFailures)

	// Hop 5: the table's stream, filtered by the notifier mapping's own FilterCriteria.
	nm, err := r.acct.mappingOf(r.tmpl, r.fns[fnNotifier].id)
	if err != nil {
		t.Fatal(err)
	}
	stream := r.stream(nm)
	first, err := pollStream(ctx, nm, stream.Poll, r.procs[fnNotifier])
	if err != nil {
		t.Fatal(err)
	}
	// The stream holds the event's INSERT and the history registry's (the control item ~groups,
	// written the first time an event of a new source and type group is stored); the notifier's
	// filter must pass the event alone.
	var events, control int
	for _, rec := range first.records {
		keyID, _ := rec["dynamodb"].(map[string]any)["Keys"].(map[string]any)["id"].(map[string]any)["S"].(string)
		switch {
		case rec["eventName"] != "INSERT":
		case keyID == id:
			events++
		case strings.HasPrefix(keyID, "~"):
			control++
		}
	}
	if events != 1 || control != 1 || len(first.records) != 2 || len(first.delivered) != 1 {
		t.Fatalf("stream records %v, delivered %d; want the event's INSERT and the registry's, only the event delivered", first.records, len(first.delivered))
	}
	img := first.delivered[0]["dynamodb"].(map[string]any)["NewImage"].(map[string]any)
	if img["id"].(map[string]any)["S"] != id || img["source"].(map[string]any)["S"] != "github" {
		t.Errorf("stream image %v, want the stored event %s", img, id)
	}
	t.Logf("hop 5 stream: INSERT of %s delivered to the notifier", id)

	// Hop 6: the notification topic got the email, for the subscribed address.
	mails := r.fake.Deliveries(r.notifyTopic)
	if len(mails) != 1 || mails[0].Protocol != "email" || mails[0].Endpoint != r.email ||
		!strings.Contains(mails[0].Message, id) || mails[0].Subject == "" {
		t.Fatalf("notification topic deliveries %+v, want one email to %s naming %s", mails, r.email, id)
	}
	t.Logf("hop 6 notifications topic: email to %s, subject %q", mails[0].Endpoint, mails[0].Subject)

	// The notifier marked the event notified: a MODIFY, which the template's filter must drop.
	second, err := pollStream(ctx, nm, stream.Poll, r.procs[fnNotifier])
	if err != nil {
		t.Fatal(err)
	}
	if len(second.records) != 1 || second.records[0]["eventName"] != "MODIFY" {
		t.Fatalf("after notifying, stream records %v, want one MODIFY (notified_at set)", second.records)
	}
	if len(second.delivered) != 0 {
		t.Errorf("the notifier mapping's filter %v delivered the MODIFY: marking notified would trigger the notifier again", nm.patterns)
	}
	if n := r.procs[fnNotifier].count(); n != 1 {
		t.Errorf("the notifier was invoked %d times, want once", n)
	}

	// A retried delivery: same id, stored once, no new stream record, no second email.
	resp, err = gw.do(ctx, http.MethodPost, "/webhooks/github", header, body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(resp.Body, id) {
		t.Errorf("the retried delivery got %d %s, want 202 with the same id %s", resp.StatusCode, resp.Body, id)
	}
	if round, err = queue.round(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	} else if len(round.delivered) != 1 || len(round.response.BatchItemFailures) != 0 {
		t.Errorf("the retried delivery reached the subscriber as %d messages, failures %+v; want one, stored as a duplicate", len(round.delivered), round.response.BatchItemFailures)
	}
	if third, err := pollStream(ctx, nm, stream.Poll, r.procs[fnNotifier]); err != nil {
		t.Fatal(err)
	} else if len(third.records) != 0 {
		t.Errorf("the duplicate changed the table: stream records %v", third.records)
	}
	if n := len(r.fake.Deliveries(r.notifyTopic)); n != 1 {
		t.Errorf("%d emails after the retried delivery, want still 1", n)
	}

	r.refused(gw, nm, stream)

	// History, through the IAM-authorized routes: the event, stored and notified.
	resp, err = gw.do(ctx, http.MethodGet, "/events/"+id, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var view struct {
		ID         string     `json:"id"`
		Type       string     `json:"type"`
		Status     string     `json:"status"`
		StoredAt   time.Time  `json:"stored_at"`
		NotifiedAt *time.Time `json:"notified_at"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &view) != nil || view.ID != id || view.Type != envelope.Type || view.StoredAt.IsZero() || view.NotifiedAt == nil {
		t.Errorf("GET /events/%s: %d %s, want the event stored and notified", id, resp.StatusCode, resp.Body)
	}
	resp, err = gw.do(ctx, http.MethodGet, "/events?source=github&limit=10", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Events []struct {
			ID string `json:"id"`
		} `json:"events"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &list) != nil || len(list.Events) != 1 || list.Events[0].ID != id {
		t.Errorf("GET /events?source=github: %d %s, want exactly %s", resp.StatusCode, resp.Body, id)
	}
	t.Logf("history: GET /events/%s → %s, notified at %v", id, view.Status, view.NotifiedAt)

	r.claimCheck(gw, queue, nm, stream)
	r.checkMappingPermissions(sm, nm)
}

// postGitHub signs req as GitHub does (its Scheme is set here) and posts it through the
// template's route to ingest; the header is returned for a retried delivery.
func (r *rehearsal) postGitHub(gw *apiGateway, req sender.Request) (http.Header, events.APIGatewayV2HTTPResponse) {
	r.t.Helper()
	req.Scheme = sender.GitHub
	header, err := sender.Sign(req)
	if err != nil {
		r.t.Fatal(err)
	}
	resp, err := gw.do(r.ctx, http.MethodPost, "/webhooks/github", header, req.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return header, resp
}

// claimCheck sends a signed webhook whose body is over the SNS message limit: ingest puts it
// in the body bucket (s3:PutObject, the bucket named by its environment) and publishes an
// envelope that names it, which travels as the first did; history reads the body back from
// the bucket (s3:GetObject) into GET /events/{id}.
func (r *rehearsal) claimCheck(gw *apiGateway, queue *queuePoller, nm *eventSourceMapping, stream *fakeaws.Stream) {
	t, ctx := r.t, r.ctx
	body := []byte(`{"action":"opened","number":44,"repository":{"full_name":"acme/hookline"},"diff":"` +
		strings.Repeat("+a line of a large diff\\n", pipeline.MaxMessageBytes/24+1) + `"}`)
	_, resp := r.postGitHub(gw, sender.Request{Secret: githubSecret, Body: body, Type: "pull_request", DeliveryID: "a1b2c3d4-cc78-11e3-81ab-4c9367dc0958"})
	var accepted struct{ ID string }
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal([]byte(resp.Body), &accepted) != nil || accepted.ID == "" {
		t.Fatalf("a %d-byte body: ingest answered %d %s, want 202 with an id\nlogs:\n%s", len(body), resp.StatusCode, resp.Body, logTail(r.procs[fnIngest].logs))
	}
	id := accepted.ID

	// The envelope names the object instead of carrying the body; the bucket holds the body.
	published := r.fake.Deliveries(r.eventsTopic)
	var envelope struct {
		ID, DataRef string
		Data        json.RawMessage
	}
	last := published[len(published)-1].Message
	if err := json.Unmarshal([]byte(last), &envelope); err != nil || envelope.ID != id || envelope.Data != nil {
		t.Fatalf("events topic message %.300s (%v), want the envelope of %s without its data", last, err, id)
	}
	key, ok := strings.CutPrefix(envelope.DataRef, "s3://"+r.bucket+"/")
	if !ok {
		t.Fatalf("the envelope's dataref %q is not an object of the body bucket %s", envelope.DataRef, r.bucket)
	}
	if o, ok := r.fake.Object(r.bucket, key); !ok || string(o.Body) != string(body) {
		t.Fatalf("the body bucket holds %d bytes under %s (%v), want the %d-byte body", len(o.Body), key, ok, len(body))
	}
	t.Logf("claim check: %d-byte body in s3://%s/%s, a %d-byte envelope on the events topic", len(body), r.bucket, key, len(last))

	// Queue → subscriber → table → stream → notifier, as the first event went.
	round, err := queue.round(ctx, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(round.delivered) != 1 || len(round.response.BatchItemFailures) != 0 {
		t.Fatalf("the claim-checked event reached the subscriber as %d messages, failures %+v; want one, stored", len(round.delivered), round.response.BatchItemFailures)
	}
	sr, err := pollStream(ctx, nm, stream.Poll, r.procs[fnNotifier])
	if err != nil {
		t.Fatal(err)
	}
	if len(sr.delivered) != 1 {
		t.Fatalf("stream records %v, %d delivered; want the claim-checked event's INSERT delivered", sr.records, len(sr.delivered))
	}
	if mails := r.fake.Deliveries(r.notifyTopic); len(mails) != 2 || !strings.Contains(mails[1].Message, id) {
		t.Fatalf("notification topic deliveries %+v, want a second email, naming %s", mails, id)
	}
	if _, err := pollStream(ctx, nm, stream.Poll, r.procs[fnNotifier]); err != nil { // the notifier's MODIFY
		t.Fatal(err)
	}

	// History reads the body back from the bucket.
	resp, err = gw.do(ctx, http.MethodGet, "/events/"+id, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var view struct {
		ID      string          `json:"id"`
		Data    json.RawMessage `json:"data"`
		DataRef string          `json:"dataref"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &view) != nil || view.ID != id ||
		view.DataRef != envelope.DataRef || !jsonEqual(view.Data, body) {
		t.Fatalf("GET /events/%s: %d %.300s, want the event with its %d-byte body read from %s\nhistory logs:\n%s",
			id, resp.StatusCode, resp.Body, len(body), envelope.DataRef, logTail(r.procs[fnHistory].logs))
	}
	t.Logf("claim check: GET /events/%s → the body from %s", id, envelope.DataRef)

	// The bucket's lifecycle removes the body while DynamoDB's TTL has yet to delete the event
	// (it may take days): S3 says NoSuchKey only to a role that may list the bucket, so without
	// s3:ListBucket history would get AccessDenied and answer 500.
	r.fake.RemoveObject(r.bucket, key)
	resp, err = gw.do(ctx, http.MethodGet, "/events/"+id, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var problem struct{ Detail string }
	if resp.StatusCode != http.StatusNotFound || json.Unmarshal([]byte(resp.Body), &problem) != nil || !strings.Contains(problem.Detail, "has expired") {
		t.Fatalf("GET /events/%s after its body expired: %d %.300s, want a 404 problem saying the event expired\nhistory logs:\n%s",
			id, resp.StatusCode, resp.Body, logTail(r.procs[fnHistory].logs))
	}
	t.Logf("claim check: its body expired, GET /events/%s → %d %s", id, resp.StatusCode, problem.Detail)
}

// refused sends a request signed with a wrong secret: ingest answers 401 and keeps it in the
// quarantine (a counter item and the rejection, two INSERTs the notifier's stream filter must
// drop), with its signature sealed under the quarantine key, which the operator opens.
func (r *rehearsal) refused(gw *apiGateway, nm *eventSourceMapping, stream *fakeaws.Stream) {
	t, ctx := r.t, r.ctx
	body := []byte(`{"action":"closed","number":43}`)
	header, resp := r.postGitHub(gw, sender.Request{Secret: "rotated-wrongly-0123456789", Body: body, Type: "issues"})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong secret: ingest answered %d %s, want 401", resp.StatusCode, resp.Body)
	}
	round, err := pollStream(ctx, nm, stream.Poll, r.procs[fnNotifier])
	if err != nil {
		t.Fatal(err)
	}
	if len(round.records) != 2 || len(round.delivered) != 0 {
		t.Errorf("after a refused request: stream records %v, %d delivered; want two INSERTs (counter, rejection), none delivered", round.records, len(round.delivered))
	}
	if n := r.procs[fnNotifier].count(); n != 1 {
		t.Errorf("the notifier was invoked %d times, want still once", n)
	}
	client := dynamodb.NewFromConfig(r.harnessConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(r.fake.URL) })
	quarantine, err := ddbstore.NewRejected(client, r.table)
	if err != nil {
		t.Fatal(err)
	}
	page, err := quarantine.List(ctx, pipeline.RejectedQuery{Source: "github"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Rejections) != 1 {
		t.Fatalf("the quarantine holds %d rejections of github, want 1\ningest logs:\n%s", len(page.Rejections), logTail(r.procs[fnIngest].logs))
	}
	kept := page.Rejections[0]
	signature := header.Get("X-Hub-Signature-256")
	if kept.Reason != pipeline.ReasonUnauthorized || kept.Header["x-hub-signature-256"] != pipeline.Redacted || string(kept.Body) != string(body) {
		t.Errorf("kept %+v", kept)
	}
	operatorConfig := r.harnessConfig()
	operatorConfig.BaseEndpoint = aws.String(r.fake.URL)
	keys, err := awsjson.New(ctx, operatorConfig, awsjson.KMS)
	if err != nil {
		t.Fatal(err)
	}
	opener := &kmsseal.Opener{Client: keys}
	if h, err := pipeline.Unredact(ctx, kept, opener); err != nil || h["x-hub-signature-256"] != signature {
		t.Errorf("the operator opens the sealed signature as %q (%v), want %q", h["x-hub-signature-256"], err, signature)
	}
	t.Logf("refused: 401, kept as %s, its two INSERTs filtered out of the notifier's stream", kept.ID)
}

// publishForeign puts a message that is no hookline event on the events topic, as another
// team's publisher might.
func (r *rehearsal) publishForeign() {
	r.t.Helper()
	c := sns.NewFromConfig(r.harnessConfig(), func(o *sns.Options) { o.BaseEndpoint = aws.String(r.fake.URL) })
	if _, err := c.Publish(r.ctx, &sns.PublishInput{TopicArn: aws.String(r.eventsTopic), Message: aws.String("not a hookline event")}); err != nil {
		r.t.Fatalf("publish a foreign message: %v", err)
	}
}

// stream emulates the table's stream with the view type the template asks for.
func (r *rehearsal) stream(m *eventSourceMapping) *fakeaws.Stream {
	t := r.t
	t.Helper()
	var tableID string
	for _, id := range r.tmpl.ofType("AWS::DynamoDB::Table") {
		if arn, _ := r.acct.str(r.tmpl, getAtt(id, "StreamArn")); arn == m.source {
			tableID = id
		}
	}
	if tableID == "" {
		t.Fatalf("mapping %s reads %s, the stream of no table of the stack", m.id, m.source)
	}
	p := r.tmpl.resources[tableID].Properties
	spec, _ := p["StreamSpecification"].(map[string]any)
	view, _ := spec["StreamViewType"].(string)
	if view == "" {
		t.Fatalf("table %s has no stream", tableID)
	}
	var keys []string
	for _, k := range p["KeySchema"].([]any) {
		keys = append(keys, k.(map[string]any)["AttributeName"].(string))
	}
	return &fakeaws.Stream{Endpoint: r.dynalite, Table: r.acct.physical(tableID), Keys: keys, ViewType: view, ARN: m.source,
		Region: rehearsalRegion, Credentials: aws.Credentials{AccessKeyID: harnessKey, SecretAccessKey: "rehearsal"}}
}

// checkMappingPermissions checks what Lambda does with the function's role on its behalf and
// the rehearsal cannot call: read the stream, and send records that fail every retry to the
// on-failure destination.
func (r *rehearsal) checkMappingPermissions(sqsMapping, streamMapping *eventSourceMapping) {
	t := r.t
	notifier := r.fns[fnNotifier]
	needs := []struct{ action, resource string }{
		{"dynamodb:DescribeStream", streamMapping.source},
		{"dynamodb:GetRecords", streamMapping.source},
		{"dynamodb:GetShardIterator", streamMapping.source},
		{"dynamodb:ListStreams", "*"},
	}
	if streamMapping.onFailure != "" {
		needs = append(needs, struct{ action, resource string }{"sqs:SendMessage", streamMapping.onFailure})
	}
	for _, n := range needs {
		if err := fakeaws.Decide(notifier.policy, n.action, []string{n.resource}, nil); err != nil {
			t.Errorf("notifier's stream mapping: %v", err)
		}
	}
	if !streamMapping.reportItemFailures || !sqsMapping.reportItemFailures {
		t.Errorf("both mappings must report batch item failures: the handlers answer with them (sqs %v, stream %v)",
			sqsMapping.reportItemFailures, streamMapping.reportItemFailures)
	}
}

// checkIngestWritesOnlyTheQuarantine: ingest faces the internet, so its role may write the
// quarantine's items (checkCalls saw the real binary do it) and nothing else: not an event,
// not a mark on one, not the history registry.
func (r *rehearsal) checkIngestWritesOnlyTheQuarantine() {
	t := r.t
	ingest, table := r.fns[fnIngest], r.fake.TableARN(r.table)
	for _, tc := range []struct {
		action string
		keys   []string
		allow  bool
	}{
		{"dynamodb:PutItem", []string{ddbstore.RejectedPrefix + "0b9c4f0e-5a4e-5d6f-9c1b-1f2e3d4c5b6a"}, true},
		{"dynamodb:UpdateItem", []string{ddbstore.KeptCounterPrefix + "29401234#github"}, true},
		{"dynamodb:PutItem", []string{"0b9c4f0e-5a4e-5d6f-9c1b-1f2e3d4c5b6a"}, false}, // a forged event
		{"dynamodb:UpdateItem", []string{"0b9c4f0e-5a4e-5d6f-9c1b-1f2e3d4c5b6a"}, false},
		{"dynamodb:PutItem", []string{ddbstore.RejectedPrefix + "x", "0b9c4f0e-5a4e-5d6f-9c1b-1f2e3d4c5b6a"}, false},
		{"dynamodb:PutItem", []string{fakeaws.Unknowable}, false},
	} {
		err := fakeaws.Decide(ingest.policy, tc.action, []string{table}, fakeaws.Keys{"dynamodb:LeadingKeys": tc.keys})
		if tc.allow != (err == nil) {
			t.Errorf("ingest's role, %s on keys %q: %v; want allowed = %v", tc.action, tc.keys, err, tc.allow)
		}
	}
}

// checkCalls: every call was allowed by the caller's role, and each function made the calls
// its job needs, on the template's resources.
func (r *rehearsal) checkCalls() {
	t := r.t
	type use struct{ who, action, resource string }
	counts, denied := map[use]int{}, map[use]bool{}
	who := map[string]string{harnessKey: "harness"}
	for _, name := range functionNames {
		who[accessKey(name, "")] = name
		who[accessKey(name, "mapping")] = name + " (event source mapping)"
	}
	for _, c := range r.fake.Calls() {
		if c.AccessKey == harnessKey {
			continue
		}
		if c.Denied != nil {
			t.Errorf("%s was refused %s on %v: %v", cmpOr(who[c.AccessKey], c.AccessKey), c.Action, c.Resources, c.Denied)
		}
		for _, res := range c.Resources {
			u := use{cmpOr(who[c.AccessKey], c.AccessKey), c.Action, res}
			counts[u]++
			denied[u] = denied[u] || c.Denied != nil
		}
	}
	if u := r.fake.Unanswered(); len(u) > 0 {
		t.Errorf("calls the fakes do not serve: %v", u)
	}
	tableARN := r.fake.TableARN(r.table)
	want := []use{
		{fnIngest, "secretsmanager:GetSecretValue", r.secret},
		{fnIngest, "sns:Publish", r.eventsTopic},
		{fnSubscriber, "dynamodb:PutItem", tableARN},
		{fnSubscriber, "dynamodb:UpdateItem", tableARN}, // the history registry (pkg/ddbstore)
		{fnNotifier, "dynamodb:GetItem", tableARN},
		{fnNotifier, "sns:Publish", r.notifyTopic},
		{fnNotifier, "dynamodb:UpdateItem", tableARN},
		{fnHistory, "dynamodb:GetItem", tableARN},
		{fnHistory, "dynamodb:Query", tableARN + "/index/by_group"},
		{fnHistory, "dynamodb:BatchGetItem", tableARN},
		{fnIngest, "dynamodb:UpdateItem", tableARN}, // the quarantine's counter
		{fnIngest, "dynamodb:PutItem", tableARN},    // the kept rejection
		{fnIngest, "kms:GenerateDataKey", r.quarantineKey},
		{fnSubscriber + " (event source mapping)", "sqs:ReceiveMessage", r.eventsQueue},
		{fnSubscriber + " (event source mapping)", "sqs:DeleteMessage", r.eventsQueue},
	}
	for _, c := range r.fake.Calls() { // the claim check's object, whose key names the event
		if c.Action == "s3:PutObject" && len(c.Resources) == 1 {
			object := c.Resources[0]
			want = append(want, use{fnIngest, "s3:PutObject", object}, use{fnHistory, "s3:GetObject", object})
			break
		}
	}
	if !slices.ContainsFunc(want, func(u use) bool { return u.action == "s3:PutObject" }) {
		t.Errorf("%s never called s3:PutObject", fnIngest)
	}
	for _, w := range want {
		if counts[w] == 0 {
			t.Errorf("%s never called %s on %s", w.who, w.action, w.resource)
		}
	}
	var lines []string
	for u, n := range counts {
		verdict := "allowed"
		if denied[u] {
			verdict = "REFUSED"
		}
		lines = append(lines, fmt.Sprintf("%-34s %-30s %4d× %s %s", u.who, u.action, n, verdict, u.resource))
	}
	sort.Strings(lines)
	t.Logf("AWS calls by role, judged by the template's policies:\n%s", strings.Join(lines, "\n"))
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
