package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/lambdaio"
)

// recorder is a handler that keeps the request it got and answers resp.
type recorder struct {
	got  events.APIGatewayV2HTTPRequest
	resp events.APIGatewayV2HTTPResponse
	err  error
}

func (r *recorder) handle(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r.got = req
	return r.resp, r.err
}

func newGateway(rec *recorder) *Gateway {
	return &Gateway{
		MaxBodyBytes: 64,
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		Routes: []Route{
			{Method: "POST", Pattern: "/webhooks/{source}", Handler: rec.handle},
			{Method: "GET", Pattern: "/events", Handler: rec.handle},
			{Method: "GET", Pattern: "/events/{id}", Handler: rec.handle},
			{Method: "ANY", Pattern: "/healthz", Handler: rec.handle},
		},
	}
}

func serve(t *testing.T, g *Gateway, req *http.Request) *http.Response {
	t.Helper()
	w := httptest.NewRecorder()
	g.ServeHTTP(w, req)
	return w.Result()
}

func TestGatewayRequestShape(t *testing.T) {
	t.Parallel()
	rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 202, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"status":"accepted"}`}}
	g := newGateway(rec)
	req := httptest.NewRequest("POST", "http://hooks.example.com:8080/webhooks/git%20hub?a=1&a=2&b=x", strings.NewReader(`{"x":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Header.Set("User-Agent", "GitHub-Hookshot/abc")
	req.Header.Set("Cookie", "a=1; b=2")
	resp := serve(t, g, req)
	if resp.StatusCode != 202 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != `{"status":"accepted"}` {
		t.Errorf("body = %s", b)
	}
	got := rec.got
	checks := map[string][2]string{
		"Version":        {got.Version, "2.0"},
		"RouteKey":       {got.RouteKey, "POST /webhooks/{source}"},
		"ctx.RouteKey":   {got.RequestContext.RouteKey, "POST /webhooks/{source}"},
		"RawPath":        {got.RawPath, "/webhooks/git%20hub"},
		"RawQueryString": {got.RawQueryString, "a=1&a=2&b=x"},
		"query a":        {got.QueryStringParameters["a"], "1,2"},
		"path source":    {got.PathParameters["source"], "git hub"},
		"x-github-event": {got.Headers["x-github-event"], "push"},
		"x-multi":        {got.Headers["x-multi"], "one,two"},
		"content-type":   {got.Headers["content-type"], "application/json"},
		"host":           {got.Headers["host"], "hooks.example.com:8080"},
		"method":         {got.RequestContext.HTTP.Method, "POST"},
		"path":           {got.RequestContext.HTTP.Path, "/webhooks/git hub"},
		"protocol":       {got.RequestContext.HTTP.Protocol, "HTTP/1.1"},
		"sourceIp":       {got.RequestContext.HTTP.SourceIP, "192.0.2.1"},
		"userAgent":      {got.RequestContext.HTTP.UserAgent, "GitHub-Hookshot/abc"},
		"stage":          {got.RequestContext.Stage, "$default"},
		"domainName":     {got.RequestContext.DomainName, "hooks.example.com"},
		"domainPrefix":   {got.RequestContext.DomainPrefix, "hooks"},
		"body":           {got.Body, `{"x":1}`},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	for k := range got.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q is not lower-case", k)
		}
	}
	if _, ok := got.Headers["cookie"]; ok || strings.Join(got.Cookies, "|") != "a=1|b=2" {
		t.Errorf("cookies = %v, headers has cookie: %v", got.Cookies, ok)
	}
	if got.IsBase64Encoded || got.RequestContext.RequestID == "" || got.RequestContext.TimeEpoch == 0 || got.RequestContext.Time == "" {
		t.Errorf("request context = %+v", got.RequestContext)
	}
	if resp.Header.Get("Apigw-Requestid") != got.RequestContext.RequestID {
		t.Errorf("Apigw-Requestid header does not match the request id")
	}
	// Request ids are unique.
	serve(t, g, httptest.NewRequest("GET", "/events", nil))
	if rec.got.RequestContext.RequestID == got.RequestContext.RequestID {
		t.Error("request id reused")
	}
	if rec.got.QueryStringParameters != nil || rec.got.PathParameters != nil || rec.got.Body != "" {
		t.Errorf("GET /events: %+v", rec.got)
	}
}

func TestGatewayBodyEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ct, body string
		base64   bool
	}{
		{"application/json", `{"a":1}`, false},
		{"text/plain; charset=utf-8", "A new message has been published", false},
		{"application/cloudevents+json", `{}`, false},
		{"application/xml", "<a/>", false},
		{"application/x-www-form-urlencoded", "a=1", false},
		{"application/javascript", "x()", false},
		{"application/octet-stream", "\x00\x01\xfe", true},
		{"", "plain but untyped", true},
		{"text/plain", "\xff\xfe invalid utf-8", true},
		{"image/png", "\x89PNG", true},
	}
	for _, tt := range tests {
		t.Run(tt.ct, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 200}}
			req := httptest.NewRequest("POST", "/webhooks/x", strings.NewReader(tt.body))
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			serve(t, newGateway(rec), req)
			if rec.got.IsBase64Encoded != tt.base64 {
				t.Fatalf("IsBase64Encoded = %v, want %v", rec.got.IsBase64Encoded, tt.base64)
			}
			body := rec.got.Body
			if tt.base64 {
				b, err := base64.StdEncoding.DecodeString(body)
				if err != nil {
					t.Fatal(err)
				}
				body = string(b)
			}
			if body != tt.body {
				t.Errorf("body = %q, want %q", body, tt.body)
			}
		})
	}
}

func problemOf(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var p map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p["type"] != "about:blank" || p["title"] != http.StatusText(resp.StatusCode) || p["status"] != float64(resp.StatusCode) || p["detail"] == "" {
		t.Errorf("problem = %v", p)
	}
	return p
}

func TestGatewayErrors(t *testing.T) {
	t.Parallel()
	rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 200}}
	g := newGateway(rec)

	resp := serve(t, g, httptest.NewRequest("GET", "/nowhere", nil))
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
	problemOf(t, resp)

	resp = serve(t, g, httptest.NewRequest("GET", "/webhooks/github", nil))
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("wrong method: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	problemOf(t, resp)

	resp = serve(t, g, httptest.NewRequest("DELETE", "/healthz", nil))
	if resp.StatusCode != 200 || rec.got.RouteKey != "ANY /healthz" {
		t.Errorf("ANY route: %d, %q", resp.StatusCode, rec.got.RouteKey)
	}

	resp = serve(t, g, httptest.NewRequest("POST", "/webhooks/github", strings.NewReader(strings.Repeat("x", 65))))
	if resp.StatusCode != 413 {
		t.Errorf("large body: %d", resp.StatusCode)
	}
	problemOf(t, resp)
	// Without a Content-Length the limit still holds.
	req := httptest.NewRequest("POST", "/webhooks/github", io.MultiReader(strings.NewReader(strings.Repeat("x", 100))))
	req.ContentLength = -1
	if resp = serve(t, g, req); resp.StatusCode != 413 {
		t.Errorf("large chunked body: %d", resp.StatusCode)
	}

	rec.err = errors.New("dynamodb.eu-west-1.amazonaws.com: secret detail")
	resp = serve(t, g, httptest.NewRequest("GET", "/events/abc", nil))
	if resp.StatusCode != 500 {
		t.Errorf("handler error: %d", resp.StatusCode)
	}
	if p := problemOf(t, resp); strings.Contains(p["detail"].(string), "secret") {
		t.Errorf("internal error leaked: %v", p)
	}
	if rec.got.PathParameters["id"] != "abc" || rec.got.RouteKey != "GET /events/{id}" {
		t.Errorf("path params = %v, route %q", rec.got.PathParameters, rec.got.RouteKey)
	}
}

