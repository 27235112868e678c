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
	// The events table's capacity (see TableCapacity): "on-demand" or "provisioned", and for
	// provisioned the auto scaling floors and target.
	ctxTableCapacity    = "tableCapacity"
	ctxTableWrite       = "tableWriteCapacity"
	ctxTableRead        = "tableReadCapacity"
	ctxIndexWrite       = "indexWriteCapacity"
	ctxIndexRead        = "indexReadCapacity"
	ctxTableUtilization = "tableTargetUtilization"
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
	// Capacity is the events table's billing mode: on-demand (the zero value, the default) or
	// provisioned with auto scaling.
	Capacity TableCapacity
}

// TableCapacity is how the events table pays for reads and writes. On-demand costs nothing
// when idle and is the cheaper mode at a million events a month; at a steady rate (100
// events/s and more) provisioned capacity held at a target utilization by Application Auto
// Scaling is (`hookline cost --template` on a synthesized provisioned stack shows both).
// Provisioned applies to the table and to every GSI; each gets target tracking on its reads
// and writes between its floor and maxCapacityFactor × the floor.
type TableCapacity struct {
	Provisioned bool
	// TableWrite and TableRead are the base table's floors in capacity units, IndexWrite and
	// IndexRead each history index's (ddbstore.TableSchema().Indexes). The quarantine's sparse
	// index gets quarantineCapacity: ingest keeps at most HOOKLINE_KEEP_PER_MINUTE refused
	// requests per source a minute.
	TableWrite, TableRead, IndexWrite, IndexRead float64
	// TargetUtilization is the consumed share of the provisioned capacity auto scaling aims
	// at, in percent (Application Auto Scaling allows 20–90).
	TargetUtilization float64
}

// Provisioned capacity defaults: a sustained 100 events/s of 1 KB JSON payloads. Each event's
// item is 2 KB (2 WCU) and its history index entry under 1 KB (1 WCU), so the floors are what
// 100 events/s consume; auto scaling keeps consumption at 70 % of what is provisioned, so at
// that rate the table holds about 286 WCU and the index 143. Reads: the notifier's consistent
// read per email (the pacer sends at most 10 a second) and the history's queries (10 requests
// a second by the route throttle), which burst capacity and auto scaling absorb.
const (
	defaultTableWriteCapacity = 200
	defaultTableReadCapacity  = 10
	defaultIndexWriteCapacity = 100
	defaultIndexReadCapacity  = 10
	defaultTargetUtilization  = 70
	// maxCapacityFactor × a floor is where auto scaling stops: a cap on what a flood can cost.
	maxCapacityFactor = 10
	// The quarantine index's floor, reads and writes: a few refused requests a second at most.
	quarantineCapacity = 1
)

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

// numberSetting is a Config number read from one context key, and its default.
type numberSetting struct {
	key string
	v   *float64
	def float64
}

// numbers are c's throttles and thresholds: configFromContext reads them, withDefaults fills
// the ones left zero.
func (c *Config) numbers() []numberSetting {
	return []numberSetting{
		{ctxRateLimit, &c.RateLimit, defaultRateLimit},
		{ctxBurst, &c.BurstLimit, defaultBurstLimit},
		{ctxUnauth, &c.UnauthorizedThreshold, defaultUnauthorizedThreshold},
		{ctxWebhookRate, &c.WebhookRateLimit, defaultWebhookRateLimit},
		{ctxWebhookBurst, &c.WebhookBurstLimit, defaultWebhookBurstLimit},
		{ctxHistoryRate, &c.HistoryRateLimit, defaultHistoryRateLimit},
		{ctxHistoryBurst, &c.HistoryBurstLimit, defaultHistoryBurstLimit},
	}
}

