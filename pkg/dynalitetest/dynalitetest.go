// Package dynalitetest starts dynalite — a DynamoDB-compatible server on Node, pinned in
// .tools/package.json — for tests of the DynamoDB adapters, and builds SDK clients pointed at
// it. Each Start is a fresh in-memory server bound to 127.0.0.1, stopped when the test ends.
//
// Plain `go test ./...` skips these tests with a hint when dynalite is not installed; with
// CI=true a missing dynalite fails the test instead, so CI can never silently skip them.
package dynalitetest

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hookline/pkg/nodetest"
)

// startTimeout bounds how long a server may take to listen; Node starts in well under a second.
const startTimeout = 15 * time.Second

// Start runs a fresh in-memory dynalite on a free 127.0.0.1 port and returns its endpoint URL.
func Start(t testing.TB) (endpoint string) {
	t.Helper()
	node, cli := nodetest.Locate(t, "dynalite/cli.js")
	// dynalite cannot listen on port 0 (it treats 0 as "use 4567"), so pick a free port and
	// retry in the unlikely case another process takes it first.
	var lastErr error
	for range 3 {
		endpoint, lastErr = start(t, node, cli)
		if lastErr == nil {
			return endpoint
		}
	}
	t.Fatalf("start dynalite: %v", lastErr)
	return ""
}

func start(t testing.TB, node, cli string) (string, error) {
	port, err := nodetest.FreePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(node, cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		// Tables become ACTIVE at once instead of after the default 500 ms.
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("run %s: %w", cli, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	// dynalite prints one line once it listens; anything else (EADDRINUSE) ends the process.
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := sc.Scan() && strings.HasPrefix(sc.Text(), "Dynalite listening")
		ready <- ok
		for sc.Scan() { // keep draining so the server never blocks on a full pipe
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			stop()
			return "", fmt.Errorf("dynalite on port %d did not start: %s", port, strings.TrimSpace(stderr.String()))
		}
	case <-time.After(startTimeout):
		stop()
		return "", fmt.Errorf("dynalite on port %d not listening after %v", port, startTimeout)
	}
	t.Cleanup(stop)
	return "http://127.0.0.1:" + strconv.Itoa(port), nil
}

// Client returns a DynamoDB client for the server at endpoint. The config is built by hand so no
// shared config, profile or real credential of the developer is ever read.
func Client(t testing.TB, endpoint string) *dynamodb.Client {
	t.Helper()
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("fake", "fake", ""),
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// Ping is a cheap request that proves the server answers.
func Ping(ctx context.Context, c *dynamodb.Client) error {
	_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
	return err
}
