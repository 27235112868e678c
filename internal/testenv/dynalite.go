package testenv

// dynalite — a DynamoDB-compatible server on Node, pinned in .tools/package.json — for tests of
// the DynamoDB adapters. Each StartDynalite is a fresh in-memory server bound to 127.0.0.1,
// stopped when the test ends.

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// startTimeout bounds how long a server may take to listen; Node starts in well under a second.
const startTimeout = 15 * time.Second

// StartDynalite runs a fresh in-memory dynalite on a free 127.0.0.1 port and returns its endpoint URL.
func StartDynalite(t testing.TB) (endpoint string) {
	t.Helper()
	return StartDynaliteAt(t, "")
}

// StartDynaliteAt is StartDynalite keeping its data in dir (LevelDB on disk) instead of memory,
// for tables too big for RAM (the history benchmark's million events); "" means in memory.
func StartDynaliteAt(t testing.TB, dir string) (endpoint string) {
	t.Helper()
	node, cli := Locate(t, "dynalite/cli.js")
	// dynalite cannot listen on port 0 (it treats 0 as "use 4567"), so pick a free port and
	// retry in the unlikely case another process takes it first.
	var lastErr error
	for range 3 {
		endpoint, lastErr = startDynalite(t, node, cli, dir)
		if lastErr == nil {
			return endpoint
		}
	}
	t.Fatalf("start dynalite: %v", lastErr)
	return ""
}

func startDynalite(t testing.TB, node, cli, dir string) (string, error) {
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	args := []string{cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		// Tables become ACTIVE at once instead of after the default 500 ms.
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
	if dir != "" {
		args = append(args, "--path", dir)
	}
	cmd := Peer(node, args...)
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

// DynamoDB returns a DynamoDB client for the server at endpoint. The config is built by hand so no
// shared config, profile or real credential of the developer is ever read.
func DynamoDB(t testing.TB, endpoint string) *dynamodb.Client {
	t.Helper()
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("fake", "fake", ""),
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// PingDynamoDB is a cheap request that proves the server answers.
func PingDynamoDB(ctx context.Context, c *dynamodb.Client) error {
	_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
	return err
}
