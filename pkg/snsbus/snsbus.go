// Package snsbus is the AWS side of hookline's bus: the ingest Lambda publishes event envelopes
// to the events topic with Publisher, and the notifier publishes completion emails to the
// notifications topic with Mailer. Both set the message attributes "type" and "source" so SNS
// subscriptions can filter without reading bodies.
package snsbus

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// PublishAPI is the one SNS call hookline makes.
type PublishAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// PublishFunc is a PublishAPI made of one function. The notifier passes the client's Publish
// method value rather than *sns.Client: it links text/template, whose MethodByName makes the
// linker keep every exported method of every type that can sit in an interface, so the client
// itself would bring all of SNS's operations into the binary (about 0.9 MB).
type PublishFunc func(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)

// Publish calls f.
func (f PublishFunc) Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return f(ctx, in, optFns...)
}

var _ PublishAPI = PublishFunc(nil)

// Topic is an SNS topic and the client that publishes to it. Publisher and Mailer are topics
// that publish what their port hands them.
type Topic struct {
	Client   PublishAPI
	TopicARN string
}

// publish sends in to the topic; what names the message in the error.
func (t *Topic) publish(ctx context.Context, what string, in *sns.PublishInput) error {
	in.TopicArn = aws.String(t.TopicARN)
	if _, err := t.Client.Publish(ctx, in); err != nil {
		return fmt.Errorf("sns publish %s: %w", what, err)
	}
	return nil
}

// Publisher publishes event envelopes to a topic.
type Publisher Topic

var _ pipeline.Publisher = (*Publisher)(nil)

// Publish returns once SNS has accepted the message, which is when it is durable.
func (p *Publisher) Publish(ctx context.Context, m pipeline.Message) error {
	return (*Topic)(p).publish(ctx, "event "+m.ID, &sns.PublishInput{
		Message:           aws.String(string(m.Body)),
		MessageAttributes: stringAttributes(m.Attributes()),
	})
}

// Mailer sends completion emails through a topic with email subscriptions.
type Mailer Topic

var _ pipeline.Mailer = (*Mailer)(nil)

// Send publishes the email; SNS uses Subject for email subscriptions.
func (m *Mailer) Send(ctx context.Context, e pipeline.Email) error {
	return (*Topic)(m).publish(ctx, "email for "+e.EventID, &sns.PublishInput{
		Subject:           aws.String(e.Subject),
		Message:           aws.String(e.Text),
		MessageAttributes: attributes(e.Source, e.Type),
	})
}

func stringAttributes(a map[string]string) map[string]types.MessageAttributeValue {
	out := make(map[string]types.MessageAttributeValue, len(a))
	for k, v := range a {
		out[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	return out
}

func attributes(source, typ string) map[string]types.MessageAttributeValue {
	return map[string]types.MessageAttributeValue{
		"source": {DataType: aws.String("String"), StringValue: aws.String(source)},
		"type":   {DataType: aws.String("String"), StringValue: aws.String(typ)},
	}
}

// TypeFilterPolicy is the SNS subscription filter policy that passes messages whose "type"
// attribute is one of types; an entry ending in '.' or '/' is a prefix ("issues." passes
// issues.opened and issues.closed), like ?type= in the history. SNS matches a prefix at any
// depth ("customer." passes customer.subscription.created too), where the history selects one
// segment below it. The deploy-time email filter (issue 12) builds on it.
func TypeFilterPolicy(types ...string) (string, error) {
	if len(types) == 0 {
		return "", fmt.Errorf("type filter policy: no types")
	}
	rules := make([]any, 0, len(types))
	for _, t := range types {
		switch {
		case t == "":
			return "", fmt.Errorf("type filter policy: an empty type")
		case event.IsTypePrefix(t):
			rules = append(rules, map[string]string{"prefix": t})
		default:
			rules = append(rules, t)
		}
	}
	b, err := json.Marshal(map[string]any{"type": rules})
	if err != nil {
		return "", fmt.Errorf("type filter policy: %w", err)
	}
	return string(b), nil
}
