package snsbus_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"hookline/internal/fakeaws"
	"hookline/pkg/awsjson"
	"hookline/pkg/pipeline/mailertest"
	"hookline/pkg/pipeline/publishertest"
	"hookline/pkg/snsbus"
)

const account = "arn:aws:sns:eu-west-1:000000000000:"

// fakeTopic starts a stateful fake of SNS (and SQS) on 127.0.0.1 with the topic name, subscribed
// by subs, and returns it, a client for it and the topic's ARN.
func fakeTopic(t *testing.T, name string, subs ...fakeaws.Subscription) (*fakeaws.Server, *awsjson.Client, string) {
	t.Helper()
	srv, err := fakeaws.Start(fakeaws.Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	topic := account + name
	srv.AddTopic(topic, "")
	for _, sub := range subs {
		if sub.Protocol == "sqs" {
			srv.AddQueue(sub.Endpoint, fakeaws.QueueOptions{})
		}
		if err := srv.Subscribe(topic, sub); err != nil {
			t.Fatal(err)
		}
	}
	client := snsClient(t, aws.Config{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:      func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) },
	})
	return srv, client, topic
}

// TestPublisherContract: the SNS publisher passes the contract every pipeline.Publisher
// passes, on the wire, with the events topic fanning out to two SQS queues by raw delivery as
// the stack subscribes the events queue.
func TestPublisherContract(t *testing.T) {
	t.Parallel()
	publishertest.Run(t, func(t *testing.T) publishertest.Harness {
		queues := [2]string{"arn:aws:sqs:eu-west-1:000000000000:first", "arn:aws:sqs:eu-west-1:000000000000:second"}
		srv, client, topic := fakeTopic(t, "events",
			fakeaws.Subscription{Protocol: "sqs", Endpoint: queues[0], RawMessageDelivery: true},
			fakeaws.Subscription{Protocol: "sqs", Endpoint: queues[1], RawMessageDelivery: true})
		return publishertest.Harness{
			Publisher: &snsbus.Publisher{Client: client, TopicARN: topic},
			Received: func(t *testing.T) (got [2][]publishertest.Received) {
				for i, q := range queues {
					for _, m := range srv.Messages(q) {
						got[i] = append(got[i], publishertest.Received{Body: []byte(m.Body), Source: m.Attributes["source"], Type: m.Attributes["type"]})
					}
				}
				return got
			},
			Broken: &snsbus.Publisher{Client: client, TopicARN: account + "deleted"},
		}
	})
}

// TestMailerContract: the SNS mailer passes the contract every pipeline.Mailer passes, on the
// wire, with the notifications topic's email subscription as the destination.
func TestMailerContract(t *testing.T) {
	t.Parallel()
	mailertest.Run(t, func(t *testing.T) mailertest.Harness {
		srv, client, topic := fakeTopic(t, "notifications", fakeaws.Subscription{Protocol: "email", Endpoint: "ops@example.com"})
		return mailertest.Harness{
			Mailer: &snsbus.Mailer{Client: client, TopicARN: topic},
			Delivered: func(t *testing.T) []mailertest.Mail {
				var got []mailertest.Mail
				for _, d := range srv.Deliveries(topic) {
					got = append(got, mailertest.Mail{Subject: d.Subject, Text: d.Message, Source: d.Attributes["source"], Type: d.Attributes["type"]})
				}
				return got
			},
			Broken: &snsbus.Mailer{Client: client, TopicARN: account + "deleted"},
		}
	})
}