func TestGatewayResponse(t *testing.T) {
	t.Parallel()
	rec := &recorder{resp: events.APIGatewayV2HTTPResponse{
		StatusCode:        201,
		Headers:           map[string]string{"Content-Type": "image/png", "X-One": "1"},
		MultiValueHeaders: map[string][]string{"X-Many": {"a", "b"}},
		Cookies:           []string{"s=1; HttpOnly"},
		Body:              base64.StdEncoding.EncodeToString([]byte{0x89, 'P', 'N', 'G'}),
		IsBase64Encoded:   true,
	}}
	resp := serve(t, newGateway(rec), httptest.NewRequest("GET", "/events", nil))
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || string(b) != "\x89PNG" || resp.Header.Get("X-One") != "1" ||
		strings.Join(resp.Header.Values("X-Many"), ",") != "a,b" || resp.Header.Get("Set-Cookie") != "s=1; HttpOnly" {
		t.Errorf("response: %d %q %v", resp.StatusCode, b, resp.Header)
	}
}

// TestGatewayResponseContentType: a body without a Content-Type is JSON, as on API Gateway; a
// handler's own type stands; an empty answer gets none.
func TestGatewayResponseContentType(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		resp events.APIGatewayV2HTTPResponse
		want string
	}{
		{"untyped body", events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: `{"a":1}`}, "application/json"},
		{"typed body", events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain"}, Body: "a"}, "text/plain"},
		{"no body", events.APIGatewayV2HTTPResponse{StatusCode: 204}, ""},
	} {
		resp := serve(t, newGateway(&recorder{resp: tt.resp}), httptest.NewRequest("GET", "/events", nil))
		if got := resp.Header.Get("Content-Type"); resp.StatusCode != tt.resp.StatusCode || got != tt.want {
			t.Errorf("%s: %d, Content-Type %q; want %d, %q", tt.name, resp.StatusCode, got, tt.resp.StatusCode, tt.want)
		}
	}
}

// TestGatewayBodyLimitBoundary: a body of exactly MaxBodyBytes reaches the handler whole, with
// or without a Content-Length; one byte more is a 413 that names the limit.
func TestGatewayBodyLimitBoundary(t *testing.T) {
	t.Parallel()
	for _, chunked := range []bool{false, true} {
		for _, n := range []int{64, 65} {
			rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 202}}
			g := newGateway(rec)
			req := httptest.NewRequest("POST", "/webhooks/github", strings.NewReader(strings.Repeat("x", n)))
			req.Header.Set("Content-Type", "text/plain") // handed over as is, not base64
			want := "the body is 65 bytes; the limit is 64"
			if chunked {
				req.ContentLength = -1
				want = "the body is over the 64-byte limit"
			}
			resp := serve(t, g, req)
			switch {
			case n == 64 && (resp.StatusCode != 202 || len(rec.got.Body) != 64):
				t.Errorf("chunked %v, %d bytes: status %d, handler got %d bytes; want 202 with the whole body", chunked, n, resp.StatusCode, len(rec.got.Body))
			case n == 65 && resp.StatusCode != 413:
				t.Errorf("chunked %v, %d bytes: status %d, want 413", chunked, n, resp.StatusCode)
			case n == 65:
				if p := problemOf(t, resp); p["detail"] != want || rec.got.Body != "" {
					t.Errorf("chunked %v: detail %q, want %q; handler got %d bytes", chunked, p["detail"], want, len(rec.got.Body))
				}
			}
		}
	}
	// The default limit is 1 MiB.
	rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 202}}
	g := newGateway(rec)
	g.MaxBodyBytes = 0
	if resp := serve(t, g, httptest.NewRequest("POST", "/webhooks/github", strings.NewReader(strings.Repeat("x", DefaultMaxBodyBytes)))); resp.StatusCode != 202 {
		t.Errorf("1 MiB with the default limit: %d", resp.StatusCode)
	}
	if resp := serve(t, g, httptest.NewRequest("POST", "/webhooks/github", strings.NewReader(strings.Repeat("x", DefaultMaxBodyBytes+1)))); resp.StatusCode != 413 {
		t.Errorf("1 MiB + 1 with the default limit: %d", resp.StatusCode)
	}
}

