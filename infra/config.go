package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"hookline/pkg/emailpolicy"
	"hookline/pkg/source"
)

// Context keys read by the app (cdk.json holds the defaults; `-c key=value` overrides them).
const (
	ctxDev       = "dev"           // "true": a disposable stack (DESTROY, no deletion protection)
	ctxEmail     = "email"         // default of the NotifyEmail stack parameter
	ctxAssetDir  = "assetDir"      // where `make lambdas` put <fn>/bootstrap
	ctxRateLimit = "apiRateLimit"  // API stage steady-state requests per second
	ctxBurst     = "apiBurstLimit" // API stage burst, in requests
	ctxSources   = "sources"       // the sources JSON file: a silence alarm per source with expect_every
	ctxUnauth    = "unauthorizedAlarmThreshold"
	// Route throttles: the webhook route and the history routes each get their own bucket, so
	// operators reading the history can never use up what deliveries need.
	ctxWebhookRate  = "webhookRateLimit"
	ctxWebhookBurst = "webhookBurstLimit"
	ctxHistoryRate  = "historyRateLimit"
	ctxHistoryBurst = "historyBurstLimit"
	ctxTracing      = "tracing"     // "true": X-Ray active tracing on every function
	ctxPolicy       = "emailPolicy" // which events get an email or a digest (pkg/emailpolicy JSON)
	ctxNotifiers    = "notifierConcurrency"
)

// Config is everything the stack can be told from outside; the zero value of each field means
// "use the default" (see withDefaults).
type Config struct {
	// AssetDir holds one directory per function with its bootstrap binary.
	AssetDir string
	// Dev makes every stateful resource disposable: RemovalPolicy DESTROY and no deletion
	// protection, so `make destroy` leaves nothing behind. Never use it for real events.
	Dev bool
	// Email is the default of the NotifyEmail parameter; empty means the parameter has no
	// default and `cdk deploy` needs `--parameters NotifyEmail=…` (make deploy EMAIL=…).
	Email string
	// RateLimit and BurstLimit are the stage's default throttle, for any route without its
	// own; they protect the functions and the account's concurrency pool.
	RateLimit  float64
	BurstLimit float64
	// ExpectEvery is, per source that sets "expect_every" in the sources config, how long it
	// may stay silent before its silence alarm fires (read from the file named by the
	// "sources" context: only names and expect_every, never the secrets).
	ExpectEvery map[string]time.Duration
	// UnauthorizedThreshold is how many 401 rejections in 5 minutes raise the
	// UnauthorizedRejections alarm.
	UnauthorizedThreshold float64
	// The webhook route's throttle (ANY /webhooks/{source}), shared by every source: API Gateway
	// counts per route, not per source. Sized for provider bursts.
	WebhookRateLimit  float64
	WebhookBurstLimit float64
	// The history routes' throttle (GET /events, GET /events/{id}), each route its own bucket.
	HistoryRateLimit  float64
	HistoryBurstLimit float64
	// Tracing turns on X-Ray active tracing in every function. Off by default: below about
	// one request a second Lambda samples nearly every invocation, which cost more than
	// everything else per event put together (`hookline cost` shows it either way).
	Tracing bool
	// EmailPolicy says which sources and types get an email, and which a digest; the zero
	// value (no emailPolicy context) emails every event. It becomes the email subscription's
	// filter policy, the notifier's stream filter and the notifier's HOOKLINE_EMAIL_POLICY.
	EmailPolicy emailpolicy.Policy
	// NotifierConcurrency is the notifier's reserved concurrency: 1 (the default) makes it the
	// only sender, so its pacer keeps the email subscription under SNS's 10 messages a second.
	// An account whose concurrency limit is 10 (new accounts) cannot reserve any: deploy with
	// -c notifierConcurrency=none, and the limit then holds per stream shard.
	NotifierConcurrency int
}

// noReservation is NotifierConcurrency's "none".
const noReservation = -1

// Defaults: 50 requests/s steady with bursts of 100 is well above what webhook senders
// produce, while a flood is answered with 429 by API Gateway before it costs a Lambda run.
//
// The webhook route takes 100/s steady with bursts of 500: providers deliver in bursts (a
// GitHub org-wide change, a Stripe payout run, a retry storm after an outage of ours), and a
// 429 there only makes them retry later. The history routes take 10/s with bursts of 20:
// operators and `hookline events tail` (one query a second), never a reason to slow deliveries.
const (
	defaultAssetDir   = "build"
	defaultRateLimit  = 50
	defaultBurstLimit = 100
	// A sender whose secret was rotated wrongly fails every delivery, and senders retry: ten
	// 401s in five minutes is a broken sender (or someone probing), not one typo.
	defaultUnauthorizedThreshold = 10
	defaultWebhookRateLimit      = 100
	defaultWebhookBurstLimit     = 500
	defaultHistoryRateLimit      = 10
	defaultHistoryBurstLimit     = 20
)

