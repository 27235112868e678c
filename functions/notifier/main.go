// Command notifier is the notifier Lambda: DynamoDB Stream (INSERT) → completion email on the
// notifications topic → event marked notified, as the email policy says: no email, one email,
// or a place in the source's digest, which the digest schedule's tick sends.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"hookline/pkg/awsjson"
	"hookline/pkg/ddbjson"
	"hookline/pkg/ddbnotify"
	"hookline/pkg/email"
	"hookline/pkg/emailpolicy"
	"hookline/pkg/lambdaio"
	"hookline/pkg/lambdarun"
	"hookline/pkg/metrics"
	"hookline/pkg/pipeline"
	"hookline/pkg/snsbus"
	"hookline/pkg/wiring"
)

func main() { lambdarun.Start(build) }

func build(ctx context.Context, env *lambdarun.Config, log *slog.Logger) (func(context.Context, json.RawMessage) (any, error), error) {
	table := env.Required(wiring.EnvTable)
	topic := env.Required(wiring.EnvNotifyTopicARN)
	templates := env.String(wiring.EnvEmailTemplates, "") // a directory in the bundle; "" = built-in
	maxData := env.Int(wiring.EnvEmailMaxData, wiring.DefaultEmailMaxData, wiring.MinEmailMaxData, wiring.MaxEmailMaxData)
	policyJSON := env.String(wiring.EnvEmailPolicy, "")
	// DynamoDB and SNS through awsjson, not the SDK's clients: the notifier's calls are a few
	// UpdateItem and GetItem and one Publish, and the SDK's packages filled a 0.59 MB schema
	// table and ~700 endpoint entries at every cold start (README, "Cold start, and a trade we
	// made").
	tableCalls := env.Client(ctx, awsjson.DynamoDB)
	notifications := env.Client(ctx, awsjson.SNS)
	if _, err := env.AWS(); err != nil {
		return nil, err
	}
	policy, err := emailpolicy.Parse(policyJSON)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", wiring.EnvEmailPolicy, err)
	}
	composer, err := email.NewComposer(templates, maxData)
	if err != nil {
		return nil, err
	}
	store, err := ddbnotify.New(tableCalls, table)
	if err != nil {
		return nil, err
	}
	// Every email of the function goes through one pacer: SNS suspends an email subscription
	// above 10 messages a second, and the stack runs one notifier at a time.
	mailer := pipeline.NewPacer(&snsbus.Mailer{Client: notifications, TopicARN: topic})
	h := &lambdaio.NotifierHandler{
		DecodeImage: ddbjson.FromStreamImage,
		Service: &pipeline.Notify{
			Store:    store,
			Composer: composer,
			Mailer:   mailer,
			Policy:   policy.Decide,
			Digests:  store,
		},
		Log: log,
		// EMF lines on stdout become CloudWatch metrics: Notified, NotifyFailed,
		// ReceiptToNotifiedMs, PendingNotificationAgeMs.
		Metrics: &metrics.EMF{W: os.Stdout},
	}
	if every := policy.Digests(); len(every) > 0 {
		h.Digest = &pipeline.Digest{Every: every, Store: store, Events: store, Marker: store, Composer: composer, Mailer: mailer}
	}
	return h.Invoke, nil
}
