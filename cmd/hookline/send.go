package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"hookline/pkg/sender"
)

// headerFlags collects repeated --header K:V flags.
type headerFlags http.Header

func (h headerFlags) String() string { return "" }

func (h headerFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if k = strings.TrimSpace(k); !ok || k == "" {
		return fmt.Errorf("%q is not Name: value", v)
	}
	http.Header(h).Add(k, strings.TrimSpace(val))
	return nil
}

const sendUsage = `usage: hookline send --scheme SCHEME --secret SECRET --source NAME [flags] BODY|@file|-

Signs BODY the way the provider of SCHEME signs webhooks and posts it to <url>/webhooks/<source>.
Schemes: github, stripe, standard-webhooks, hmac-sha256, intdash, token.
Prints the status line, the answer and the event id; exits non-zero unless the answer is 2xx.

flags:
`

func runSend(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookline send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), sendUsage)
		fs.PrintDefaults()
	}
	var r sender.Request
	fs.StringVar(&r.Scheme, "scheme", "", "how to sign: "+strings.Join(sender.Schemes(), ", "))
	fs.StringVar(&r.Secret, "secret", getenv("HOOKLINE_SECRET"), "the source's secret (env HOOKLINE_SECRET keeps it out of shell history)")
	src := fs.String("source", "", "the source name: the URL path is /webhooks/<source>")
	url := fs.String("url", envOr(getenv, "HOOKLINE_URL", "http://127.0.0.1:8080"), "base URL of hookline: local, or the API Gateway URL (env HOOKLINE_URL)")
	fs.StringVar(&r.Type, "type", "", "event type: X-GitHub-Event for github (default ping); with --type-header for other schemes")
	fs.StringVar(&r.TypeHeader, "type-header", "", "header carrying --type, for sources with type_header")
	fs.StringVar(&r.ContentType, "content-type", "", "Content-Type (default application/json for a JSON body, else text/plain; charset=utf-8)")
	fs.StringVar(&r.DeliveryID, "delivery-id", "", "delivery id: X-GitHub-Delivery, webhook-id, else Idempotency-Key (github and standard-webhooks generate one)")
	fs.StringVar(&r.HMAC.Header, "hmac-header", "", "hmac-sha256: the signature header")
	fs.StringVar(&r.HMAC.Encoding, "encoding", "", "hmac-sha256: hex (default) or base64")
	fs.StringVar(&r.HMAC.Prefix, "prefix", "", "hmac-sha256: text before the signature, e.g. sha256=")
	fs.StringVar(&r.HMAC.TimestampHeader, "timestamp-header", "", "hmac-sha256: send and sign the unix time in this header")
	fs.StringVar(&r.HMAC.Template, "template", "", "hmac-sha256: signed content, default {body} or {timestamp}.{body}")
	headers := headerFlags{}
	fs.Var(headers, "header", "extra header Name: value (repeatable; replaces a signed header of the same name)")
	timeout := fs.Duration("timeout", 10*time.Second, "give up on the request after this long")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return errors.New("send: no body: give BODY, @file or - (stdin)")
	case len(pos) > 1:
		return fmt.Errorf("send: unexpected argument %q: give one body (quote it)", pos[1])
	case r.Scheme == "":
		return fmt.Errorf("--scheme: required: one of %s", strings.Join(sender.Schemes(), ", "))
	case r.Secret == "":
		return errors.New("--secret: required (or set HOOKLINE_SECRET)")
	case *src == "":
		return errors.New("--source: required: the name in /webhooks/<source>")
	case !strings.HasPrefix(*url, "http://") && !strings.HasPrefix(*url, "https://"):
		return fmt.Errorf("--url: %q is not an http(s) URL", *url)
	case *timeout <= 0:
		return fmt.Errorf("--timeout: %v is not positive", *timeout)
	}
	if r.Body, err = sender.ReadBody(pos[0], stdin); err != nil {
		return err
	}
	if len(headers) > 0 {
		r.Header = http.Header(headers)
	}
	if _, err := sender.Sign(r); err != nil {
		return fmt.Errorf("--scheme %s: %w", r.Scheme, err)
	}
	resp, err := sender.Send(ctx, &http.Client{Timeout: *timeout}, *url, *src, r)
	if err != nil {
		return err
	}
	if err := resp.Print(stdout); err != nil {
		return err
	}
	if !resp.OK() {
		return fmt.Errorf("send: not accepted: %s", resp.Status)
	}
	return nil
}
