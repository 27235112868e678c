package lambdaio_test

import (
	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
	"hookline/pkg/event"
)

func lambdaioRecord(rec events.DynamoDBEventRecord) (*event.Record, error) {
	return ddbitem.FromStreamImage(rec.Change.NewImage)
}
