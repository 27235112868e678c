package fakeaws

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Subscription is one subscription of a topic, as AWS::SNS::Subscription describes it.
type Subscription struct {
	Protocol string // "sqs" delivers to the queue with ARN Endpoint; anything else is recorded as a Delivery
	Endpoint string
	// RawMessageDelivery: an SQS message body is the published message itself, not the SNS
	// JSON envelope around it.
	RawMessageDelivery bool
	// FilterPolicy is the subscription's filter policy (JSON), "" for none; FilterPolicyScope is
	// "MessageAttributes" (the default) or "MessageBody".
	FilterPolicy      string
	FilterPolicyScope string
}

// Delivery is a message SNS handed to one subscription.
type Delivery struct {
	TopicARN   string
	MessageID  string
	Protocol   string
	Endpoint   string
	Subject    string
	Message    string
	Attributes map[string]string // message attributes by name (string values)
}

type topic struct {
	arn    string
	kmsKey string // the KMS key ARN the topic is encrypted with, "" for none
	subs   []subscription
}

type subscription struct {
	Subscription
	filter *Filter
}

// AddTopic creates the topic with this ARN. kmsKeyARN is the key of a KMS-encrypted topic ("" for
// none): publishing then also needs kms:GenerateDataKey and kms:Decrypt on it.
func (s *Server) AddTopic(arn, kmsKeyARN string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.topics[arn] = &topic{arn: arn, kmsKey: kmsKeyARN}
}

// Subscribe adds a subscription to a topic made by AddTopic; an sqs endpoint must be a queue
// made by AddQueue.
func (s *Server) Subscribe(topicARN string, sub Subscription) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[topicARN]
	if t == nil {
		return fmt.Errorf("subscribe to %s: no such topic", topicARN)
	}
	if sub.Protocol == "sqs" && s.queues[sub.Endpoint] == nil {
		return fmt.Errorf("subscribe %s to %s: no such queue", sub.Endpoint, topicARN)
	}
	ss := subscription{Subscription: sub}
	if sub.FilterPolicy != "" {
		f, err := NewFilter(sub.FilterPolicy)
		if err != nil {
			return fmt.Errorf("subscription of %s to %s: filter policy: %w", sub.Endpoint, topicARN, err)
		}
		ss.filter = f
	}
	t.subs = append(t.subs, ss)
	return nil
}

// Deliveries returns what SNS handed to the subscriptions of topicARN, in order.
func (s *Server) Deliveries(topicARN string) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Delivery
	for _, d := range s.deliveries {
		if d.TopicARN == topicARN {
			out = append(out, d)
		}
	}
	return out
}

func (s *Server) serveSNS(req *request) {
	if req.op != "Publish" {
		s.unknown(req, "SNS "+req.op)
		return
	}
	arn := req.form.Get("TopicArn")
	if arn == "" {
		arn = req.form.Get("TargetArn")
	}
	s.mu.Lock()
	t := s.topics[arn]
	s.mu.Unlock()
	var implied []impliedCall
	if t != nil && t.kmsKey != "" {
		// SNS encrypts with the publisher's permissions on the key.
		implied = append(implied,
			impliedCall{"kms:GenerateDataKey", []string{t.kmsKey}},
			impliedCall{"kms:Decrypt", []string{t.kmsKey}})
	}
	if err := s.allow(req, "sns:Publish", []string{arn}, nil, implied...); err != nil {
		queryError(req.w, http.StatusForbidden, "AuthorizationError", err.Error())
		return
	}
	if t == nil {
		queryError(req.w, http.StatusNotFound, "NotFound", "Topic does not exist")
		return
	}
	msg := req.form.Get("Message")
	if msg == "" {
		queryError(req.w, http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Empty message")
		return
	}
	attrs, err := snsAttributes(req.form)
	if err != nil {
		queryError(req.w, http.StatusBadRequest, "InvalidParameterValue", err.Error())
		return
	}
	id := uuid.NewString()
	if err := s.fanOut(t, id, req.form.Get("Subject"), msg, attrs); err != nil {
		queryError(req.w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	req.w.Header().Set("Content-Type", "text/xml")
	_, _ = fmt.Fprintf(req.w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">`+
		`<PublishResult><MessageId>%s</MessageId></PublishResult>`+
		`<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></PublishResponse>`, id, requestID())
}

type snsAttribute struct {
	dataType, value string
}

// snsAttributes reads MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue}.
func snsAttributes(form map[string][]string) (map[string]snsAttribute, error) {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	out := map[string]snsAttribute{}
	for n := 1; ; n++ {
		p := "MessageAttributes.entry." + strconv.Itoa(n) + "."
		name := get(p + "Name")
		if name == "" {
			return out, nil
		}
		typ := get(p + "Value.DataType")
		if typ != "String" && typ != "Number" && !strings.HasPrefix(typ, "String.") {
			return nil, fmt.Errorf("message attribute %q: data type %q is not faked", name, typ)
		}
		out[name] = snsAttribute{dataType: typ, value: get(p + "Value.StringValue")}
	}
}

// fanOut hands the message to every subscription whose filter policy matches.
func (s *Server) fanOut(t *topic, id, subject, msg string, attrs map[string]snsAttribute) error {
	plain := map[string]string{}
	filterable := map[string]any{}
	for k, a := range attrs {
		plain[k] = a.value
		filterable[k] = a.value
		if a.dataType == "Number" {
			if f, err := strconv.ParseFloat(a.value, 64); err == nil {
				filterable[k] = f
			}
		}
	}
	for _, sub := range t.subs {
		if sub.filter != nil {
			input := filterable
			if sub.FilterPolicyScope == "MessageBody" {
				var body map[string]any
				if json.Unmarshal([]byte(msg), &body) != nil {
					continue // a body that is not a JSON object matches no body policy
				}
				input = body
			}
			if !sub.filter.Match(input) {
				continue
			}
		}
		d := Delivery{TopicARN: t.arn, MessageID: id, Protocol: sub.Protocol, Endpoint: sub.Endpoint,
			Subject: subject, Message: msg, Attributes: plain}
		if sub.Protocol == "sqs" {
			body, qattrs := msg, map[string]messageAttribute{}
			if sub.RawMessageDelivery {
				for k, a := range attrs {
					qattrs[k] = messageAttribute{DataType: a.dataType, StringValue: a.value}
				}
			} else {
				body = snsEnvelope(t.arn, id, subject, msg, attrs)
			}
			if err := s.send(sub.Endpoint, body, qattrs, t.arn); err != nil {
				return fmt.Errorf("deliver %s to %s: %w", id, sub.Endpoint, err)
			}
		}
		s.mu.Lock()
		s.deliveries = append(s.deliveries, d)
		s.mu.Unlock()
	}
	return nil
}

// snsEnvelope is the JSON SNS wraps a message in for a subscription without raw delivery.
func snsEnvelope(topicARN, id, subject, msg string, attrs map[string]snsAttribute) string {
	env := map[string]any{
		"Type": "Notification", "MessageId": id, "TopicArn": topicARN, "Message": msg,
		"Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": "1",
		"Signature": "ZmFrZQ==", "SigningCertURL": "", "UnsubscribeURL": "",
	}
	if subject != "" {
		env["Subject"] = subject
	}
	if len(attrs) > 0 {
		ma := map[string]any{}
		for k, a := range attrs {
			ma[k] = map[string]string{"Type": a.dataType, "Value": a.value}
		}
		env["MessageAttributes"] = ma
	}
	b, _ := json.Marshal(env)
	return string(b)
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
