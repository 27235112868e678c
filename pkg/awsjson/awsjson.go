// Package awsjson makes signed calls to AWS services of the JSON protocol (DynamoDB, KMS,
// Secrets Manager) with Call, of the Query protocol (SNS's Publish) with Post, and S3's object
// calls (PutObject, GetObject, a presigned GetObject: s3.go), with the AWS SDK's credentials,
// SigV4 signer, HTTP client and standard retryer, but without the service's own SDK package.
//
// Why: every linked SDK service package fills its schema and endpoint tables at package
// initialisation, whether or not the program calls it (DynamoDB's alone is ~3,800 allocations).
// The ingest Lambda faces the internet and pays that at every cold start for three calls it
// makes once per instance (the sources secret) or only when it keeps a refused request (the
// quarantine's PutItem, UpdateItem and GenerateDataKey). SNS's one call, Publish (ingest's
// events, the notifier's emails), is a form: its package (~700 allocations and ~60 page faults
// at start) buys nothing there; nor does S3's (~900 allocations and ~75 page faults) for
// ingest's one PutObject of a large body and history's reads of it. Everything else uses the
// SDK's clients.
//
// What it does not do that the SDK's clients do: endpoint rule sets (FIPS, dual-stack,
// account-based DynamoDB endpoints, S3 access points) — the endpoint is AWS_ENDPOINT_URL(_<SERVICE>) when set,
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
	"math"
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
	S3             = Service{ID: "S3", SigningName: "s3"} // PutObject, GetObject, PresignGetObject (s3.go)
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
		http: cfg.HTTPClient, signer: v4.NewSigner(func(o *v4.SignerOptions) {
			// An S3 object's path is signed as sent, not escaped once more (s3.go).
			o.DisableURIPathEscaping = svc == S3
		}), now: time.Now}
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
		answer, err := c.once(ctx, request{op: op, method: http.MethodPost, url: c.endpoint, body: body,
			headers: func(h http.Header) { c.jsonHeaders(h, op) }, readError: jsonError})
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
		_, err := c.once(ctx, request{op: op, method: http.MethodPost, url: c.endpoint, body: body,
			headers: formHeaders, readError: xmlError})
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

func formHeaders(h http.Header) {
	h.Set("Content-Type", "application/x-www-form-urlencoded")
}

// request is one HTTP call of an operation: Call and Post make POSTs to the endpoint, the S3
// calls (s3.go) requests on an object's URL.
type request struct {
	op, method, url string
	body            []byte
	payload         string // X-Amz-Content-Sha256 for S3, else "": what is signed is the body's SHA-256
	headers         func(http.Header)
	readError       func(service, op string, resp *http.Response, body []byte) *Error
	limit           int64 // the longest answer read; 0: no limit
}

// once makes one signed request and returns a 2xx answer's body; readError makes the *Error of
// any other answer.
func (c *Client) once(ctx context.Context, r request) ([]byte, error) {
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s %s: credentials: %w", c.svc.ID, r.op, err)
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.svc.ID, r.op, err)
	}
	r.headers(req.Header)
	payload := r.payload
	if payload == "" {
		sum := sha256.Sum256(r.body)
		payload = hex.EncodeToString(sum[:])
	} else {
		req.Header.Set("X-Amz-Content-Sha256", payload)
	}
	if err := c.signer.SignHTTP(ctx, creds, req, payload, c.svc.SigningName, c.region, c.now()); err != nil {
		return nil, fmt.Errorf("%s %s: sign: %w", c.svc.ID, r.op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.svc.ID, r.op, err)
	}
	defer resp.Body.Close()
	in := io.Reader(resp.Body)
	if r.limit > 0 && r.limit < math.MaxInt64 {
		// One byte past the limit tells an answer over it; at MaxInt64 that would overflow to
		// a negative count, which reads nothing, and no answer can be over it anyway.
		in = io.LimitReader(resp.Body, r.limit+1)
	}
	answer, err := io.ReadAll(in)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", c.svc.ID, r.op, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, r.readError(c.svc.ID, r.op, resp, answer)
	}
	if r.limit > 0 && int64(len(answer)) > r.limit {
		return nil, fmt.Errorf("%s %s: the answer is over %d bytes", c.svc.ID, r.op, r.limit)
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

// xmlError reads an XML error answer, the Query protocol's
// <ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>
// or S3's <Error><Code>NoSuchKey</Code><Message>…</Message><RequestId>…</RequestId></Error>; an
// answer without one (a HEAD's, a proxy's) has its status, and its request id in a header.
func xmlError(service, op string, resp *http.Response, body []byte) *Error {
	var doc struct {
		Code      string `xml:"Code"`
		Message   string `xml:"Message"`
		Error     struct{ Code, Message string }
		RequestID string `xml:"RequestId"`
	}
	_ = xml.Unmarshal(body, &doc) // an answer that is not XML still has a status
	if doc.Code == "" {
		doc.Code, doc.Message = doc.Error.Code, doc.Error.Message
	}
	if doc.Code == "" {
		doc.Code = http.StatusText(resp.StatusCode)
	}
	for _, h := range []string{"X-Amzn-RequestId", "X-Amz-Request-Id"} { // SNS's, S3's
		if doc.RequestID == "" {
			doc.RequestID = resp.Header.Get(h)
		}
	}
	return &Error{Service: service, Op: op, Code: doc.Code, Message: doc.Message, Status: resp.StatusCode, RequestID: doc.RequestID}
}
