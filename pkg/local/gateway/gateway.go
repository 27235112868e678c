// Package gateway is what an API Gateway HTTP API (payload format 2.0) is on AWS, for
// `hookline local`: it routes HTTP requests to the real Lambda handlers as
// events.APIGatewayV2HTTPRequest and writes their events.APIGatewayV2HTTPResponse back, so the
// handlers run unchanged on a laptop. Requests that never reach a handler (no route, wrong
// method, body too large) get the same problem+json the handlers answer with. pkg/localrun
// wires it.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/pipeline"
	"hookline/pkg/problem"
)

// Handler is a Lambda handler behind an HTTP API route: lambdaio.HTTPHandler, declared here so
// the local gateway does not import the Lambda adapters it serves.
type Handler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Route maps an API Gateway route key to a Lambda handler.
type Route struct {
	Method  string // an HTTP method or "ANY"
	Pattern string // "/events/{id}"; a last segment "{name+}" takes the rest of the path
	Handler Handler
}

// DefaultMaxBodyBytes is the request body limit when Gateway.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// Gateway serves Routes over HTTP the way an API Gateway HTTP API (payload format 2.0) invokes
// Lambda handlers, so the handlers run unchanged on a laptop.
type Gateway struct {
	Routes       []Route
	MaxBodyBytes int64        // 0 means DefaultMaxBodyBytes
	Log          *slog.Logger // nil means slog.Default()
	// TrustProxy takes requestContext.http.sourceIp from the last X-Forwarded-For hop (the
	// address the reverse proxy in front saw) instead of the TCP peer, which is then the proxy.
	// Without a proxy that sets the header, anyone could claim any address: off by default.
	TrustProxy bool
}

var _ http.Handler = (*Gateway)(nil)

func (g *Gateway) logger() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.Default()
}

// match reports whether the escaped path matches pattern, with its decoded path parameters,
// and how many literal segments it matched (more is more specific). It walks both strings
// segment by segment instead of splitting them: every request tries every route.
func match(pattern, path string) (map[string]string, int, bool) {
	ps, segs := segments{rest: strings.Trim(pattern, "/")}, segments{rest: strings.Trim(path, "/")}
	var params map[string]string
	literals := 0
	for p, ok := ps.next(); ok; p, ok = ps.next() {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") && ps.done {
			// The rest of the path, from this segment on, slashes included.
			rest, more := segs.rest, !segs.done
			if seg, _ := segs.next(); !more || seg == "" {
				return nil, 0, false
			}
			rest, err := url.PathUnescape(rest)
			if err != nil {
				return nil, 0, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-2]] = rest
			return params, literals, true
		}
		seg, ok := segs.next()
		if !ok {
			return nil, 0, false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			v, err := url.PathUnescape(seg)
			if err != nil || v == "" {
				return nil, 0, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = v
			continue
		}
		if p != seg {
			return nil, 0, false
		}
		literals++
	}
	if !segs.done { // the path has more segments than the pattern
		return nil, 0, false
	}
	return params, literals, true
}

// segments yields the "/"-separated parts of rest, as strings.Split would, without a slice.
type segments struct {
	rest string // what is left, from the next segment on (valid while !done)
	done bool
}

func (s *segments) next() (string, bool) {
	if s.done {
		return "", false
	}
	seg, rest, more := strings.Cut(s.rest, "/")
	s.rest, s.done = rest, !more
	return seg, true
}

func (g *Gateway) route(method, path string) (*Route, map[string]string, []string) {
	var best *Route
	var bestParams map[string]string
	bestLit := -1
	matched := false
	for i := range g.Routes {
		rt := &g.Routes[i]
		params, lit, ok := match(rt.Pattern, path)
		if !ok {
			continue
		}
		matched = true
		if rt.Method == "ANY" || rt.Method == method {
			// The most specific path wins; an exact method beats ANY at equal specificity.
			if lit > bestLit || (lit == bestLit && best.Method == "ANY" && rt.Method != "ANY") {
				best, bestParams, bestLit = rt, params, lit
			}
		}
	}
	if best != nil || !matched {
		return best, bestParams, nil
	}
	// Only a refusal needs the methods the path allows (the Allow header of a 405).
	var allow []string
	for i := range g.Routes {
		rt := &g.Routes[i]
		if _, _, ok := match(rt.Pattern, path); ok && !slices.Contains(allow, rt.Method) {
			allow = append(allow, rt.Method)
		}
	}
	slices.Sort(allow)
	return nil, nil, allow
}

// ServeHTTP builds the payload v2 request, invokes the route's handler and writes its response.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := newRequestID()
	w.Header().Set("Apigw-Requestid", requestID)
	log := &requestLog{base: g.logger(), requestID: requestID, method: r.Method, path: r.URL.Path}
	status, handled := g.serve(w, r, requestID, start, log)
	// The handlers log each request they answer, with its event id; this access line (like
	// API Gateway's access log) only needs to be seen for what never reached a handler.
	level := slog.LevelDebug
	if !handled {
		level = slog.LevelWarn
	}
	if log.base.Enabled(r.Context(), level) {
		log.logger().Log(r.Context(), level, "request", "status", status, "duration_ms", float64(time.Since(start).Microseconds())/1000)
	}
}

