package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"hookline/pkg/localrun"
	"hookline/pkg/wiring"
)

// envVar is one environment variable the CLI reads. The table below is the only place the
// CLI names a HOOKLINE_* variable: flags take their fallback from it (bindEnv), the few
// variables without a flag are read through it (app.env), and `hookline --help` prints it.
// TestEnvTable fails on a HOOKLINE_ name anywhere else in this package.
type envVar struct {
	Name     string
	Commands string // who reads it, for the help table
	Default  string // shown in the help; "" = none
	Usage    string
	// Direct: read with app.env, not through a flag (credentials stay out of argv and ps).
	Direct bool
}

var environment = []envVar{
	{Name: "HOOKLINE_ADDR", Commands: "local", Default: "127.0.0.1:8080", Usage: "listen address (--addr)"},
	{Name: "HOOKLINE_DATA", Commands: "local, events, dlq, sources, rejected, replay, notify", Default: localrun.DefaultDataDir, Usage: "local state directory (--data)"},
	{Name: "HOOKLINE_SOURCES", Commands: "local, sources, rejected", Usage: "sources config file; unset = a generated demo source (--sources)"},
	{Name: "HOOKLINE_ADMIN_TOKEN", Commands: "local", Usage: "admin token for every route but /webhooks/, required with --allow-remote (--admin-token)"},
	{Name: wiring.EnvEmailPolicy, Commands: "local", Usage: "which events get an email or a digest: JSON or @FILE (--email-policy)"},
	{Name: "HOOKLINE_SMTP", Commands: "local, notify", Usage: "SMTP host:port to send emails to, instead of the outbox file (--smtp)"},
	{Name: "HOOKLINE_SMTP_TLS", Commands: "local, notify", Usage: "true: refuse an SMTP server without STARTTLS (--smtp-tls)"},
	{Name: "HOOKLINE_SMTP_USER", Commands: "local, notify", Usage: "SMTP AUTH user (PLAIN or LOGIN); only over TLS or to loopback", Direct: true},
	{Name: "HOOKLINE_SMTP_PASSWORD", Commands: "local, notify", Usage: "SMTP AUTH password, with HOOKLINE_SMTP_USER", Direct: true},
	{Name: wiring.EnvTable, Commands: "events, rejected, replay, notify", Usage: "DynamoDB events table to read instead of --data (--table)"},
	{Name: "HOOKLINE_DLQ_URL", Commands: "dlq", Usage: "SQS dead-letter queue URL, instead of --data (--queue-url)"},
	{Name: "HOOKLINE_URL", Commands: "send", Default: "http://127.0.0.1:8080", Usage: "base URL of hookline (--url)"},
	{Name: "HOOKLINE_SECRET", Commands: "send", Usage: "the source's secret, kept out of shell history (--secret)"},
}

// lookupEnv returns the table's entry for name; a name missing from the table is a bug in
// this package, so it panics (every command is built by the tests).
func lookupEnv(name string) envVar {
	for _, v := range environment {
		if v.Name == name {
			return v
		}
	}
	panic("hookline: " + name + " is not in the environment table (cmd/hookline/env.go)")
}

// envAnnotation marks a flag with the variable that supplies it when it is not given.
const envAnnotation = "hookline_env"

// bindEnv makes the variable name the fallback of flag (already defined on fs) and says so in
// its help. The value is applied by applyEnv after parsing, so help shows the built-in default,
// never a secret from the environment, and a flag given on the command line always wins.
func bindEnv(fs *pflag.FlagSet, flag, name string) {
	v := lookupEnv(name)
	f := fs.Lookup(flag)
	if f == nil {
		panic("hookline: bindEnv: no flag --" + flag)
	}
	f.Usage += " (env " + v.Name + ")"
	if err := fs.SetAnnotation(flag, envAnnotation, []string{v.Name}); err != nil {
		panic(err)
	}
}

// applyEnv sets every flag of fs that was not given on the command line and has a variable
// bound to it from that variable. It leaves Changed false: "given on the command line" stays
// distinguishable from "set in the environment" (--data beats HOOKLINE_TABLE, not the reverse).
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		names := f.Annotations[envAnnotation]
		if err != nil || f.Changed || len(names) == 0 {
			return
		}
		if val := getenv(names[0]); val != "" {
			if e := f.Value.Set(val); e != nil {
				err = usageErrorf("%s: %v", names[0], e)
			}
		}
	})
	return err
}

// envHelp renders the table for `hookline --help`.
func envHelp() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, v := range environment {
		usage := v.Usage
		if v.Default != "" {
			usage += "; default " + v.Default
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, v.Commands, usage)
	}
	tw.Flush()
	return strings.TrimRight(b.String(), "\n")
}
