// Command hello is the baseline for cmd/coldstart: the aws-lambda-go hello world from its
// README, built with the same flags as the hookline functions, so "≤ 2× hello-world to the
// first poll" is measured against what the runtime library alone costs on this machine.
package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
)

type myEvent struct {
	Name string `json:"name"`
}

func handleRequest(_ context.Context, e myEvent) (string, error) {
	return fmt.Sprintf("Hello %s!", e.Name), nil
}

func main() {
	lambda.Start(handleRequest)
}
