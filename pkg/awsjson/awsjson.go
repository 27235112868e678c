// Package awsjson makes signed calls to AWS services of the JSON protocol (DynamoDB, KMS,
// Secrets Manager) with Call, and of the Query protocol (SNS's Publish) with Post, with the AWS
// SDK's credentials, SigV4 signer, HTTP client and standard retryer, but without the service's
// own SDK package.
//
// Why: every linked SDK service package fills its schema and endpoint tables at package
// initialisation, whether or not the program calls it (DynamoDB's alone is ~3,800 allocations).
// The ingest Lambda faces the internet and pays that at every cold start for three calls it
// makes once per instance (the sources secret) or only when it keeps a refused request (the
// quarantine's PutItem, UpdateItem and GenerateDataKey). SNS's one call, Publish (ingest's
// events, the notifier's emails), is a form: its package (~700 allocations and ~60 page faults
// at start) buys nothing there. Everything else uses the SDK's clients.
//
// What it does not do that the SDK's clients do: endpoint rule sets (FIPS, dual-stack,
// account-based DynamoDB endpoints) — the endpoint is AWS_ENDPOINT_URL(_<SERVICE>) when set,
// else the service's regional endpoint; client-side retry quotas; response checksums.
package awsjson

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Service names a service the way the SDK's client for it does.
type Service struct {
	ID          string // the SDK's service id: AWS_ENDPOINT_URL_<ID upper-cased, spaces as _>
	SigningName string // SigV4's service name, also the endpoint's first label
	Target      string // JSON protocol: the X-Amz-Target prefix, Target + "." + operation
	Version     string // JSON: application/x-amz-json-<Version>; Query: the API version ("2010-03-31")
}

// The services hookline calls through this package: SNS with Post, the others with Call.
var (
	DynamoDB       = Service{ID: "DynamoDB", SigningName: "dynamodb", Target: "DynamoDB_20120810", Version: "1.0"}
	KMS            = Service{ID: "KMS", SigningName: "kms", Target: "TrentService", Version: "1.1"}
	SecretsManager = Service{ID: "Secrets Manager", SigningName: "secretsmanager", Target: "secretsmanager", Version: "1.1"}
	SNS            = Service{ID: "SNS", SigningName: "sns", Version: "2010-03-31"}
)

// Client calls one service in one region.
type Client struct {
	svc      Service
	endpoint string
	region   string
	creds    aws.CredentialsProvider
	http     aws.HTTPClient
	retryer  aws.Retryer
	signer   *v4.Signer
	now      func() time.Time
}

// New returns a client of svc configured by cfg: its region, credentials, HTTP client and
// retryer (the SDK's standard one when cfg has none), and its endpoint (see endpoint).
func New(ctx context.Context, cfg aws.Config, svc Service) (*Client, error) {
	if cfg.Region == "" {
		return nil, fmt.Errorf("awsjson: %s: no region", svc.ID)
	}
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("awsjson: %s: no credentials", svc.ID)
	}
	endpoint, err := endpoint(ctx, cfg, svc)
	if err != nil {
		return nil, err
	}
	c := &Client{svc: svc, endpoint: endpoint, region: cfg.Region, creds: cfg.Credentials,
		http: cfg.HTTPClient, signer: v4.NewSigner(), now: time.Now}
	if c.http == nil {
		c.http = awshttp.NewBuildableClient()
	}
	if cfg.Retryer != nil {
		c.retryer = cfg.Retryer()
	} else {
		c.retryer = retry.NewStandard()
	}
	return c, nil
}

// endpoint is where svc's calls go: what cfg's config sources answer for the service
// (AWS_ENDPOINT_URL_<SERVICE>, as the SDK's clients ask them), else cfg.BaseEndpoint
// (AWS_ENDPOINT_URL), else the regional endpoint.
func endpoint(ctx context.Context, cfg aws.Config, svc Service) (string, error) {
	for _, src := range cfg.ConfigSources {
		p, ok := src.(interface {
			GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
		})
		if !ok {
			continue
		}
		u, found, err := p.GetServiceBaseEndpoint(ctx, svc.ID)
		if err != nil {
			return "", fmt.Errorf("awsjson: %s endpoint: %w", svc.ID, err)
		}
		if found {
			return u, nil
		}
	}
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		return *cfg.BaseEndpoint, nil
	}
	suffix := "amazonaws.com"
	if strings.HasPrefix(cfg.Region, "cn-") {
		suffix = "amazonaws.com.cn"
	}
	return "https://" + svc.SigningName + "." + cfg.Region + "." + suffix, nil
}

// Call sends operation op of a JSON-protocol service with input in (marshalled by
// encoding/json) and decodes the answer into out (nil: the answer is read and dropped). A
// failure the retryer deems retryable (throttling, 5xx, a broken connection) is tried again
// after its delay, up to its MaxAttempts. An error answer is an *Error.
func (c *Client) Call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s %s: marshal input: %w", c.svc.ID, op, err)
	}
	return c.retry(ctx, func() error {
		answer, err := c.once(ctx, op, body, c.jsonHeaders, jsonError)
		if err != nil || out == nil {
			return err
		}
		if err := json.Unmarshal(answer, out); err != nil {
			return fmt.Errorf("%s %s: decode the answer: %w", c.svc.ID, op, err)
		}
		return nil
	})
}

