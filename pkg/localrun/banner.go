package localrun

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"hookline/pkg/email"
	"hookline/pkg/sender"
	"hookline/pkg/source"
)

// DemoBody is the body of the printed curl example.
const DemoBody = `{"zen":"Design for failure.","hook_id":1}`

// demoSignature is what GitHub would send in X-Hub-Signature-256 for DemoBody and secret.
func demoSignature(secret string) string {
	h, err := sender.Sign(sender.Request{Scheme: sender.GitHub, Secret: secret, Body: []byte(DemoBody)})
	if err != nil { // only an empty secret, and demo secrets are generated
		return "(" + err.Error() + ")"
	}
	return h.Get("X-Hub-Signature-256")
}

func printBanner(w io.Writer, url string, cfg Config, set *source.Set, demo *demoSecrets) {
	fmt.Fprintf(w, "hookline local is listening on %s\n", url)
	fmt.Fprintf(w, "  data:    %s (events, queues and stream in %s)\n", cfg.DataDir, DBFile)
	if cfg.SMTPAddr != "" {
		how := "STARTTLS when offered"
		if cfg.SMTPRequireTLS {
			how = "STARTTLS required"
		}
		if cfg.SMTPUser != "" {
			how += ", AUTH as " + cfg.SMTPUser
		}
		fmt.Fprintf(w, "  email:   SMTP to %s (%s)\n", cfg.SMTPAddr, how)
	} else {
		fmt.Fprintf(w, "  email:   appended to %s (mbox)\n", filepath.Join(cfg.DataDir, OutboxDir, email.MboxFile))
	}
	fmt.Fprintf(w, "  web:     %s/ (events, their data, the emails, refused requests)\n", url)
	fmt.Fprintf(w, "  metrics: %s/metrics (Prometheus)\n", url)
	if cfg.AdminToken != "" {
		fmt.Fprintf(w, "  access:  every route but /webhooks/ requires Authorization: Bearer <admin token>\n")
	}
	fmt.Fprintf(w, "  history: %s/events\n\nsources:\n", url)
	for _, name := range set.Names() {
		src, _, _ := set.Lookup(context.Background(), name)
		fmt.Fprintf(w, "  %-12s %-18s POST %s/webhooks/%s\n", name, src.Scheme, url, name)
	}
	if demo == nil {
		fmt.Fprintf(w, "\nsend a signed webhook with: hookline send --help\n\n")
		return
	}
	fmt.Fprintf(w, "\ndemo secrets (generated, kept in %s): demo=%s postman=%s\n", cfg.DataDir, demo.GitHub, demo.Token)
	fmt.Fprintf(w, "\ntry it (signed the way GitHub signs):\n\n")
	fmt.Fprintf(w, "  curl -i %s/webhooks/demo \\\n    -H 'Content-Type: application/json' -H 'X-GitHub-Event: ping' \\\n    -H 'X-Hub-Signature-256: %s' \\\n    -d '%s'\n\n",
		url, demoSignature(demo.GitHub), DemoBody)
	fmt.Fprintf(w, "  curl -i %s/webhooks/postman -H 'Authorization: Bearer %s' \\\n    -H 'Content-Type: text/plain' -d 'A new message has been published'\n\n", url, demo.Token)
	fmt.Fprintf(w, "then: curl -s %s/events   (stored and notified within a second)\n\n", url)
}
