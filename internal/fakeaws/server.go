package fakeaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. The zero value serves us-east-1, account 000000000000, allows
// every call and answers DynamoDB as an empty table.
type Options struct {
	Region  string // default us-east-1
	Account string // default 000000000000
	// Authorize decides every call; nil allows everything.
	Authorize Authorizer
	// DynamoDB is the endpoint URL of a DynamoDB-compatible server to forward DynamoDB calls
	// to, after they are attributed and authorized. "" answers as an empty table: GetItem finds
	// nothing, Query returns no items, every write succeeds.
	DynamoDB string
}

// Authorizer decides whether the caller with this access key may perform action on every one of
// resources, given the request's condition keys (Decide evaluates a policy so). A non-nil
// error is the reason for a refusal; the caller gets AWS's access-denied answer with it.
type Authorizer func(accessKey, action string, resources []string, keys Keys) error

// Call is one IAM action a request needed. A request can need several (an SNS publish to an
// encrypted topic needs the key too): each is a Call, with Via naming the request's own action.
type Call struct {
	AccessKey string    // from the request's SigV4 Credential=
	Region    string    // the credential scope's region
	Action    string    // e.g. "sns:Publish", "dynamodb:PutItem", "kms:GenerateDataKey"
	Via       string    // the request's action when Action is implied by it, else ""
	Resources []string  // the ARNs Action applies to
	Keys      Keys      // the condition keys the fake knows of (dynamodb:LeadingKeys)
	Denied    error     // the Authorizer's refusal; nil when allowed
	At        time.Time // when it arrived
}

// Server is the fake. Create it with Start; it serves until Close.
type Server struct {
	URL     string // http://127.0.0.1:port, the endpoint to give every SDK client
	Region  string
	Account string

	srv       *http.Server
	authorize Authorizer
	dynamodb  string
	proxy     *http.Client

	mu         sync.Mutex
	calls      []Call
	unanswered []string
	topics     map[string]*topic            // by ARN
	queues     map[string]*queue            // by ARN
	secrets    map[string]*secret           // by ARN
	buckets    map[string]map[string]Object // by name, then key
	deliveries []Delivery
	kmsKey     []byte // wraps the data keys the fake KMS makes
	// partitionKeys names each declared table's partition key attribute (DeclareTable).
	partitionKeys map[string]string
}

// Start listens on a free 127.0.0.1 port.
func Start(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake AWS: %w", err)
	}
	s := &Server{
		URL:       "http://" + ln.Addr().String(),
		Region:    cmpOr(opts.Region, "us-east-1"),
		Account:   cmpOr(opts.Account, "000000000000"),
		authorize: opts.Authorize,
		dynamodb:  strings.TrimRight(opts.DynamoDB, "/"),
		proxy:     &http.Client{Timeout: 30 * time.Second},
		topics:    map[string]*topic{},
		queues:    map[string]*queue{},
		secrets:   map[string]*secret{},
		buckets:   map[string]map[string]Object{},

		partitionKeys: map[string]string{},
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }() // ErrServerClosed after Close
	return s, nil
}

// Close stops the server; long polls still waiting are cut off.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	_ = s.srv.Close()
}

// Calls returns every call so far, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Count returns how many calls of action ("sns:Publish", "dynamodb:PutItem", …) were allowed.
func (s *Server) Count(action string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Action == action && c.Via == "" && c.Denied == nil {
			n++
		}
	}
	return n
}

// Unanswered lists the requests the fake does not serve (each answered with an error).
func (s *Server) Unanswered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.unanswered...)
}

// request is one decoded request: who sent it, for which service, and its parameters.
type request struct {
	ctx       context.Context
	w         http.ResponseWriter
	accessKey string
	region    string
	service   string // the SigV4 signing name the request was signed for
	want      string // the signing name of the service it went to: sns, sqs, secretsmanager, dynamodb, s3
	op        string // the operation: Publish, ReceiveMessage, GetSecretValue, PutItem, PutObject
	body      []byte
	header    http.Header
	form      url.Values // query protocol parameters (SNS)
}

