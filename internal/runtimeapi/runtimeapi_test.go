package runtimeapi_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hookline/internal/runtimeapi"
)

// TestProtocol walks one invocation the way aws-lambda-go's runtime client does: poll, read
// the headers, post the response; then an unknown id is refused as the real API refuses it.
func TestProtocol(t *testing.T) {
	s, err := runtimeapi.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := "http://" + s.Addr() + "/2018-06-01/runtime/"
	s.Enqueue(runtimeapi.Invocation{RequestID: "req-1", Payload: []byte(`{"hello":"world"}`)})

	resp, err := http.Get(base + "invocation/next")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"hello":"world"}` {
		t.Fatalf("next: %d %s", resp.StatusCode, body)
	}
	for _, h := range []string{"Lambda-Runtime-Aws-Request-Id", "Lambda-Runtime-Deadline-Ms", "Lambda-Runtime-Invoked-Function-Arn", "Lambda-Runtime-Trace-Id"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	if s.FirstPoll().IsZero() || s.Polls() != 1 {
		t.Errorf("first poll %v, polls %d", s.FirstPoll(), s.Polls())
	}

	post := func(path, body string) int {
		t.Helper()
		r, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if code := post("invocation/req-1/response", `"ok"`); code != http.StatusAccepted {
		t.Fatalf("response: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.RequestID != "req-1" || res.Kind != "response" || string(res.Body) != `"ok"` || res.At.IsZero() {
		t.Errorf("result %+v", res)
	}
	if code := post("invocation/req-1/response", `"again"`); code != http.StatusBadRequest {
		t.Errorf("second response for the same id: %d, want 400", code)
	}
	if code := post("init/error", `{"errorMessage":"boom","errorType":"Runtime.ExitError"}`); code != http.StatusAccepted {
		t.Errorf("init error: %d", code)
	}
	if res, _ := s.Next(ctx); res.Kind != "init-error" {
		t.Errorf("init error result %+v", res)
	}
}

// TestOnFirstPoll: the hook runs once, on the first poll, before that poll is answered.
func TestOnFirstPoll(t *testing.T) {
	s, err := runtimeapi.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var calls, pollsSeen atomic.Int32
	s.OnFirstPoll(func() {
		calls.Add(1)
		pollsSeen.Store(int32(s.Polls()))
	})
	base := "http://" + s.Addr() + "/2018-06-01/runtime/"
	for i := range 2 {
		s.Enqueue(runtimeapi.Invocation{RequestID: "req-" + string(rune('a'+i)), Payload: []byte(`{}`)})
		resp, err := http.Get(base + "invocation/next")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("poll %d: %d", i, resp.StatusCode)
		}
		if i == 0 && calls.Load() != 1 {
			t.Fatalf("after the first poll's answer the hook ran %d times, want 1", calls.Load())
		}
	}
	if calls.Load() != 1 || pollsSeen.Load() != 1 {
		t.Errorf("hook ran %d times (want 1), seeing %d polls (want 1)", calls.Load(), pollsSeen.Load())
	}
}
