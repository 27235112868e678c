package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// fakeAWS answers the few AWS calls the functions make, on 127.0.0.1, so a cold start needs
// no network and no account: Secrets Manager GetSecretValue (AWS JSON 1.1), DynamoDB
// GetItem/PutItem/UpdateItem/Query (AWS JSON 1.0, an empty table that accepts every write) and
// SNS Publish (query protocol, XML). Every call is counted by operation, so a check can tell
// that a function really reached its dependency.
type fakeAWS struct {
	srv     *http.Server
	url     string
	secret  string // the SecretString served
	mu      sync.Mutex
	ops     map[string]int
	unknown []string
}

func startFakeAWS(secret string) (*fakeAWS, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake AWS: %w", err)
	}
	f := &fakeAWS{url: "http://" + ln.Addr().String(), secret: secret, ops: map[string]int{}}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

func (f *fakeAWS) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
}

// count returns how many calls of op ("SecretsManager.GetSecretValue", "DynamoDB.PutItem",
// "SNS.Publish", …) were answered.
func (f *fakeAWS) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops[op]
}

func (f *fakeAWS) unexpected() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.unknown...)
}

func (f *fakeAWS) record(op string, known bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if known {
		f.ops[op]++
	} else {
		f.unknown = append(f.unknown, op)
	}
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	switch {
	case target == "secretsmanager.GetSecretValue":
		f.record("SecretsManager.GetSecretValue", true)
		var in struct{ SecretId string }
		_ = json.Unmarshal(body, &in)
		out, _ := json.Marshal(map[string]any{
			"ARN": in.SecretId, "Name": "hookline-sources", "SecretString": f.secret,
			"VersionId": "00000000-0000-0000-0000-000000000001", "VersionStages": []string{"AWSCURRENT"},
			"CreatedDate": 1.7e9,
		})
		reply(w, "application/x-amz-json-1.1", out)
	case strings.HasPrefix(target, "DynamoDB_20120810."):
		op := strings.TrimPrefix(target, "DynamoDB_20120810.")
		switch op {
		case "GetItem", "PutItem", "UpdateItem":
			// An empty table: GetItem finds nothing, every conditional write succeeds.
			f.record("DynamoDB."+op, true)
			reply(w, "application/x-amz-json-1.0", []byte(`{}`))
		case "Query":
			f.record("DynamoDB."+op, true)
			reply(w, "application/x-amz-json-1.0", []byte(`{"Count":0,"Items":[],"ScannedCount":0}`))
		default:
			f.record("DynamoDB."+op, false)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"com.amazon.coral.service#UnknownOperationException","message":"not faked"}`)
		}
	default:
		form, _ := url.ParseQuery(string(body))
		if form.Get("Action") == "Publish" {
			f.record("SNS.Publish", true)
			reply(w, "text/xml", []byte(`<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">`+
				`<PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult>`+
				`<ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata></PublishResponse>`))
			return
		}
		f.record(fmt.Sprintf("%s %s target=%q action=%q", r.Method, r.URL.Path, target, form.Get("Action")), false)
		http.Error(w, "not faked", http.StatusBadRequest)
	}
}

func reply(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-RequestId", "00000000-0000-0000-0000-000000000000")
	_, _ = w.Write(body)
}
