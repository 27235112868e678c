package lambdarun

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestAWSConfigFromLambdaEnvironment: region and the execution role's credentials as Lambda
// sets them, and a per-service endpoint reaching the client built from the config while
// another service keeps its AWS endpoint.
func TestAWSConfigFromLambdaEnvironment(t *testing.T) {
	cfg, err := AWSConfig(mapEnv(map[string]string{
		"AWS_REGION":                       "eu-west-1",
		"AWS_ACCESS_KEY_ID":                "AKID",
		"AWS_SECRET_ACCESS_KEY":            "SECRET",
		"AWS_SESSION_TOKEN":                "TOKEN",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:4566",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || cfg.BaseEndpoint != nil {
		t.Errorf("region %q, base endpoint %v; want eu-west-1 and none", cfg.Region, cfg.BaseEndpoint)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "AKID" || creds.SecretAccessKey != "SECRET" || creds.SessionToken != "TOKEN" {
		t.Errorf("credentials %+v, want AKID/SECRET/TOKEN", creds)
	}
	if got := aws.ToString(secretsmanager.NewFromConfig(cfg).Options().BaseEndpoint); got != "http://127.0.0.1:4566" {
		t.Errorf("Secrets Manager base endpoint %q, want AWS_ENDPOINT_URL_SECRETS_MANAGER's", got)
	}
	if got := sns.NewFromConfig(cfg).Options().BaseEndpoint; got != nil {
		t.Errorf("SNS base endpoint %q, want none (AWS's)", *got)
	}
}

func TestAWSConfigEndpointForEveryService(t *testing.T) {
	cfg, err := AWSConfig(mapEnv(map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(cfg.BaseEndpoint); got != "http://127.0.0.1:9000" {
		t.Errorf("base endpoint %q, want AWS_ENDPOINT_URL's", got)
	}
}

func TestAWSConfigNamesWhatIsMissing(t *testing.T) {
	_, err := AWSConfig(mapEnv(map[string]string{"AWS_ACCESS_KEY_ID": "AKID"}))
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION, AWS_SECRET_ACCESS_KEY not set") {
		t.Errorf("error %v, want AWS_REGION and AWS_SECRET_ACCESS_KEY named", err)
	}
}