// TestGatewaySourceIP: the caller's address is the TCP peer, as on API Gateway; only with
// TrustProxy is it the last X-Forwarded-For hop (what the proxy in front saw), never an
// earlier hop a client can write.
func TestGatewaySourceIP(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		trust      bool
		xff        string
		want, wxff string
	}{
		{"peer", false, "", "192.0.2.1", "192.0.2.1"},
		{"forged header ignored", false, "203.0.113.7", "192.0.2.1", "203.0.113.7, 192.0.2.1"},
		{"proxy: last hop", true, "198.51.100.9, 203.0.113.7", "203.0.113.7", "198.51.100.9, 203.0.113.7, 192.0.2.1"},
		{"proxy: v6 last hop", true, "2001:db8::5", "2001:db8::5", "2001:db8::5, 192.0.2.1"},
		{"proxy: mapped v4", true, "::ffff:203.0.113.8", "203.0.113.8", "::ffff:203.0.113.8, 192.0.2.1"},
		{"proxy: garbage hop", true, "203.0.113.7, not-an-ip", "192.0.2.1", "203.0.113.7, not-an-ip, 192.0.2.1"},
		{"proxy: no header", true, "", "192.0.2.1", "192.0.2.1"},
		{"proxy: empty client hop", true, ",203.0.113.7", "203.0.113.7", ",203.0.113.7, 192.0.2.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 202}}
			g := newGateway(rec)
			g.TrustProxy = tt.trust
			req := httptest.NewRequest("POST", "/webhooks/x", strings.NewReader(`{}`)) // RemoteAddr 192.0.2.1:1234
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			serve(t, g, req)
			if got := rec.got.RequestContext.HTTP.SourceIP; got != tt.want {
				t.Errorf("sourceIp = %q, want %q", got, tt.want)
			}
			if got := rec.got.Headers["x-forwarded-for"]; got != tt.wxff {
				t.Errorf("x-forwarded-for = %q, want %q", got, tt.wxff)
			}
		})
	}
}

// named is a handler that answers with its own name, to show which route got a request.
func named(name string) Handler {
	return func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: name}, nil
	}
}

// TestGatewayRouteChoice: of the routes that match, the one with more literal segments wins,
// and at equal specificity an exact method beats ANY — whichever order the routes are listed in.
func TestGatewayRouteChoice(t *testing.T) {
	t.Parallel()
	g := &Gateway{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Routes: []Route{
		{Method: "ANY", Pattern: "/a/{id}", Handler: named("ANY /a listed first")},
		{Method: "GET", Pattern: "/a/{id}", Handler: named("GET /a listed second")},
		{Method: "GET", Pattern: "/b/{id}", Handler: named("GET /b listed first")},
		{Method: "ANY", Pattern: "/b/{id}", Handler: named("ANY /b listed second")},
		{Method: "GET", Pattern: "/c/{id}", Handler: named("GET /c/{id}")},
		{Method: "GET", Pattern: "/c/latest", Handler: named("GET /c/latest")},
		{Method: "GET", Pattern: "/d/latest", Handler: named("GET /d/latest")},
		{Method: "GET", Pattern: "/d/{id}", Handler: named("GET /d/{id}")},
	}}
	for _, tt := range []struct{ method, path, want string }{
		{"GET", "/a/x", "GET /a listed second"},
		{"POST", "/a/x", "ANY /a listed first"},
		{"GET", "/b/x", "GET /b listed first"},
		{"POST", "/b/x", "ANY /b listed second"},
		{"GET", "/c/latest", "GET /c/latest"},
		{"GET", "/c/x", "GET /c/{id}"},
		{"GET", "/d/latest", "GET /d/latest"},
		{"GET", "/d/x", "GET /d/{id}"},
	} {
		resp := serve(t, g, httptest.NewRequest(tt.method, tt.path, nil))
		if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(b) != tt.want {
			t.Errorf("%s %s went to %q (%d), want %q", tt.method, tt.path, b, resp.StatusCode, tt.want)
		}
	}
}

