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
	s := start(t, Options{Authorize: func(key, action string, res []string) error {
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
