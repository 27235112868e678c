package snsbus_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"hookline/pkg/awsjson"
	"hookline/pkg/pipeline"
	"hookline/pkg/snsbus"
)

const topic = "arn:aws:sns:eu-west-1:123456789012:events"

const okXML = `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult>
  <ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata>
</PublishResponse>`

func errorXML(code string) string {
	return `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>` + code +
		`</Code><Message>Rate exceeded</Message></Error><RequestId>9c4b1f61-f6a6-4e1a-bd6c-1b2e0c1f2a3d</RequestId></ErrorResponse>`
}

// fakeSNS answers like SNS: the i-th request (from 0) gets replies[i] (the last repeats).
type fakeSNS struct {
	t       *testing.T
	replies []func(w http.ResponseWriter)
	calls   atomic.Int32
	form    atomic.Value // url.Values of the last request
}

func (f *fakeSNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		f.t.Errorf("request %s %s, content type %q", r.Method, r.URL, r.Header.Get("Content-Type"))
	}
	if !strings.Contains(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		f.t.Errorf("request is not SigV4-signed")
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		f.t.Errorf("body is not a form: %v", err)
	}
	f.form.Store(form)
	i := int(f.calls.Add(1)) - 1
	if i >= len(f.replies) {
		i = len(f.replies) - 1
	}
	w.Header().Set("Content-Type", "text/xml")
	f.replies[i](w)
}

func reply(status int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { w.WriteHeader(status); io.WriteString(w, body) }
}

func client(t *testing.T, h http.Handler, attempts int, timeout time.Duration) *awsjson.Client {
	srv := httptest.NewServer(h) // binds 127.0.0.1
	t.Cleanup(srv.Close)
	return snsClient(t, aws.Config{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:   &http.Client{Timeout: timeout},
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.MaxBackoff = 10 * time.Millisecond
			})
		},
	})
}

func snsClient(t *testing.T, cfg aws.Config) *awsjson.Client {
	t.Helper()
	c, err := awsjson.New(context.Background(), cfg, awsjson.SNS)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSameRequestsAsTheSDK: what Publisher and Mailer post is, parameter for parameter, what
// the SDK's SNS client posted for them (the PublishInput they built before they stopped
// linking it), recorded from both on a server on 127.0.0.1.
func TestSameRequestsAsTheSDK(t *testing.T) {
	t.Parallel()
	email := pipeline.Email{EventID: "e1", Source: "stripe", Type: "invoice.paid", Subject: "[hookline] invoice.paid from stripe", Text: "body & more\n"}
	attr := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	for _, c := range []struct {
		name string
		ours func(snsbus.Topic) error
		sdk  *sns.PublishInput
	}{
		{"event", func(tp snsbus.Topic) error { return (*snsbus.Publisher)(&tp).Publish(context.Background(), msg) },
			&sns.PublishInput{Message: aws.String(string(msg.Body)), MessageAttributes: map[string]snstypes.MessageAttributeValue{
				"source": attr(msg.Source), "type": attr(msg.Type)}}},
		{"replayed event", func(tp snsbus.Topic) error {
			m := msg
			m.Replay = true
			return (*snsbus.Publisher)(&tp).Publish(context.Background(), m)
		}, &sns.PublishInput{Message: aws.String(string(msg.Body)), MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"source": attr(msg.Source), "type": attr(msg.Type), pipeline.AttrReplay: attr("true")}}},
		{"email", func(tp snsbus.Topic) error { return (*snsbus.Mailer)(&tp).Send(context.Background(), email) },
			&sns.PublishInput{Subject: aws.String(email.Subject), Message: aws.String(email.Text),
				MessageAttributes: map[string]snstypes.MessageAttributeValue{"source": attr(email.Source), "type": attr(email.Type)}}},
		{"email without subject", func(tp snsbus.Topic) error {
			e := email
			e.Subject = ""
			return (*snsbus.Mailer)(&tp).Send(context.Background(), e)
		}, &sns.PublishInput{Subject: aws.String(""), Message: aws.String(email.Text),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{"source": attr(email.Source), "type": attr(email.Type)}}},
	} {
		f := &fakeSNS{t: t, replies: []func(http.ResponseWriter){reply(200, okXML)}}
		ours := client(t, f, 1, 5*time.Second)
		if err := c.ours(snsbus.Topic{Client: ours, TopicARN: topic}); err != nil {
			t.Fatal(err)
		}
		got := f.form.Load().(url.Values)
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		c.sdk.TopicArn = aws.String(topic)
		sdk := sns.New(sns.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
		if _, err := sdk.Publish(context.Background(), c.sdk); err != nil {
			t.Fatal(err)
		}
		want := f.form.Load().(url.Values)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ours posted\n%v\nthe SDK\n%v", c.name, got, want)
		}
	}
}