// requestLog is the gateway's logger with the request's attributes, built only when a line is
// written: Logger.With formats them at once, and most requests log nothing here.
type requestLog struct {
	base                    *slog.Logger
	requestID, method, path string
	with                    *slog.Logger
}

func (l *requestLog) logger() *slog.Logger {
	if l.with == nil {
		l.with = l.base.With("request_id", l.requestID, "method", l.method, "path", l.path)
	}
	return l.with
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, requestID string, start time.Time, log *requestLog) (status int, handled bool) {
	// rawPath is also every problem's instance and the path its detail names, as the handlers
	// answer (they name the payload's rawPath): the escaped path, which cannot carry a control
	// character into a terminal or a log.
	rawPath := mergeSlashes(r.URL.EscapedPath())
	rt, params, allow := g.route(r.Method, rawPath)
	if rt == nil {
		if len(allow) == 0 {
			return writeProblem(w, pipeline.KindNotFound, fmt.Sprintf("no route matches %s", rawPath), rawPath), false
		}
		if slices.Contains(allow, "ANY") {
			allow = []string{"ANY"} // unreachable in practice: ANY matches every method
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return writeProblem(w, pipeline.KindMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, rawPath, strings.Join(allow, ", ")), rawPath), false
	}

	limit := g.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		if r.ContentLength-limit <= DrainOverLimit && !expectsContinue(r) {
			drain(r.Body, r.ContentLength)
		}
		return writeProblem(w, pipeline.KindTooLarge, fmt.Sprintf("the body is %d bytes; the limit is %d", r.ContentLength, limit), rawPath), false
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, limit), r.ContentLength)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			drain(r.Body, DrainOverLimit) // chunked: what is left past the limit, up to the bound
			return writeProblem(w, pipeline.KindTooLarge, fmt.Sprintf("the body is over the %d-byte limit", limit), rawPath), false
		}
		return writeProblem(w, pipeline.KindInvalid, "the request body could not be read", rawPath), false
	}

	req := buildRequest(r, rawPath, rt, params, body, requestID, start, g.TrustProxy)
	resp, err := invoke(r.Context(), rt.Handler, req)
	if err != nil {
		// Lambda would answer 500 "Internal Server Error"; the cause stays in the log.
		log.logger().Error("handler failed", "route", req.RouteKey, "err", err)
		return writeProblem(w, pipeline.KindInternal, "", rawPath), false
	}
	return writeResponse(w, resp, rawPath, log), true
}

// DrainOverLimit is how far past the body limit the gateway reads a refused body before it
// answers 413. A client that writes its whole body before reading (most do, unless they send
// Expect: 100-continue) is otherwise reset: the server closes on bytes it never read, and the
// reset takes the 413 with it. Past this bound the body is not read (that would let anyone
// make the server read without end) and such a client may still see a reset.
const DrainOverLimit = 1 << 20

// drain reads and drops up to n bytes of a refused body, so the connection can carry the answer.
func drain(body io.Reader, n int64) { _, _ = io.CopyN(io.Discard, body, n) }

// expectsContinue reports whether the client waits for 100 Continue before it sends the body:
// it has sent none, and reading the body would ask it for all of it.
func expectsContinue(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Expect"), "100-continue")
}

// readBody reads r to its end, into one buffer of the size the request announced (io.ReadAll
// starts at 512 bytes and grows, copying, through every size up to a webhook's); size < 0 is
// unknown (chunked).
func readBody(r io.Reader, size int64) ([]byte, error) {
	if size < 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, size+1) // +1: the read that finds the end needs room, or b would grow
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) { // longer than announced: let append pick the growth
			b = append(b, 0)[:len(b)]
		}
	}
}

// invoke calls h as the Lambda runtime would: a panic becomes the invocation's error.
func invoke(ctx context.Context, h Handler, req events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, req)
}

// mergeSlashes is p with every run of slashes made one, as an HTTP API does before it routes
// and before its Lambda sees rawPath (brefphp/symfony-bridge#53: /proxy/https://x reaches the
// function as /proxy/https:/x; localstack#11253, #8170: /prod//orders, //hello are served):
// POST /webhooks//github is the source github on AWS, so it is here too. A path without "//"
// is returned as is, unallocated.
func mergeSlashes(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b = append(b, p[i])
	}
	return string(b)
}

