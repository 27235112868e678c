package awsjson_test

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
	"github.com/aws/smithy-go"

	"hookline/pkg/awsjson"
)

// noDelay retries at once, so the retry tests take no time.
type noDelay struct{}

func (noDelay) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

func config(endpoint string) aws.Config {
	return aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "token"),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      func() aws.Retryer { return retry.NewStandard(func(o *retry.StandardOptions) { o.Backoff = noDelay{} }) },
	}
}

func client(t *testing.T, cfg aws.Config, svc awsjson.Service) *awsjson.Client {
	t.Helper()
	c, err := awsjson.New(context.Background(), cfg, svc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCall: a call is a signed POST with the service's target and protocol version, its input
// as JSON; the answer is decoded into out.
func TestCall(t *testing.T) {
	var got *http.Request
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, body = r, string(b)
		_, _ = io.WriteString(w, `{"SecretString":"{\"sources\":{}}","ARN":"x"}`)
	}))
	defer srv.Close()
	var out struct{ SecretString *string }
	err := client(t, config(srv.URL), awsjson.SecretsManager).Call(context.Background(), "GetSecretValue", struct{ SecretId string }{"arn:s"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.SecretString == nil || *out.SecretString != `{"sources":{}}` {
		t.Errorf("SecretString = %v", out.SecretString)
	}
	for name, want := range map[string]string{
		"X-Amz-Target":         "secretsmanager.GetSecretValue",
		"Content-Type":         "application/x-amz-json-1.1",
		"X-Amz-Security-Token": "token",
	} {
		if v := got.Header.Get(name); v != want {
			t.Errorf("%s: %q, want %q", name, v, want)
		}
	}
	if a := got.Header.Get("Authorization"); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(a, "/eu-west-1/secretsmanager/aws4_request") {
		t.Errorf("Authorization: %q, want SigV4 for secretsmanager in eu-west-1", a)
	}
	if got.Method != http.MethodPost || body != `{"SecretId":"arn:s"}` {
		t.Errorf("%s %q", got.Method, body)
	}
	_ = client(t, config(srv.URL), awsjson.DynamoDB).Call(context.Background(), "PutItem", struct{}{}, nil)
	if ct, tg := got.Header.Get("Content-Type"), got.Header.Get("X-Amz-Target"); ct != "application/x-amz-json-1.0" || tg != "DynamoDB_20120810.PutItem" {
		t.Errorf("DynamoDB: Content-Type %q, X-Amz-Target %q", ct, tg)
	}
}

// TestErrors: an error answer is an *Error and a smithy.APIError, with the code however the
// service spells it.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, header, body string
		status             int
		code, msg          string
	}{
		{"qualified __type", "", `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`, 400, "ConditionalCheckFailedException", "The conditional request failed"},
		{"Message", "", `{"__type":"AccessDeniedException","Message":"not allowed"}`, 400, "AccessDeniedException", "not allowed"},
		{"header first", "ResourceNotFoundException:http://internal.amazon.com/", `{"__type":"Other"}`, 400, "ResourceNotFoundException", ""},
		// A shape id with an empty namespace: everything to the '#' goes, as the SDK's
		// restjson.SanitizeErrorCode drops it.
		{"empty namespace", "", `{"__type":"#ThrottlingException","message":"slow down"}`, 400, "ThrottlingException", "slow down"},
		{"not JSON", "", `<html>bad gateway</html>`, 502, "Bad Gateway", ""},
		{"500", "", `{"__type":"InternalServerError","message":"try again"}`, 500, "InternalServerError", "try again"},
		{"a redirect is no answer", "", ``, 307, "Temporary Redirect", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.header != "" {
					w.Header().Set("X-Amzn-ErrorType", tc.header)
				}
				w.Header().Set("X-Amzn-RequestId", "req-1")
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			cfg := config(srv.URL)
			cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
			err := client(t, cfg, awsjson.KMS).Call(context.Background(), "GenerateDataKey", struct{}{}, nil)
			var api smithy.APIError
			var e *awsjson.Error
			if !errors.As(err, &api) || !errors.As(err, &e) {
				t.Fatalf("%v (%T): not an *awsjson.Error", err, err)
			}
			if api.ErrorCode() != tc.code || api.ErrorMessage() != tc.msg || e.Status != tc.status || e.RequestID != "req-1" {
				t.Errorf("code %q, message %q, status %d, request id %q; want %q, %q, %d", api.ErrorCode(), api.ErrorMessage(), e.Status, e.RequestID, tc.code, tc.msg, tc.status)
			}
			want := smithy.FaultUnknown
			switch tc.status / 100 {
			case 5:
				want = smithy.FaultServer
			case 4:
				want = smithy.FaultClient
			}
			if api.ErrorFault() != want {
				t.Errorf("fault %v, want %v", api.ErrorFault(), want)
			}
		})
	}
}

