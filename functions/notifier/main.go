// Command notifier is the notifier Lambda: DynamoDB Stream (INSERT) → completion email on the
// notifications topic → event marked notified.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbstore"
	"hookline/pkg/email"
	"hookline/pkg/envconf"
	"hookline/pkg/lambdaio"
	"hookline/pkg/lambdarun"
	"hookline/pkg/metrics"
	"hookline/pkg/pipeline"
	"hookline/pkg/snsbus"
	"hookline/pkg/wiring"
)

func main() { lambdarun.Start(build) }

func build(ctx context.Context, getenv func(string) string, log *slog.Logger) (func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error), error) {
	env := envconf.New(getenv)
	table := env.Required(wiring.EnvTable)
	topic := env.Required(wiring.EnvNotifyTopicARN)
	templates := env.String(wiring.EnvEmailTemplates, "") // a directory in the bundle; "" = built-in
	maxData := env.Int(wiring.EnvEmailMaxData, wiring.DefaultEmailMaxData, wiring.MinEmailMaxData, wiring.MaxEmailMaxData)
	if err := env.Err(); err != nil {
		return nil, err
	}
	composer, err := email.NewComposer(templates, maxData)
	if err != nil {
		return nil, err
	}
	cfg, err := lambdarun.AWSConfig(getenv)
	if err != nil {
		return nil, err
	}
	store, err := ddbstore.New(ddbstore.Methods(dynamodb.NewFromConfig(cfg)), table)
	if err != nil {
		return nil, err
	}
	h := &lambdaio.NotifierHandler{
		DecodeImage: ddbitem.FromStreamImage,
		Service: &pipeline.Notify{
			Store:    store,
			Composer: composer,
			// Method values, not the clients: see ddbstore.Methods.
			Mailer: &snsbus.Mailer{Client: snsbus.PublishFunc(sns.NewFromConfig(cfg).Publish), TopicARN: topic},
		},
		Log: log,
		// EMF lines on stdout become CloudWatch metrics: Notified, NotifyFailed,
		// ReceiptToNotifiedMs, PendingNotificationAgeMs.
		Metrics: &metrics.EMF{W: os.Stdout},
	}
	return h.Handle, nil
}