// Post sends action op of a Query-protocol service (SNS) with the parameters form (Action and
// Version are added) and reads the answer, whose result it drops: hookline needs only to know
// that the service took the call. Retries and errors as Call's.
func (c *Client) Post(ctx context.Context, op string, form url.Values) error {
	params := make(url.Values, len(form)+2)
	for k, v := range form {
		params[k] = v
	}
	params.Set("Action", op)
	params.Set("Version", c.svc.Version)
	body := []byte(params.Encode())
	return c.retry(ctx, func() error {
		_, err := c.once(ctx, op, body, formHeaders, queryError)
		return err
	})
}

// retry runs call until it succeeds, fails for good, or the retryer gives up.
func (c *Client) retry(ctx context.Context, call func() error) error {
	for attempt := 1; ; attempt++ {
		err := call()
		if err == nil || attempt >= c.retryer.MaxAttempts() || !c.retryer.IsErrorRetryable(err) {
			return err
		}
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

func (c *Client) jsonHeaders(h http.Header, op string) {
	h.Set("Content-Type", "application/x-amz-json-"+c.svc.Version)
	h.Set("X-Amz-Target", c.svc.Target+"."+op)
}

func formHeaders(h http.Header, _ string) {
	h.Set("Content-Type", "application/x-www-form-urlencoded")
}

// once makes one signed POST of body and returns a 2xx answer's body; readError makes the
// *Error of any other answer.
func (c *Client) once(ctx context.Context, op string, body []byte, headers func(http.Header, string),
	readError func(service, op string, resp *http.Response, body []byte) *Error) ([]byte, error) {
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s %s: credentials: %w", c.svc.ID, op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.svc.ID, op, err)
	}
	headers(req.Header, op)
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), c.svc.SigningName, c.region, c.now()); err != nil {
		return nil, fmt.Errorf("%s %s: sign: %w", c.svc.ID, op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.svc.ID, op, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", c.svc.ID, op, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, readError(c.svc.ID, op, resp, answer)
	}
	return answer, nil
}

// Error is a service's error answer. It is a smithy.APIError, so code that classifies the
// SDK clients' errors by ErrorCode classifies these alike, and the SDK's retryer reads its
// code and HTTP status.
type Error struct {
	Service, Op string
	Code        string // "ThrottlingException", "ConditionalCheckFailedException", …
	Message     string
	Status      int
	RequestID   string
}

var _ smithy.APIError = (*Error)(nil)

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %s (HTTP %d, request id %s): %s", e.Service, e.Op, e.Code, e.Status, e.RequestID, e.Message)
}

// ErrorCode is the error's code (smithy.APIError).
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage is the service's message (smithy.APIError).
func (e *Error) ErrorMessage() string { return e.Message }

// ErrorFault says whose fault it is, by the HTTP status (smithy.APIError).
func (e *Error) ErrorFault() smithy.ErrorFault {
	switch {
	case e.Status >= 500:
		return smithy.FaultServer
	case e.Status >= 400:
		return smithy.FaultClient
	}
	return smithy.FaultUnknown
}

// HTTPStatusCode is the answer's status (what the SDK's retryer asks for 5xx and 429).
func (e *Error) HTTPStatusCode() int { return e.Status }

// jsonError reads a JSON-protocol error answer: the code from X-Amzn-ErrorType or the body's __type, either
// possibly qualified ("com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException") or
// followed by ":" and a URL; the message from message or Message.
func jsonError(service, op string, resp *http.Response, body []byte) *Error {
	var doc struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(body, &doc) // an answer that is not JSON still has a status
	code := resp.Header.Get("X-Amzn-ErrorType")
	for _, c := range []string{doc.Type, doc.Code} {
		if code == "" {
			code = c
		}
	}
	code, _, _ = strings.Cut(code, ":")
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	msg := doc.Message
	if msg == "" {
		msg = doc.MessageU
	}
	return &Error{Service: service, Op: op, Code: code, Message: msg, Status: resp.StatusCode,
		RequestID: resp.Header.Get("X-Amzn-RequestId")}
}

// queryError reads a Query-protocol error answer:
// <ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>.
func queryError(service, op string, resp *http.Response, body []byte) *Error {
	var doc struct {
		Code      string `xml:"Error>Code"`
		Message   string `xml:"Error>Message"`
		RequestID string `xml:"RequestId"`
	}
	_ = xml.Unmarshal(body, &doc) // an answer that is not XML still has a status
	code := doc.Code
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	id := doc.RequestID
	if id == "" {
		id = resp.Header.Get("X-Amzn-RequestId")
	}
	return &Error{Service: service, Op: op, Code: code, Message: doc.Message, Status: resp.StatusCode, RequestID: id}
}