// TestGatewayGreedyPathParameter: a last segment "{name+}" takes the rest of the path, decoded,
// slashes included, and needs at least one segment.
func TestGatewayGreedyPathParameter(t *testing.T) {
	t.Parallel()
	rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 200}}
	g := &Gateway{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Routes: []Route{
		{Method: "GET", Pattern: "/files/{path+}", Handler: rec.handle},
	}}
	for _, tt := range []struct {
		path   string
		status int
		want   string
	}{
		{"/files/a", 200, "a"},
		{"/files/a/b%20c/d", 200, "a/b c/d"},
		{"/files", 404, ""},
		{"/files/", 404, ""},
		{"/other/a", 404, ""},
	} {
		rec.got = events.APIGatewayV2HTTPRequest{}
		resp := serve(t, g, httptest.NewRequest("GET", tt.path, nil))
		if resp.StatusCode != tt.status || rec.got.PathParameters["path"] != tt.want {
			t.Errorf("GET %s: %d, path parameters %v; want %d, path %q", tt.path, resp.StatusCode, rec.got.PathParameters, tt.status, tt.want)
		}
		if tt.status == 200 && rec.got.RouteKey != "GET /files/{path+}" {
			t.Errorf("GET %s: route key %q", tt.path, rec.got.RouteKey)
		}
	}
}

// TestGatewayForwardedHeaders: x-forwarded-proto and -port say how the client reached the
// gateway: the Host's port, else the scheme's default.
func TestGatewayForwardedHeaders(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ url, proto, port string }{
		{"http://hooks.example.com:8080/events", "http", "8080"},
		{"http://hooks.example.com/events", "http", "80"},
		{"https://hooks.example.com/events", "https", "443"},
		{"https://hooks.example.com:8443/events", "https", "8443"},
	} {
		rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 200}}
		serve(t, newGateway(rec), httptest.NewRequest("GET", tt.url, nil)) // https: r.TLS is set
		if h := rec.got.Headers; h["x-forwarded-proto"] != tt.proto || h["x-forwarded-port"] != tt.port {
			t.Errorf("%s: x-forwarded-proto %q, x-forwarded-port %q; want %q, %q", tt.url, h["x-forwarded-proto"], h["x-forwarded-port"], tt.proto, tt.port)
		}
	}
}

// TestGatewayEmptyParts: what API Gateway leaves out stays out — no body is not a base64 body,
// and a query string with no parameters gives no parameters map.
func TestGatewayEmptyParts(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"/events", "/events?&"} {
		rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 200}}
		serve(t, newGateway(rec), httptest.NewRequest("GET", target, nil)) // no Content-Type
		if got := rec.got; got.IsBase64Encoded || got.Body != "" || got.QueryStringParameters != nil {
			t.Errorf("GET %s: isBase64Encoded %v, body %q, queryStringParameters %#v; want false, empty, nil",
				target, got.IsBase64Encoded, got.Body, got.QueryStringParameters)
		}
	}
}