// buildRequest is the API Gateway HTTP API payload format 2.0 request for r, whose escaped
// path, slashes merged, is rawPath.
func buildRequest(r *http.Request, rawPath string, rt *Route, params map[string]string, body []byte, requestID string, at time.Time, trustProxy bool) events.APIGatewayV2HTTPRequest {
	headers := make(map[string]string, len(r.Header)+4)
	var cookies []string
	for name, vals := range r.Header {
		n := lowerName(name)
		if n == "cookie" { // payload v2 moves cookies to their own field
			for _, v := range vals {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[n] = strings.Join(vals, ",")
	}
	headers["host"] = r.Host
	sourceIP, port := r.RemoteAddr, ""
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = h
	}
	peer := sourceIP
	if trustProxy {
		if hop, ok := lastHop(headers["x-forwarded-for"]); ok {
			sourceIP = hop
		}
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		port = p
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[proto]
	}
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + peer
	} else {
		headers["x-forwarded-for"] = peer
	}
	headers["x-forwarded-proto"] = proto
	headers["x-forwarded-port"] = port

	var query map[string]string
	if r.URL.RawQuery != "" {
		if vals, err := url.ParseQuery(r.URL.RawQuery); err == nil && len(vals) > 0 {
			query = make(map[string]string, len(vals))
			for k, v := range vals {
				query[k] = strings.Join(v, ",")
			}
		}
	}
	domain := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		domain = h
	}
	prefix, _, _ := strings.Cut(domain, ".")
	routeKey := rt.Method + " " + rt.Pattern
	if rt.Method == "ANY" {
		routeKey = "ANY " + rt.Pattern
	}
	req := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               rawPath,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        "local",
			DomainName:   domain,
			DomainPrefix: prefix,
			Time:         at.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    at.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      mergeSlashes(r.URL.Path),
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isTextContent(headers["content-type"]) && utf8.Valid(body) {
			// body is this request's own buffer and nothing writes to it any more: the string
			// can share its bytes instead of copying them.
			req.Body = unsafe.String(unsafe.SliceData(body), len(body))
		} else {
			req.Body = base64.StdEncoding.EncodeToString(body)
			req.IsBase64Encoded = true
		}
	}
	return req
}

// lowerNames holds the lower-case form of the header names HTTP clients and webhook providers
// commonly send (net/http canonicalises names: "X-Github-Event"), so that building a request
// looks them up instead of allocating a lower-case copy of each.
var lowerNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"Accept", "Accept-Encoding", "Authorization", "Connection", "Content-Encoding",
		"Content-Length", "Content-Type", "Cookie", "Forwarded", "Traceparent", "User-Agent",
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Proto", "X-Request-Id",
		"X-Github-Delivery", "X-Github-Event", "X-Github-Hook-Id", "X-Github-Hook-Installation-Target-Id",
		"X-Github-Hook-Installation-Target-Type", "X-Hub-Signature", "X-Hub-Signature-256",
		"Stripe-Signature", "Webhook-Id", "Webhook-Signature", "Webhook-Timestamp", "X-Twilio-Signature",
		"Ce-Id", "Ce-Source", "Ce-Specversion", "Ce-Type", "Ce-Time", "Ce-Subject",
	} {
		m[n] = strings.ToLower(n)
	}
	return m
}()

func lowerName(name string) string {
	if low, ok := lowerNames[name]; ok {
		return low
	}
	return strings.ToLower(name)
}

// lastHop is the last address in an X-Forwarded-For value: the one the nearest proxy added,
// the only one it vouches for. Earlier hops are whatever the client sent.
func lastHop(xff string) (string, bool) {
	if xff == "" {
		return "", false
	}
	if i := strings.LastIndexByte(xff, ','); i >= 0 {
		xff = xff[i+1:]
	}
	a, err := netip.ParseAddr(strings.TrimSpace(xff))
	if err != nil {
		return "", false
	}
	return a.Unmap().String(), true
}

// isTextContent reports whether API Gateway would pass a body of this Content-Type as text.
func isTextContent(ct string) bool {
	if ct == "application/json" { // what nearly every webhook sends: no need to parse it
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/x-www-form-urlencoded",
		mt == "application/javascript":
		return true
	}
	return false
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse, rawPath string, log *requestLog) int {
	body := resp.Body
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			log.logger().Error("handler returned an invalid base64 body", "err", err)
			return writeProblem(w, pipeline.KindInternal, "", rawPath)
		}
		body = string(b)
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json") // API Gateway's default for Lambda proxy answers
	}
	w.WriteHeader(status)
	io.WriteString(w, body) // net/http's writer takes the string as is: no copy into a []byte
	return status
}

// writeProblem answers with the same problem+json the handlers use (pkg/problem), with the
// request's escaped path as its instance, as theirs have.
func writeProblem(w http.ResponseWriter, kind pipeline.Kind, detail, instance string) int {
	return problem.Write(w, problem.For(&pipeline.Error{Kind: kind, Detail: detail}, instance))
}

// newRequestID returns an id shaped like API Gateway's (e.g. "JKJaXmPLvHcESHA=").
func newRequestID() string {
	var b [10]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
