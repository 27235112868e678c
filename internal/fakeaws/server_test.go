package fakeaws

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const (
	topicARN = "arn:aws:sns:us-east-1:000000000000:events"
	keyARN   = "arn:aws:kms:us-east-1:000000000000:key/k"
	queueARN = "arn:aws:sqs:us-east-1:000000000000:events"
	dlqARN   = "arn:aws:sqs:us-east-1:000000000000:events-dlq"
	rawARN   = "arn:aws:sqs:us-east-1:000000000000:raw"
)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func config(key string) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, "secret", "")}
}

func snsClient(s *Server, key string) *sns.Client {
	return sns.NewFromConfig(config(key), func(o *sns.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

func sqsClient(s *Server, key string) *sqs.Client {
	return sqs.NewFromConfig(config(key), func(o *sqs.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

func TestPublishFansOutToQueuesAndRecordsDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := start(t, Options{})
	s.AddTopic(topicARN, "")
	url := s.AddQueue(queueARN, QueueOptions{})
	s.AddQueue(rawARN, QueueOptions{})
	for _, sub := range []Subscription{
		{Protocol: "sqs", Endpoint: queueARN},
		{Protocol: "sqs", Endpoint: rawARN, RawMessageDelivery: true, FilterPolicy: `{"source":["github"]}`},
		{Protocol: "email", Endpoint: "ops@example.com"},
	} {
		if err := s.Subscribe(topicARN, sub); err != nil {
			t.Fatal(err)
		}
	}
	pub := snsClient(s, "AKIDPUBLISHER")
	for _, src := range []string{"github", "stripe"} {
		_, err := pub.Publish(ctx, &sns.PublishInput{
			TopicArn: aws.String(topicARN), Message: aws.String(`{"n":1}`), Subject: aws.String("hello"),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{"source": {DataType: aws.String("String"), StringValue: aws.String(src)}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The filter policy lets only github through to the raw queue, as its body and attributes.
	raw := s.Messages(rawARN)
	if len(raw) != 1 || raw[0].Body != `{"n":1}` || raw[0].Attributes["source"] != "github" {
		t.Errorf("raw queue holds %+v, want the github message only, raw", raw)
	}
	// Without raw delivery the body is the SNS envelope; the SDK client receives it.
	out, err := sqsClient(s, "AKIDCONSUMER").ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 2 || !strings.Contains(aws.ToString(out.Messages[0].Body), `"Type":"Notification"`) {
		t.Errorf("enveloped queue received %d messages, first %q", len(out.Messages), aws.ToString(out.Messages[0].Body))
	}
	emails := 0
	for _, d := range s.Deliveries(topicARN) {
		if d.Protocol == "email" && d.Endpoint == "ops@example.com" && d.Subject == "hello" {
			emails++
		}
	}
	if emails != 2 {
		t.Errorf("%d email deliveries, want 2: %+v", emails, s.Deliveries(topicARN))
	}
	if n := s.Count("sns:Publish"); n != 2 {
		t.Errorf("sns:Publish counted %d times, want 2", n)
	}
}

func TestAuthorizerRefusalsAnswerLikeAWS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var asked []string
	s := start(t, Options{Authorize: func(key, action string, res []string, _ Keys) error {
		asked = append(asked, key+" "+action+" "+strings.Join(res, ","))
		if action == "kms:Decrypt" {
			return errors.New("no kms:Decrypt")
		}
		return nil
	}})
	s.AddTopic(topicARN, keyARN)
	_, err := snsClient(s, "AKIDINGEST").Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String("m")})
	if err == nil || !strings.Contains(err.Error(), "AuthorizationError") || !strings.Contains(err.Error(), "kms:Decrypt") {
		t.Fatalf("publish to an encrypted topic without kms:Decrypt: %v, want AuthorizationError naming kms:Decrypt", err)
	}
	want := []string{"AKIDINGEST sns:Publish " + topicARN, "AKIDINGEST kms:GenerateDataKey " + keyARN, "AKIDINGEST kms:Decrypt " + keyARN}
	if strings.Join(asked, "\n") != strings.Join(want, "\n") {
		t.Errorf("the authorizer was asked\n%s\nwant\n%s", strings.Join(asked, "\n"), strings.Join(want, "\n"))
	}
	calls := s.Calls()
	if len(calls) != 3 || calls[2].Denied == nil || calls[2].Via != "sns:Publish" {
		t.Errorf("calls %+v, want the implied kms:Decrypt recorded as denied via sns:Publish", calls)
	}

	sm := secretsmanager.NewFromConfig(config("AKIDINGEST"), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(s.URL) })
	s.AddSecret("arn:aws:secretsmanager:us-east-1:000000000000:secret:sources-AbCdEf", `{"sources":{}}`)
	got, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("sources")})
	if err != nil || aws.ToString(got.SecretString) != `{"sources":{}}` {
		t.Fatalf("get the secret by name: %v %v", got, err)
	}
	if last := s.Calls()[len(s.Calls())-1]; last.Resources[0] != "arn:aws:secretsmanager:us-east-1:000000000000:secret:sources-AbCdEf" {
		t.Errorf("a secret read by name is authorized on %v, want its ARN", last.Resources)
	}
}

func TestQueueVisibilityAndRedrive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := start(t, Options{})
	s.AddQueue(dlqARN, QueueOptions{})
	url := s.AddQueue(queueARN, QueueOptions{VisibilityTimeout: time.Second, DeadLetterARN: dlqARN, MaxReceiveCount: 2})
	c := sqsClient(s, "AKIDCONSUMER")
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	receive := func(wait int32) []sqstypes.Message {
		t.Helper()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: wait,
			VisibilityTimeout: 0, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	first := receive(0)
	if len(first) != 1 || first[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("first receive %+v", first)
	}
	if again := receive(0); len(again) != 0 {
		t.Fatalf("received %d messages while the first receive holds it", len(again))
	}
	// Released at once: the second receive sees it again, counted.
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: first[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	second := receive(1)
	if len(second) != 1 || second[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("second receive %+v", second)
	}
	// After maxReceiveCount receives, the next receive (a long poll that outlasts the 1 s
	// visibility timeout) moves it to the DLQ instead of handing it out.
	if third := receive(2); len(third) != 0 {
		t.Fatalf("received %+v after maxReceiveCount", third)
	}
	if dl := s.Messages(dlqARN); len(dl) != 1 || dl[0].Body != "poison" || dl[0].SourceARN != queueARN {
		t.Fatalf("DLQ holds %+v, want the poison message from %s", dl, queueARN)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: second[0].ReceiptHandle}); err == nil {
		t.Error("deleting a message that moved to the DLQ succeeded")
	}
}

func TestEmptyDynamoDBAndUnsigned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := start(t, Options{})
	db := dynamodb.NewFromConfig(config("AKIDHISTORY"), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(s.URL) })
	out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("events"), IndexName: aws.String("by_source"),
		KeyConditionExpression: aws.String("#s = :s"), ExpressionAttributeNames: map[string]string{"#s": "source"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": &ddbtypes.AttributeValueMemberS{Value: "github"}}})
	if err != nil || out.Count != 0 {
		t.Fatalf("query: %v %v", out, err)
	}
	c := s.Calls()
	if len(c) != 1 || c[0].Action != "dynamodb:Query" || c[0].Resources[0] != s.TableARN("events")+"/index/by_source" || c[0].AccessKey != "AKIDHISTORY" {
		t.Errorf("calls %+v, want one dynamodb:Query on the index by AKIDHISTORY", c)
	}
	if _, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("events")}); err == nil || len(s.Unanswered()) != 1 {
		t.Errorf("a Scan of the empty table: %v, unanswered %v; want an error and one unanswered call", err, s.Unanswered())
	}
}