var msg = pipeline.Message{ID: "8a4b0e4e-7c1f-5e0a-9b7e-6e9a4b2a1c3d", Source: "github", Type: "push", Body: []byte(`{"specversion":"1.0","id":"8a4b"}`)}

func TestPublishWire(t *testing.T) {
	t.Parallel()
	f := &fakeSNS{t: t, replies: []func(http.ResponseWriter){reply(200, okXML)}}
	p := &snsbus.Publisher{Client: client(t, f, 3, 5*time.Second), TopicARN: topic}
	if err := p.Publish(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	form := f.form.Load().(url.Values)
	want := map[string]string{
		"Action":                         "Publish",
		"Version":                        "2010-03-31",
		"TopicArn":                       topic,
		"Message":                        string(msg.Body),
		"MessageAttributes.entry.1.Name": "source",
		"MessageAttributes.entry.1.Value.DataType":    "String",
		"MessageAttributes.entry.1.Value.StringValue": "github",
		"MessageAttributes.entry.2.Name":              "type",
		"MessageAttributes.entry.2.Value.StringValue": "push",
	}
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("%s = %q, want %q (form %v)", k, got, v, form)
		}
	}
	if form.Has("Subject") {
		t.Error("event messages carry no Subject")
	}
}

func TestPublishRetriesThrottlingThenSucceeds(t *testing.T) {
	t.Parallel()
	f := &fakeSNS{t: t, replies: []func(http.ResponseWriter){reply(400, errorXML("Throttling")), reply(500, errorXML("InternalError")), reply(200, okXML)}}
	p := &snsbus.Publisher{Client: client(t, f, 3, 5*time.Second), TopicARN: topic}
	if err := p.Publish(context.Background(), msg); err != nil {
		t.Fatalf("after a throttle and a 500 the third attempt should succeed: %v", err)
	}
	if n := f.calls.Load(); n != 3 {
		t.Errorf("SNS saw %d requests, want 3", n)
	}
}

func TestPublishGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	f := &fakeSNS{t: t, replies: []func(http.ResponseWriter){reply(400, errorXML("Throttling"))}}
	p := &snsbus.Publisher{Client: client(t, f, 2, 5*time.Second), TopicARN: topic}
	err := p.Publish(context.Background(), msg)
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "Throttling" {
		t.Fatalf("err = %v, want a Throttling API error", err)
	}
	if !strings.Contains(err.Error(), msg.ID) {
		t.Errorf("error %q does not name the event", err)
	}
	if n := f.calls.Load(); n != 2 {
		t.Errorf("SNS saw %d requests, want 2 (MaxAttempts)", n)
	}
}

// TestPublishStopsWhenItsContextEnds: SNS never answers; once the request has arrived, the
// caller's context ends and Publish returns with that error instead of waiting for SNS (a hang
// would be caught by the bound, which only a hang reaches).
func TestPublishStopsWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // lets the server notice the client hanging up
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	p := &snsbus.Publisher{Client: client(t, slow, 1, 5*time.Second), TopicARN: topic}
	t.Cleanup(func() { close(release) }) // runs before the server's Close (cleanups are LIFO)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- p.Publish(ctx, msg) }()
	select {
	case <-arrived:
	case err := <-errc:
		t.Fatalf("Publish returned %v before SNS saw the request", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the request never reached the fake SNS")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), msg.ID) {
			t.Fatalf("err = %v, want the context's cancellation, naming the event", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Publish still waiting for SNS after its context ended")
	}
}

func TestMailerWire(t *testing.T) {
	t.Parallel()
	f := &fakeSNS{t: t, replies: []func(http.ResponseWriter){reply(200, okXML)}}
	m := &snsbus.Mailer{Client: client(t, f, 1, 5*time.Second), TopicARN: topic}
	err := m.Send(context.Background(), pipeline.Email{EventID: "e1", Source: "stripe", Type: "invoice.paid", Subject: "[hookline] invoice.paid from stripe", Text: "body"})
	if err != nil {
		t.Fatal(err)
	}
	form := f.form.Load().(url.Values)
	if form.Get("Subject") != "[hookline] invoice.paid from stripe" || form.Get("Message") != "body" || form.Get("MessageAttributes.entry.2.Value.StringValue") != "invoice.paid" {
		t.Errorf("form = %v", form)
	}
}
