package lambdarun

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// The variables AWSConfig reads. Lambda sets the first four for every function (the
// credentials are the execution role's, valid for the life of the execution environment); the
// endpoint variables are the SDK's own, set only where the AWS services are fakes
// (cmd/coldstart, the rehearsal in infra/).
const (
	EnvAWSRegion          = "AWS_REGION"
	EnvAWSAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvAWSSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvAWSSessionToken    = "AWS_SESSION_TOKEN"
	EnvAWSEndpointURL     = "AWS_ENDPOINT_URL" // every service; AWS_ENDPOINT_URL_<SERVICE ID> for one
)

// AWSConfig is the AWS SDK configuration of a function, from what Lambda puts in its
// environment. It stands in for config.LoadDefaultConfig at cold start: that one looks for
// shared config files and links (and initialises) the SSO, SSO-OIDC, STS and sign-in clients of
// credential chains a Lambda never takes, which made each function start about as slowly again
// as an aws-lambda-go hello world (docs/benchmarks, cold start). A missing variable is an error
// now rather than at the first call.
func AWSConfig(getenv func(string) string) (aws.Config, error) {
	region := getenv(EnvAWSRegion)
	key, secret := getenv(EnvAWSAccessKeyID), getenv(EnvAWSSecretAccessKey)
	var missing []string
	for _, v := range [][2]string{{EnvAWSRegion, region}, {EnvAWSAccessKeyID, key}, {EnvAWSSecretAccessKey, secret}} {
		if v[1] == "" {
			missing = append(missing, v[0])
		}
	}
	if len(missing) > 0 {
		return aws.Config{}, errors.New("AWS configuration: " + strings.Join(missing, ", ") + " not set (Lambda sets them for every function)")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, getenv(EnvAWSSessionToken)),
		// Service clients ask their config sources for AWS_ENDPOINT_URL_<SERVICE ID>.
		ConfigSources: []any{endpointSource(getenv)},
	}
	if u := getenv(EnvAWSEndpointURL); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	return cfg, nil
}

// endpointSource answers the service clients' GetServiceBaseEndpoint as the SDK's EnvConfig
// does: AWS_ENDPOINT_URL_ + the service id in upper case, spaces as underscores
// ("Secrets Manager" → AWS_ENDPOINT_URL_SECRETS_MANAGER).
type endpointSource func(string) string

func (getenv endpointSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := getenv(EnvAWSEndpointURL + "_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}