func (c Config) withDefaults() Config {
	if c.AssetDir == "" {
		c.AssetDir = defaultAssetDir
	}
	for _, n := range c.numbers() {
		if *n.v == 0 {
			*n.v = n.def
		}
	}
	if c.EmailPolicy.Sources == nil {
		c.EmailPolicy = emailpolicy.Default()
	}
	if c.NotifierConcurrency == 0 {
		c.NotifierConcurrency = 1
	}
	if c.Capacity.Provisioned {
		for _, d := range []struct {
			v   *float64
			def float64
		}{
			{&c.Capacity.TableWrite, defaultTableWriteCapacity}, {&c.Capacity.TableRead, defaultTableReadCapacity},
			{&c.Capacity.IndexWrite, defaultIndexWriteCapacity}, {&c.Capacity.IndexRead, defaultIndexReadCapacity},
			{&c.Capacity.TargetUtilization, defaultTargetUtilization},
		} {
			if *d.v == 0 {
				*d.v = d.def
			}
		}
	}
	return c
}

// configFromContext reads the app's context. Values from cdk.json arrive typed (bool, number);
// values from `-c key=value` arrive as strings, so both are accepted.
func configFromContext(app awscdk.App) (Config, error) {
	get := func(k string) any { return app.Node().TryGetContext(jsii.String(k)) }
	r := &contextReader{get: get}
	var c Config
	c.Dev = contextValue(r, ctxDev, contextBool)
	c.Email = contextValue(r, ctxEmail, contextString)
	c.AssetDir = contextValue(r, ctxAssetDir, contextString)
	for _, n := range c.numbers() {
		*n.v = contextValue(r, n.key, contextNumber)
	}
	c.ExpectEvery = contextValue(r, ctxSources, contextExpectEvery)
	c.Tracing = contextValue(r, ctxTracing, contextBool)
	c.EmailPolicy = contextValue(r, ctxPolicy, contextPolicy)
	if r.err != nil {
		return c, r.err
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
	var err error
	if c.Capacity, err = contextCapacity(get); err != nil {
		return c, err
	}
	return c.withDefaults(), nil
}

// contextReader reads context values one after another. After the first bad one it reads no
// more and keeps that error, named by its key, so a run of reads needs one check at its end.
type contextReader struct {
	get func(string) any
	err error
}

// contextValue reads key with parse, unless r already failed.
func contextValue[T any](r *contextReader, key string, parse func(any) (T, error)) T {
	var v T
	if r.err != nil {
		return v
	}
	v, err := parse(r.get(key))
	if err != nil {
		r.err = fmt.Errorf("context %s: %w", key, err)
	}
	return v
}

// contextCapacity reads the table's capacity mode and, for provisioned, its floors and target.
// The floors and target are refused with on-demand, where they would silently mean nothing.
func contextCapacity(get func(string) any) (TableCapacity, error) {
	var c TableCapacity
	mode, err := contextString(get(ctxTableCapacity))
	if err != nil {
		return c, fmt.Errorf("context %s: %w", ctxTableCapacity, err)
	}
	switch mode {
	case "", "on-demand":
	case "provisioned":
		c.Provisioned = true
	default:
		return c, fmt.Errorf("context %s: want on-demand or provisioned, got %q", ctxTableCapacity, mode)
	}
	for _, n := range []struct {
		key string
		v   *float64
	}{
		{ctxTableWrite, &c.TableWrite}, {ctxTableRead, &c.TableRead},
		{ctxIndexWrite, &c.IndexWrite}, {ctxIndexRead, &c.IndexRead},
		{ctxTableUtilization, &c.TargetUtilization},
	} {
		if *n.v, err = contextNumber(get(n.key)); err != nil {
			return c, fmt.Errorf("context %s: %w", n.key, err)
		}
		switch {
		case *n.v != 0 && !c.Provisioned:
			return c, fmt.Errorf("context %s: only with %s=provisioned", n.key, ctxTableCapacity)
		case *n.v != 0 && *n.v != float64(int64(*n.v)):
			return c, fmt.Errorf("context %s: want a whole number, got %v", n.key, *n.v)
		}
	}
	if u := c.TargetUtilization; u != 0 && (u < 20 || u > 90) {
		return c, fmt.Errorf("context %s: want a percentage from 20 to 90 (Application Auto Scaling's range for DynamoDB), got %v", ctxTableUtilization, u)
	}
	return c, nil
}

// contextExpectEvery reads the expect_every of each source in the sources file the context
// names, if it names one.
func contextExpectEvery(v any) (map[string]time.Duration, error) {
	path, err := contextString(v)
	if err != nil || path == "" {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	every, err := source.ExpectEvery(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return every, nil
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
