// Package snsbus is the AWS side of hookline's bus: the ingest Lambda publishes event envelopes
// to the events topic with Publisher, and the notifier publishes completion emails to the
// notifications topic with Mailer. Both set the message attributes "type" and "source" so SNS
// subscriptions can filter without reading bodies.
package snsbus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// PublishAPI is the one SNS call hookline makes, Publish, as the Query protocol sends it: its
// parameters as a form. *awsjson.Client (awsjson.SNS) is one: not the SDK's SNS client, whose
// package fills ~700 endpoint entries at every start of the two Lambdas that publish.
type PublishAPI interface {
	Post(ctx context.Context, op string, form url.Values) error
}

// Topic is an SNS topic and the client that publishes to it. Publisher and Mailer are topics
// that publish what their port hands them.
type Topic struct {
	Client   PublishAPI
	TopicARN string
}

// publish sends form (the message, its subject and attributes) to the topic; what names the
// message in the error.
func (t *Topic) publish(ctx context.Context, what string, form url.Values) error {
	form.Set("TopicArn", t.TopicARN)
	if err := t.Client.Post(ctx, "Publish", form); err != nil {
		return fmt.Errorf("sns publish %s: %w", what, err)
	}
	return nil
}

// Publisher publishes event envelopes to a topic.
type Publisher Topic

var _ pipeline.Publisher = (*Publisher)(nil)

// Publish returns once SNS has accepted the message, which is when it is durable.
func (p *Publisher) Publish(ctx context.Context, m pipeline.Message) error {
	form := url.Values{"Message": {string(m.Body)}}
	addAttributes(form, m.Attributes())
	return (*Topic)(p).publish(ctx, "event "+m.ID, form)
}

// Mailer sends completion emails through a topic with email subscriptions.
type Mailer Topic

var _ pipeline.Mailer = (*Mailer)(nil)

// Send publishes the email; SNS uses Subject for email subscriptions.
func (m *Mailer) Send(ctx context.Context, e pipeline.Email) error {
	form := url.Values{"Subject": {e.Subject}, "Message": {e.Text}}
	addAttributes(form, map[string]string{"source": e.Source, "type": e.Type})
	return (*Topic)(m).publish(ctx, "email for "+e.EventID, form)
}

// addAttributes adds string message attributes as the SDK serialises its map: entries numbered
// from 1 in the order of their names.
func addAttributes(form url.Values, a map[string]string) {
	names := make([]string, 0, len(a))
	for k := range a {
		names = append(names, k)
	}
	slices.Sort(names)
	for i, k := range names {
		p := "MessageAttributes.entry." + strconv.Itoa(i+1) + "."
		form.Set(p+"Name", k)
		form.Set(p+"Value.DataType", "String")
		form.Set(p+"Value.StringValue", a[k])
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