// TestDynamoDBLeadingKeys: each DynamoDB call reaches the Authorizer with the partition key
// values it touches, read from a declared table's Key, Item or batch; a call whose keys the
// fake cannot read, or on a table it was not told of, gets Unknowable.
func TestDynamoDBLeadingKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var got []string
	s := start(t, Options{Authorize: func(_, action string, _ []string, keys Keys) error {
		got = append(got, action+" "+strings.Join(keys["dynamodb:LeadingKeys"], ","))
		return nil
	}})
	s.DeclareTable("events", "id")
	db := dynamodb.NewFromConfig(config("AKIDINGEST"), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(s.URL) })
	str := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	id := func(v string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"id": str(v)}
	}
	calls := []func() error{
		func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("events"), Item: map[string]ddbtypes.AttributeValue{"id": str("~rejected#1"), "body": str("x")}})
			return err
		},
		func() error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("events"), Key: id("~kept#9#github"), UpdateExpression: aws.String("SET n = :n"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":n": &ddbtypes.AttributeValueMemberN{Value: "1"}}})
			return err
		},
		func() error {
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("events"), Key: id("e1")})
			return err
		},
		func() error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("events"), KeyConditionExpression: aws.String("id = :id"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":id": str("e1")}})
			return err
		},
		func() error {
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("other"), Key: id("e1")})
			return err
		},
		func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("events"), Item: map[string]ddbtypes.AttributeValue{"pk": str("no id")}})
			return err
		},
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	// The empty table does not answer batches, but they are authorized first.
	_, _ = db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{
		"events": {Keys: []map[string]ddbtypes.AttributeValue{id("e2"), id("e1"), id("e2")}}}})
	_, _ = db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{
		"events": {{PutRequest: &ddbtypes.PutRequest{Item: id("~kept#1")}}, {DeleteRequest: &ddbtypes.DeleteRequest{Key: id("e3")}}}}})
	want := []string{
		"dynamodb:PutItem ~rejected#1",
		"dynamodb:UpdateItem ~kept#9#github",
		"dynamodb:GetItem e1",
		"dynamodb:Query " + Unknowable,
		"dynamodb:GetItem " + Unknowable, // a table the fake was not told of
		"dynamodb:PutItem " + Unknowable, // an item without the partition key
		"dynamodb:BatchGetItem e1,e2",
		"dynamodb:BatchWriteItem e3,~kept#1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the authorizer saw\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