// logLine is one JSON log line of the gateway.
type logLine struct {
	Level      string  `json:"level"`
	Msg        string  `json:"msg"`
	RequestID  string  `json:"request_id"`
	Status     int     `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	Err        string  `json:"err"`
}

// TestGatewayLog: every request gets an access line in the gateway's own logger, with the
// request id the client saw; at warn level for what never reached a handler (a handler logs
// what it answers), at debug level otherwise. A handler's error is logged with its cause,
// which the client never sees. duration_ms is in milliseconds: never more than the time the
// test measured around the whole call.
func TestGatewayLog(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, method, path string
		handlerErr         error
		status             int
		levels             []string // of the lines logged, in order
	}{
		{"handled", "GET", "/events", nil, 200, []string{"DEBUG"}},
		{"no route", "GET", "/nowhere", nil, 404, []string{"WARN"}},
		{"wrong method", "DELETE", "/events", nil, 405, []string{"WARN"}},
		{"handler error", "GET", "/events", errors.New("table gone"), 500, []string{"ERROR", "WARN"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf strings.Builder
			rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 200}, err: tt.handlerErr}
			g := newGateway(rec)
			g.Log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			start := time.Now()
			resp := serve(t, g, httptest.NewRequest(tt.method, tt.path, nil))
			outer := float64(time.Since(start)) / float64(time.Millisecond)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			var lines []logLine
			for l := range strings.Lines(buf.String()) {
				var ll logLine
				if err := json.Unmarshal([]byte(l), &ll); err != nil {
					t.Fatalf("log line %q: %v", l, err)
				}
				lines = append(lines, ll)
			}
			if len(lines) != len(tt.levels) {
				t.Fatalf("log = %s; want %d lines", buf.String(), len(tt.levels))
			}
			for i, l := range lines {
				if l.Level != tt.levels[i] || l.RequestID != resp.Header.Get("Apigw-Requestid") || l.RequestID == "" {
					t.Errorf("line %d: %+v; want level %s and the request id %q", i, l, tt.levels[i], resp.Header.Get("Apigw-Requestid"))
				}
			}
			access := lines[len(lines)-1]
			if access.Msg != "request" || access.Status != tt.status || access.DurationMS < 0 || access.DurationMS > outer {
				t.Errorf("access line %+v; want status %d and 0 ≤ duration_ms ≤ %.3f", access, tt.status, outer)
			}
			if tt.handlerErr != nil && (lines[0].Msg != "handler failed" || lines[0].Err != tt.handlerErr.Error()) {
				t.Errorf("error line %+v; want the handler's error", lines[0])
			}
		})
	}
}

// webhookRequest is a 1 KiB signed-webhook-like POST as a Go client sends it.
func webhookRequest(body []byte) *http.Request {
	req := httptest.NewRequest("POST", "http://127.0.0.1:8080/webhooks/demo", bytes.NewReader(body))
	for k, v := range map[string]string{
		"Content-Type": "application/json", "User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip",
		"X-Github-Event": "push", "X-Github-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		"X-Hub-Signature-256": "sha256=" + strings.Repeat("ab", 32),
	} {
		req.Header.Set(k, v)
	}
	return req
}

// accepted answers like ingest's 202.
func accepted(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return events.APIGatewayV2HTTPResponse{StatusCode: 202,
		Headers: map[string]string{"Content-Type": "application/json", "Location": "/events/x"},
		Body:    `{"id":"x","status":"accepted"}`}, nil
}

// BenchmarkGateway1KiB is the gateway's own work for one webhook: route, read the body, build
// the payload v2 request, write the answer (the handler answers at once; logging at info).
func BenchmarkGateway1KiB(b *testing.B) {
	g := &Gateway{Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Routes: []Route{
		{Method: "ANY", Pattern: "/webhooks/{source}", Handler: accepted},
		{Method: "GET", Pattern: "/events", Handler: accepted},
		{Method: "GET", Pattern: "/events/{id}", Handler: accepted},
		{Method: "GET", Pattern: "/healthz", Handler: accepted},
	}}
	body := bytes.Repeat([]byte("x"), 1024)
	req := webhookRequest(body)
	b.ReportAllocs()
	for b.Loop() {
		req.Body = io.NopCloser(bytes.NewReader(body))
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		if w.Code != 202 {
			b.Fatal(w.Code)
		}
	}
}

// TestGatewayReadsTheWholeBody: the body the handler gets is the whole body, whether the
// request announced its length, announced none (chunked), or (a direct caller) announced a
// wrong one: the announced length only sizes the buffer.
func TestGatewayReadsTheWholeBody(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("0123456789", 100)
	for _, announced := range []int64{-1, 0, 1, 999, 1000, 1001, 4000} {
		rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 202}}
		g := newGateway(rec)
		g.MaxBodyBytes = 0
		req := httptest.NewRequest("POST", "/webhooks/github", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain")
		req.ContentLength = announced
		if resp := serve(t, g, req); resp.StatusCode != 202 || rec.got.Body != body {
			t.Errorf("announced %d: status %d, handler got %d bytes; want 202 with all %d", announced, resp.StatusCode, len(rec.got.Body), len(body))
		}
	}
}

// splitMatch is match as it was written first, splitting pattern and path: the reference
// FuzzMatch holds the segment-walking match to.
func splitMatch(pattern, path string) (map[string]string, int, bool) {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	literals := 0
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") && i == len(ps)-1 {
			if i >= len(segs) || segs[i] == "" {
				return nil, 0, false
			}
			rest, err := url.PathUnescape(strings.Join(segs[i:], "/"))
			if err != nil {
				return nil, 0, false
			}
			params[p[1:len(p)-2]] = rest
			return params, literals, true
		}
		if i >= len(segs) {
			return nil, 0, false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, 0, false
			}
			params[p[1:len(p)-1]] = v
			continue
		}
		if p != segs[i] {
			return nil, 0, false
		}
		literals++
	}
	if len(segs) != len(ps) {
		return nil, 0, false
	}
	return params, literals, true
}

// FuzzMatch: match walks the segments without splitting; for any pattern and path it answers
// what splitting them answers.
func FuzzMatch(f *testing.F) {
	for _, pattern := range []string{"/webhooks/{source}", "/events", "/events/{id}", "/healthz", "/files/{path+}", "/", "/a/{x}/b/{y+}", "{+}", "/c/latest"} {
		for _, path := range []string{"/webhooks/demo", "/webhooks/", "/webhooks/a/b", "/events", "/events/", "/events/x%20y", "/events/%zz",
			"/files/a/b%20c/d", "/files", "/files/", "/files//a", "/", "", "//", "/a/1/b/2/3", "/a/1/b/", "/c/latest/", "/healthz/x"} {
			f.Add(pattern, path)
		}
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		params, lit, ok := match(pattern, path)
		wantParams, wantLit, wantOK := splitMatch(pattern, path)
		if ok != wantOK || (ok && (lit != wantLit || len(params) != len(wantParams))) {
			t.Fatalf("match(%q, %q) = %v, %d, %v; splitting gives %v, %d, %v", pattern, path, params, lit, ok, wantParams, wantLit, wantOK)
		}
		for k, v := range wantParams {
			if got, has := params[k]; !has || got != v {
				t.Fatalf("match(%q, %q) = %v; splitting gives %v", pattern, path, params, wantParams)
			}
		}
	})
}

// withCounter is a slog.Handler at info level that counts WithAttrs calls.
type withCounter struct {
	slog.Handler
	withs *int
}

func (h withCounter) WithAttrs(as []slog.Attr) slog.Handler {
	*h.withs++
	return withCounter{h.Handler.WithAttrs(as), h.withs}
}

// TestGatewayLogsNothingItNeedNot: a request a handler answered writes no gateway line above
// debug, and so the gateway does not even build its logger with the request's attributes
// (slog formats them when With is called, whether a line follows or not); a request that
// never reached a handler still gets its line with them.
func TestGatewayLogsNothingItNeedNot(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	withs := 0
	g := &Gateway{Log: slog.New(withCounter{slog.NewJSONHandler(&buf, nil), &withs}), Routes: []Route{{Method: "ANY", Pattern: "/webhooks/{source}", Handler: accepted}}}
	serve(t, g, webhookRequest([]byte(`{}`)))
	if withs != 0 || buf.Len() != 0 {
		t.Errorf("a handled request: %d With calls, log %q; want none", withs, buf.String())
	}
	resp := serve(t, g, httptest.NewRequest("GET", "/nowhere", nil))
	var l logLine
	if err := json.Unmarshal([]byte(buf.String()), &l); err != nil || withs != 1 || l.RequestID != resp.Header.Get("Apigw-Requestid") || l.Status != 404 {
		t.Errorf("no route: %d With calls, log %q (%v); want one line with the request id and status 404", withs, buf.String(), err)
	}
}

// TestGatewayProblemsNameTheirInstance: what the gateway refuses itself is answered as the
// handlers answer, instance included (the request's escaped path, their payload's rawPath), and
// a 405 is byte for byte the one the Lambda handler gives for the same request.
func TestGatewayProblemsNameTheirInstance(t *testing.T) {
	t.Parallel()
	rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 200}}
	g := newGateway(rec)
	for _, c := range []struct {
		name, method, target, body string
		status                     int
		instance                   string
	}{
		{"no route", "GET", "/nowhere", "", 404, "/nowhere"},
		{"no route, empty source", "POST", "/webhooks/", "{}", 404, "/webhooks/"},
		{"no route, escapes kept", "GET", "/x%1b%5b2J", "", 404, "/x%1b%5b2J"},
		{"wrong method", "DELETE", "/events", "", 405, "/events"},
		{"too large", "POST", "/webhooks/github", strings.Repeat("x", 65), 413, "/webhooks/github"},
	} {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		resp := serve(t, g, httptest.NewRequest(c.method, c.target, body))
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.status)
			continue
		}
		p := problemOf(t, resp)
		if p["instance"] != c.instance {
			t.Errorf("%s: instance %q, want %q (%v)", c.name, p["instance"], c.instance, p)
		}
		if d, _ := p["detail"].(string); strings.ContainsRune(d, 0x1b) {
			t.Errorf("%s: detail %q carries a control character", c.name, d)
		}
	}

	rec.resp = events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "not base64!", IsBase64Encoded: true}
	if p := problemOf(t, serve(t, g, httptest.NewRequest("GET", "/events/abc", nil))); p["instance"] != "/events/abc" {
		t.Errorf("invalid base64 from the handler: instance %q, want /events/abc", p["instance"])
	}

	want := lambdaio.MethodNotAllowed("DELETE", "/events", "GET")
	resp := serve(t, g, httptest.NewRequest("DELETE", "/events", nil))
	got, _ := io.ReadAll(resp.Body)
	if string(got) != want.Body || resp.Header.Get("Allow") != want.Headers["Allow"] {
		t.Errorf("gateway's 405: Allow %q, %s\nhandler's: Allow %q, %s", resp.Header.Get("Allow"), got, want.Headers["Allow"], want.Body)
	}
}

// TestGatewaySlashes: as on AWS, where an HTTP API routes /webhooks/github/ as it does
// /webhooks/github and passes rawPath with its trailing slash, so local and AWS agree on which
// source a URL names (and Twilio's signature, over the URL as sent, still verifies); an empty
// last segment does not fill {source}: /webhooks/ matches no route there either. A run of
// slashes is one: an HTTP API merges them before it routes, and its function sees the merged
// path (brefphp/symfony-bridge#53; localstack#11253, #8170), so POST /webhooks//github is the
// source github there and here, with the same rawPath.
func TestGatewaySlashes(t *testing.T) {
	t.Parallel()
	rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 202}}
	g := newGateway(rec)
	for _, tt := range []struct {
		method, path string
		status       int
		routeKey     string
		params       map[string]string
		rawPath      string
	}{
		{"POST", "/webhooks/github/", 202, "POST /webhooks/{source}", map[string]string{"source": "github"}, "/webhooks/github/"},
		{"GET", "/events/", 202, "GET /events", nil, "/events/"},
		{"GET", "/events/abc/", 202, "GET /events/{id}", map[string]string{"id": "abc"}, "/events/abc/"},
		{"POST", "/webhooks/", 404, "", nil, ""},
		{"POST", "/webhooks//", 404, "", nil, ""},
		{"POST", "/webhooks//github", 202, "POST /webhooks/{source}", map[string]string{"source": "github"}, "/webhooks/github"},
		{"POST", "//webhooks/github", 202, "POST /webhooks/{source}", map[string]string{"source": "github"}, "/webhooks/github"},
		{"POST", "/webhooks///github//", 202, "POST /webhooks/{source}", map[string]string{"source": "github"}, "/webhooks/github/"},
		{"GET", "//events//abc", 202, "GET /events/{id}", map[string]string{"id": "abc"}, "/events/abc"},
		{"GET", "/events", 202, "GET /events", nil, "/events"},
		{"POST", "/webhooks/%2F/github", 404, "", nil, ""}, // an escaped slash is not a separator
	} {
		rec.got = events.APIGatewayV2HTTPRequest{}
		resp := serve(t, g, httptest.NewRequest(tt.method, tt.path, strings.NewReader("{}")))
		got := rec.got
		if resp.StatusCode != tt.status || got.RouteKey != tt.routeKey || fmt.Sprint(got.PathParameters) != fmt.Sprint(tt.params) ||
			got.RawPath != tt.rawPath || (tt.rawPath != "" && got.RequestContext.HTTP.Path != tt.rawPath) {
			t.Errorf("%s %s: %d, route %q, parameters %v, rawPath %q, path %q; want %d, %q, %v, %q", tt.method, tt.path, resp.StatusCode, got.RouteKey,
				got.PathParameters, got.RawPath, got.RequestContext.HTTP.Path, tt.status, tt.routeKey, tt.params, tt.rawPath)
		}
	}
}

func TestMergeSlashesLeavesAPlainPathUnallocated(t *testing.T) { // not parallel: AllocsPerRun
	if got := testing.AllocsPerRun(100, func() { mergeSlashes("/webhooks/github") }); got != 0 {
		t.Errorf("mergeSlashes of a path without // allocates %v times", got)
	}
}
