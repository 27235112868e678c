// Package runtimeapi is a small in-process fake of the AWS Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), the HTTP API that
// aws-lambda-go polls at $AWS_LAMBDA_RUNTIME_API. It lets a real function binary (a
// build/<fn>/bootstrap) run on a laptop: cmd/coldstart times cold starts with it and its test
// proves that each binary answers an invocation correctly.
//
// Only what a custom runtime uses is served: GET invocation/next, POST invocation/{id}/response,
// POST invocation/{id}/error and POST init/error. Every request is timestamped on arrival, so a
// caller can measure exec → first poll and exec → first response without touching the binary.
package runtimeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const prefix = "/2018-06-01/runtime/"

// Invocation is one event queued for the function.
type Invocation struct {
	RequestID   string
	Payload     []byte
	Deadline    time.Time // zero means 30 s after it is handed out
	FunctionARN string    // "" means a fixed fake ARN
	TraceID     string    // "" means a fixed fake trace id
}

// Result is what the function posted back for an invocation, or an init error (RequestID "").
type Result struct {
	RequestID string
	Kind      string // "response", "error" or "init-error"
	Body      []byte
	ErrorType string // Lambda-Runtime-Function-Error-Type, for errors
	At        time.Time
}

// Server is the fake. The zero value is not usable; call Start.
type Server struct {
	srv     *http.Server
	addr    string
	pending chan Invocation
	results chan Result

	mu          sync.Mutex
	onFirstPoll func()
	firstPoll   time.Time
	polls       int
	inflight    map[string]bool
}

// Start listens on 127.0.0.1 (a free port) and serves until Close.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: listen: %w", err)
	}
	s := &Server{
		addr:     ln.Addr().String(),
		pending:  make(chan Invocation, 64),
		results:  make(chan Result, 64),
		inflight: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"invocation/next", s.next)
	mux.HandleFunc("POST "+prefix+"invocation/{id}/response", s.post("response"))
	mux.HandleFunc("POST "+prefix+"invocation/{id}/error", s.post("error"))
	mux.HandleFunc("POST "+prefix+"init/error", s.post("init-error"))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }() // returns ErrServerClosed after Close
	return s, nil
}

// Addr is the value for AWS_LAMBDA_RUNTIME_API (host:port, no scheme).
func (s *Server) Addr() string { return s.addr }

// Enqueue queues an invocation; the next poll receives it.
func (s *Server) Enqueue(inv Invocation) {
	s.pending <- inv
}

// FirstPoll is when the first GET invocation/next arrived (zero if none yet).
func (s *Server) FirstPoll() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstPoll
}

// OnFirstPoll makes the first GET invocation/next call f before it answers: the function is
// blocked on that poll then, so f sees it exactly as it was when it became ready (cmd/coldstart
// reads its CPU time there). Set it before the function starts.
func (s *Server) OnFirstPoll(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onFirstPoll = f
}

// Polls counts GET invocation/next requests so far.
func (s *Server) Polls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls
}

// Next waits for the next result the function posts (a response, an error or an init error).
func (s *Server) Next(ctx context.Context) (Result, error) {
	select {
	case r := <-s.results:
		return r, nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Close stops the server; polls still waiting get their connection closed.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return s.srv.Close()
}

// next long-polls like the real API: it blocks until an invocation is queued.
func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	first := s.polls == 0
	if first {
		s.firstPoll = now
	}
	s.polls++
	hook := s.onFirstPoll
	s.mu.Unlock()
	if first && hook != nil {
		hook()
	}

	var inv Invocation
	select {
	case inv = <-s.pending:
	case <-r.Context().Done():
		return
	}
	if inv.RequestID == "" {
		inv.RequestID = fmt.Sprintf("fake-%d", now.UnixNano())
	}
	if inv.Deadline.IsZero() {
		inv.Deadline = time.Now().Add(30 * time.Second)
	}
	if inv.FunctionARN == "" {
		inv.FunctionARN = "arn:aws:lambda:us-east-1:000000000000:function:fake"
	}
	if inv.TraceID == "" {
		inv.TraceID = "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0"
	}
	s.mu.Lock()
	s.inflight[inv.RequestID] = true
	s.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.RequestID)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.Deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.FunctionARN)
	h.Set("Lambda-Runtime-Trace-Id", inv.TraceID)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.Payload) // a gone client shows up as a missing result
}

func (s *Server) post(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id := r.PathValue("id")
		if kind != "init-error" {
			s.mu.Lock()
			ok := s.inflight[id]
			delete(s.inflight, id)
			s.mu.Unlock()
			if !ok {
				// The real API answers 400 for an id that is not in flight; so do we, so a
				// runtime bug (answering twice) is not hidden.
				http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
				return
			}
		}
		// Error type comes as a header or, with aws-lambda-go's streaming errors, a trailer.
		typ := r.Header.Get("Lambda-Runtime-Function-Error-Type")
		if typ == "" {
			typ = r.Trailer.Get("Lambda-Runtime-Function-Error-Type")
		}
		s.results <- Result{RequestID: id, Kind: kind, Body: body, ErrorType: strings.TrimSpace(typ), At: at}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"OK"}`)
	}
}
