package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
}

func run() error {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	cfg, err := configFromContext(app)
	if err != nil {
		return err
	}
	if err := checkAssets(cfg.AssetDir); err != nil {
		return err
	}
	NewHookline(app, "Hookline", &HooklineProps{
		StackProps: awscdk.StackProps{
			Env:         environment(os.Getenv),
			Description: jsii.String("hookline: webhooks in, events stored, emails out"),
		},
		Config: cfg,
	})
	app.Synth(nil)
	return nil
}

// environment pins the stack to the CLI's account and region when it has them. Without
// credentials (offline `cdk synth`, CI) it returns nil: an environment-agnostic template.
func environment(getenv func(string) string) *awscdk.Environment {
	account, region := getenv("CDK_DEFAULT_ACCOUNT"), getenv("CDK_DEFAULT_REGION")
	if account == "" || region == "" {
		return nil
	}
	return &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
}

// checkAssets fails early with the fix, instead of CDK's "Cannot find asset" deep in a stack
// trace, when the function binaries have not been built.
func checkAssets(dir string) error {
	for _, fn := range functionNames {
		p := filepath.Join(dir, fn, "bootstrap")
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s is missing: run `make lambdas` (or `make synth`, which does) first", p)
		} else if err != nil {
			return err
		}
	}
	return nil
}