// TestPost: a Query-protocol call is a signed form POST with Action and Version added; an
// error answer's XML gives the code, message and request id.
func TestPost(t *testing.T) {
	var got *http.Request
	var form url.Values
	status, answer := 200, `<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = r
		form, _ = url.ParseQuery(string(b))
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	defer srv.Close()
	cfg := config(srv.URL)
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	c := client(t, cfg, awsjson.SNS)
	if err := c.Post(context.Background(), "Publish", url.Values{"TopicArn": {"arn:t"}, "Message": {"a b&c"}}); err != nil {
		t.Fatal(err)
	}
	want := url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {"arn:t"}, "Message": {"a b&c"}}
	if !reflect.DeepEqual(form, want) || got.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || got.Header.Get("X-Amz-Target") != "" {
		t.Errorf("form %v, headers %v; want %v as a form", form, got.Header, want)
	}
	if a := got.Header.Get("Authorization"); !strings.Contains(a, "/eu-west-1/sns/aws4_request") {
		t.Errorf("Authorization: %q, want SigV4 for sns in eu-west-1", a)
	}
	status, answer = 404, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error><RequestId>req-2</RequestId></ErrorResponse>`
	err := c.Post(context.Background(), "Publish", url.Values{})
	var e *awsjson.Error
	if !errors.As(err, &e) || e.Code != "NotFound" || e.Message != "Topic does not exist" || e.RequestID != "req-2" || e.Status != 404 || e.Op != "Publish" {
		t.Errorf("err = %#v, want NotFound / Topic does not exist / req-2 / 404", err)
	}
}

// TestRetries: throttling and 5xx answers are tried again, up to the retryer's attempts; a
// client error is not.
func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failures  int // answers that fail before one succeeds
		status    int
		code      string
		wantCalls int32
		wantErr   bool
	}{
		{"5xx then success", 2, 500, "InternalServerError", 3, false},
		{"throttled then success", 1, 400, "ThrottlingException", 2, false},
		{"5xx past the attempts", 9, 503, "ServiceUnavailable", 3, true},
		{"client error", 9, 400, "ValidationException", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if int(calls.Add(1)) <= tc.failures {
					w.WriteHeader(tc.status)
					_, _ = io.WriteString(w, `{"__type":"`+tc.code+`"}`)
					return
				}
				_, _ = io.WriteString(w, `{}`)
			}))
			defer srv.Close()
			err := client(t, config(srv.URL), awsjson.DynamoDB).Call(context.Background(), "UpdateItem", struct{}{}, nil)
			if calls.Load() != tc.wantCalls || (err != nil) != tc.wantErr {
				t.Errorf("%d calls, error %v; want %d calls, error %v", calls.Load(), err, tc.wantCalls, tc.wantErr)
			}
		})
	}
}

// endpoints answers GetServiceBaseEndpoint as the SDK's environment config does.
type endpoints map[string]string

func (e endpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v, ok := e[sdkID]
	return v, ok, nil
}

// TestEndpoint: the service's own endpoint variable first (as the SDK's clients ask their
// config sources), then AWS_ENDPOINT_URL, then the regional endpoint.
func TestEndpoint(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	cfg := config("http://127.0.0.1:1") // refused: the service's own endpoint must win
	cfg.ConfigSources = []any{"not an endpoint source", endpoints{"KMS": srv.URL}}
	if err := client(t, cfg, awsjson.KMS).Call(context.Background(), "Decrypt", struct{}{}, nil); err != nil || hits.Load() != 1 {
		t.Errorf("KMS with AWS_ENDPOINT_URL_KMS: %v, %d hits", err, hits.Load())
	}
	cfg.BaseEndpoint = aws.String(srv.URL)
	if err := client(t, cfg, awsjson.DynamoDB).Call(context.Background(), "PutItem", struct{}{}, nil); err != nil || hits.Load() != 2 {
		t.Errorf("DynamoDB with AWS_ENDPOINT_URL only: %v, %d hits", err, hits.Load())
	}

	// The regional endpoints, seen by a transport that answers without a network.
	var host atomic.Value
	cfg = config("")
	cfg.BaseEndpoint = nil
	cfg.HTTPClient = roundTrip(func(r *http.Request) (*http.Response, error) {
		host.Store(r.URL.Scheme + "://" + r.URL.Host)
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{}`)), Header: http.Header{}}, nil
	})
	for region, want := range map[string]string{
		"eu-west-1":  "https://dynamodb.eu-west-1.amazonaws.com",
		"cn-north-1": "https://dynamodb.cn-north-1.amazonaws.com.cn",
	} {
		cfg.Region = region
		if err := client(t, cfg, awsjson.DynamoDB).Call(context.Background(), "PutItem", struct{}{}, nil); err != nil || host.Load() != want {
			t.Errorf("%s: %v, sent to %v, want %s", region, err, host.Load(), want)
		}
	}
	if _, err := awsjson.New(context.Background(), aws.Config{Credentials: cfg.Credentials}, awsjson.KMS); err == nil {
		t.Error("a client without a region")
	}
	if _, err := awsjson.New(context.Background(), aws.Config{Region: "eu-west-1"}, awsjson.KMS); err == nil {
		t.Error("a client without credentials")
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) Do(r *http.Request) (*http.Response, error) { return f(r) }
