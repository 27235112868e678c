package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"hookline/pkg/sender"
	"hookline/pkg/source"
)

// headerFlags collects repeated --header K:V flags.
type headerFlags http.Header

func (h headerFlags) String() string { return "" }
func (h headerFlags) Type() string   { return "Name:value" }

func (h headerFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if k = strings.TrimSpace(k); !ok || k == "" {
		return fmt.Errorf("%q is not Name: value", v)
	}
	http.Header(h).Add(k, strings.TrimSpace(val))
	return nil
}

const sendLong = `Signs BODY the way the provider of SCHEME signs webhooks and posts it to <url>/webhooks/<source>.
BODY is the literal body, @file reads a file, - reads stdin.
Prints the status line, the answer and the event id (or, with --json, one JSON object);
exits 1 unless the answer is 2xx.`

const sendExample = `  hookline send --scheme github --secret "it's-a-secret" --source github --type issues '{"action":"opened"}'
  hookline send --scheme slack --secret "$SLACK_SIGNING_SECRET" --source slack @event.json
  hookline send --scheme cloudevents --secret "$TOKEN" --source orders --content-type application/cloudevents-batch+json @batch.json
  echo -n 'A new message has been published' | HOOKLINE_SECRET=dev-token hookline send --scheme token --source postman -`

func (c *app) sendCmd() *cobra.Command {
	var r sender.Request
	var src, url string
	var timeout time.Duration
	var asJSON bool
	headers := headerFlags{}
	cmd := &cobra.Command{
		Use:     "send --scheme SCHEME --secret SECRET --source NAME [flags] BODY|@file|-",
		Short:   "sign a webhook as a provider would and post it",
		Long:    sendLong,
		Example: sendExample,
		Args:    positional(1, 1, "body: BODY, @file or - (stdin)"),
	}
	fs := cmd.Flags()
	fs.StringVar(&r.Scheme, "scheme", "", "how to sign: "+strings.Join(sender.Schemes(), ", "))
	fs.StringVar(&r.Secret, "secret", "", "the source's secret")
	bindEnv(fs, "secret", "HOOKLINE_SECRET")
	fs.StringVar(&src, "source", "", "the source name: the URL path is /webhooks/<source>")
	fs.StringVar(&url, "url", "http://127.0.0.1:8080", "base URL of hookline: local, or the API Gateway URL")
	bindEnv(fs, "url", "HOOKLINE_URL")
	fs.StringVar(&r.Type, "type", "", "event type: X-GitHub-Event for github (default ping), X-Shopify-Topic for shopify; with --type-header for other schemes")
	fs.StringVar(&r.TypeHeader, "type-header", "", "header carrying --type, for sources with type_header")
	fs.StringVar(&r.ContentType, "content-type", "", "Content-Type (default application/json for a JSON body, else text/plain; charset=utf-8)")
	fs.StringVar(&r.DeliveryID, "delivery-id", "", "delivery id: X-GitHub-Delivery, webhook-id, --delivery-header, else Idempotency-Key (github, standard-webhooks and {id} templates generate one)")
	fs.StringVar(&r.HMAC.Header, "hmac-header", "", "hmac-sha256: the signature header")
	fs.StringVar(&r.HMAC.Encoding, "encoding", "", "hmac-sha256: hex (default) or base64")
	fs.StringVar(&r.HMAC.Prefix, "prefix", "", "hmac-sha256: text before the signature, e.g. sha256=")
	fs.StringVar(&r.HMAC.TimestampHeader, "timestamp-header", "", "hmac-sha256: send and sign the unix time in this header")
	fs.StringVar(&r.HMAC.Template, "template", "", "hmac-sha256: signed content with {id}, {timestamp}, {body}; default {body} or {timestamp}.{body}")
	fs.StringVar(&r.HMAC.DeliveryHeader, "delivery-header", "", "hmac-sha256: send --delivery-id in this header (the source's delivery_header); signed where --template has {id}")
	fs.Var(headers, "header", "extra header Name: value (repeatable; replaces a signed header of the same name)")
	fs.DurationVar(&timeout, "timeout", 10*time.Second, "give up on the request after this long")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object: status, event_id, duration_ms, answer")
	completeWords(cmd, "scheme", sender.Schemes()...)
	completeWords(cmd, "encoding", "hex", "base64")

	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		switch {
		case r.Scheme == "":
			return usageErrorf("--scheme: required: one of %s", strings.Join(sender.Schemes(), ", "))
		case r.Secret == "":
			return usageErrorf("--secret: required (or set HOOKLINE_SECRET)")
		case src == "":
			return usageErrorf("--source: required: the name in /webhooks/<source>")
		case !source.ValidName(src): // no configured source has it: the post could only be a 404
			return usageErrorf("--source: %q is not a source name (%s)", src, source.NameRule)
		case !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://"):
			return usageErrorf("--url: %q is not an http(s) URL", url)
		case timeout <= 0:
			return usageErrorf("--timeout: %v is not positive", timeout)
		}
		var err error
		if r.Body, err = sender.ReadBody(args[0], c.stdin); err != nil {
			return err
		}
		if len(headers) > 0 {
			r.Header = http.Header(headers)
		}
		if _, err := sender.Sign(r); err != nil {
			return usageErrorf("--scheme %s: %w", r.Scheme, err)
		}
		start := time.Now()
		resp, err := sender.Send(cmd.Context(), &http.Client{Timeout: timeout}, url, src, r)
		if err != nil {
			return err
		}
		if asJSON {
			err = printSendJSON(c.stdout, resp, time.Since(start))
		} else {
			err = resp.Print(c.stdout)
		}
		if err != nil {
			return err
		}
		if !resp.OK() {
			return fmt.Errorf("not accepted: %s", resp.Status)
		}
		return nil
	}
	return cmd
}

// sendResult is `hookline send --json`: one object, the answer kept as JSON when it is JSON.
type sendResult struct {
	Status     int             `json:"status"`
	StatusText string          `json:"status_text"`
	EventID    string          `json:"event_id,omitempty"`
	DurationMS float64         `json:"duration_ms"`
	Answer     json.RawMessage `json:"answer,omitempty"`
}

func printSendJSON(w io.Writer, resp sender.Response, took time.Duration) error {
	out := sendResult{
		Status:     resp.StatusCode,
		StatusText: resp.Status,
		EventID:    resp.EventID,
		DurationMS: float64(took.Microseconds()) / 1000,
	}
	if body := bytes.TrimSpace(resp.Body); json.Valid(body) {
		out.Answer = body
	} else if len(body) > 0 {
		out.Answer, _ = json.Marshal(string(body))
	}
	enc := json.NewEncoder(w)
	return enc.Encode(out)
}