// jsonTargets are the JSON-protocol services by the prefix of X-Amz-Target: the signing name
// a request to each must carry, and its handler (DynamoDB's forwards r to dynalite).
var jsonTargets = map[string]struct {
	want  string
	serve func(s *Server, req *request, r *http.Request)
}{
	"AmazonSQS":         {"sqs", func(s *Server, req *request, _ *http.Request) { s.serveSQS(req) }},
	"secretsmanager":    {"secretsmanager", func(s *Server, req *request, _ *http.Request) { s.serveSecretsManager(req) }},
	"TrentService":      {"kms", func(s *Server, req *request, _ *http.Request) { s.serveKMS(req) }},
	"DynamoDB_20120810": {"dynamodb", (*Server).serveDynamoDB},
}

// credential matches SigV4's "Credential=AKID/20260101/us-east-1/sns/aws4_request".
var credential = regexp.MustCompile(`Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request`)

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := &request{ctx: r.Context(), w: w, body: body, header: r.Header}
	if m := credential.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		req.accessKey, req.region, req.service = m[1], m[2], m[3]
	}
	target := r.Header.Get("X-Amz-Target")
	prefix, op, _ := strings.Cut(target, ".")
	jsonTarget, isJSON := jsonTargets[prefix]
	switch {
	case target == "" && r.Method == http.MethodPost:
		// The query protocol: only SNS speaks it here.
		req.form, _ = url.ParseQuery(string(body))
		req.op, req.want = req.form.Get("Action"), "sns"
		s.serveSNS(req)
	case target == "":
		// S3's REST calls: PUT and GET on an object's URL (s3.go).
		req.want = "s3"
		s.serveS3(req, r)
	case isJSON:
		req.op, req.want = op, jsonTarget.want
		jsonTarget.serve(s, req, r)
	default:
		s.unknown(req, fmt.Sprintf("%s %s target=%q", r.Method, r.URL.Path, target))
	}
}

// allow records the calls a request needs, each decided by the Authorizer, and reports the
// first refusal (nil when all are allowed).
func (s *Server) allow(req *request, action string, resources []string, keys Keys, implied ...impliedCall) error {
	needs := []Call{{Action: action, Resources: resources, Keys: keys}}
	for _, ic := range implied {
		needs = append(needs, Call{Action: ic.action, Via: action, Resources: ic.resources})
	}
	var first error
	for _, c := range needs {
		c.AccessKey, c.Region, c.At = req.accessKey, req.region, time.Now()
		switch {
		case req.accessKey == "":
			c.Denied = errors.New("the request is not signed (no SigV4 Credential=)")
		case req.service != req.want:
			c.Denied = fmt.Errorf("signed for service %q, sent to %s", req.service, req.want)
		case s.authorize != nil:
			c.Denied = s.authorize(c.AccessKey, c.Action, c.Resources, c.Keys)
		}
		if c.Denied == nil && c.Region != s.Region {
			c.Denied = fmt.Errorf("signed for region %s, the fake serves %s", c.Region, s.Region)
		}
		s.mu.Lock()
		s.calls = append(s.calls, c)
		s.mu.Unlock()
		if c.Denied != nil && first == nil {
			first = fmt.Errorf("access key %s is not authorized to perform: %s on resource: %s because %v",
				c.AccessKey, c.Action, strings.Join(c.Resources, ", "), c.Denied)
		}
	}
	return first
}

type impliedCall struct {
	action    string
	resources []string
}

func (s *Server) unknown(req *request, what string) {
	s.mu.Lock()
	s.unanswered = append(s.unanswered, what)
	s.mu.Unlock()
	if req.form != nil {
		queryError(req.w, http.StatusBadRequest, "InvalidAction", "not faked: "+what)
		return
	}
	if req.want == "s3" {
		s3Error(req.w, http.StatusNotImplemented, "NotImplemented", "not faked: "+what, "")
		return
	}
	jsonError(req.w, http.StatusBadRequest, "UnknownOperationException", "not faked: "+what)
}

// jsonReply answers an AWS JSON protocol request.
func jsonReply(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", requestID())
	_, _ = w.Write(b)
}

// jsonError is an AWS JSON protocol error; the SDKs read the code from __type.
func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", requestID())
	w.Header().Set("X-Amzn-Query-Error", code+";Sender") // SQS's query-compatible error code
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": code, "message": msg, "Message": msg})
	_, _ = w.Write(b)
}

// queryError is a query protocol (SNS) error document.
func queryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>`+
		`<Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, xmlEscape(code), xmlEscape(msg), requestID())
}

var reqSeq struct {
	sync.Mutex
	n int
}

// requestID is a well-formed, unique request id.
func requestID() string {
	reqSeq.Lock()
	defer reqSeq.Unlock()
	reqSeq.n++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", reqSeq.n)
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