func (c Config) withDefaults() Config {
	if c.AssetDir == "" {
		c.AssetDir = defaultAssetDir
	}
	if c.RateLimit == 0 {
		c.RateLimit = defaultRateLimit
	}
	if c.BurstLimit == 0 {
		c.BurstLimit = defaultBurstLimit
	}
	if c.UnauthorizedThreshold == 0 {
		c.UnauthorizedThreshold = defaultUnauthorizedThreshold
	}
	for _, d := range []struct {
		v   *float64
		def float64
	}{
		{&c.WebhookRateLimit, defaultWebhookRateLimit}, {&c.WebhookBurstLimit, defaultWebhookBurstLimit},
		{&c.HistoryRateLimit, defaultHistoryRateLimit}, {&c.HistoryBurstLimit, defaultHistoryBurstLimit},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.EmailPolicy.Sources == nil {
		c.EmailPolicy = emailpolicy.Default()
	}
	if c.NotifierConcurrency == 0 {
		c.NotifierConcurrency = 1
	}
	return c
}

// configFromContext reads the app's context. Values from cdk.json arrive typed (bool, number);
// values from `-c key=value` arrive as strings, so both are accepted.
func configFromContext(app awscdk.App) (Config, error) {
	get := func(k string) any { return app.Node().TryGetContext(jsii.String(k)) }
	var c Config
	var err error
	if c.Dev, err = contextBool(get(ctxDev)); err != nil {
		return c, fmt.Errorf("context %s: %w", ctxDev, err)
	}
	if c.Email, err = contextString(get(ctxEmail)); err != nil {
		return c, fmt.Errorf("context %s: %w", ctxEmail, err)
	}
	if c.AssetDir, err = contextString(get(ctxAssetDir)); err != nil {
		return c, fmt.Errorf("context %s: %w", ctxAssetDir, err)
	}
	if c.RateLimit, err = contextNumber(get(ctxRateLimit)); err != nil {
		return c, fmt.Errorf("context %s: %w", ctxRateLimit, err)
	}
	if c.BurstLimit, err = contextNumber(get(ctxBurst)); err != nil {
		return c, fmt.Errorf("context %s: %w", ctxBurst, err)
	}
	if c.UnauthorizedThreshold, err = contextNumber(get(ctxUnauth)); err != nil {
		return c, fmt.Errorf("context %s: %w", ctxUnauth, err)
	}
	path, err := contextString(get(ctxSources))
	if err != nil {
		return c, fmt.Errorf("context %s: %w", ctxSources, err)
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("context %s: %w", ctxSources, err)
		}
		if c.ExpectEvery, err = source.ExpectEvery(b); err != nil {
			return c, fmt.Errorf("context %s: %s: %w", ctxSources, path, err)
		}
	}
	for _, n := range []struct {
		key string
		v   *float64
	}{
		{ctxWebhookRate, &c.WebhookRateLimit}, {ctxWebhookBurst, &c.WebhookBurstLimit},
		{ctxHistoryRate, &c.HistoryRateLimit}, {ctxHistoryBurst, &c.HistoryBurstLimit},
	} {
		if *n.v, err = contextNumber(get(n.key)); err != nil {
			return c, fmt.Errorf("context %s: %w", n.key, err)
		}
	}
	if c.Tracing, err = contextBool(get(ctxTracing)); err != nil {
		return c, fmt.Errorf("context %s: %w", ctxTracing, err)
	}
	if c.EmailPolicy, err = contextPolicy(get(ctxPolicy)); err != nil {
		return c, fmt.Errorf("context %s: %w", ctxPolicy, err)
	}
	switch v := get(ctxNotifiers); v {
	case nil, "":
	case "none", "0", 0.0:
		c.NotifierConcurrency = noReservation
	default:
		n, err := contextNumber(v)
		if err != nil || n != float64(int(n)) || n < 1 {
			return c, fmt.Errorf("context %s: want a whole number of instances or \"none\", got %v", ctxNotifiers, v)
		}
		c.NotifierConcurrency = int(n)
	}
	return c.withDefaults(), nil
}

// contextPolicy reads the email policy: a JSON object in cdk.json, a JSON string from -c.
func contextPolicy(v any) (emailpolicy.Policy, error) {
	switch v := v.(type) {
	case nil:
		return emailpolicy.Policy{}, nil
	case string:
		if v == "" {
			return emailpolicy.Policy{}, nil
		}
		return emailpolicy.Parse(v)
	case map[string]any:
		b, err := json.Marshal(v)
		if err != nil {
			return emailpolicy.Policy{}, err
		}
		return emailpolicy.Parse(string(b))
	}
	return emailpolicy.Policy{}, fmt.Errorf("want a JSON object, got %v", v)
}

func contextBool(v any) (bool, error) {
	switch v := v.(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string:
		if v == "" {
			return false, nil
		}
		return strconv.ParseBool(v)
	}
	return false, fmt.Errorf("want true or false, got %v", v)
}

func contextString(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("want a string, got %v", v)
}

func contextNumber(v any) (float64, error) {
	switch v := v.(type) {
	case nil:
		return 0, nil
	case float64:
		if v < 0 {
			return 0, fmt.Errorf("want a positive number, got %v", v)
		}
		return v, nil
	case string:
		if v == "" {
			return 0, nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("want a positive number, got %q", v)
		}
		return f, nil
	}
	return 0, fmt.Errorf("want a number, got %v", v)
}
