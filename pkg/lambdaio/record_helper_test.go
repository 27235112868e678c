package lambdaio_test

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
	"hookline/pkg/event"
)

func lambdaioRecord(rec events.DynamoDBEventRecord) (*event.Record, error) {
	return ddbitem.FromStreamImage(rec.Change.NewImage)
}

// storedInsert is a mem store holding the record of ev's first stream image, as the
// subscriber stored it before the notifier is invoked with ev.
func storedInsert(t *testing.T, ev events.DynamoDBEvent) (*memStore, *event.Record) {
	t.Helper()
	r, err := lambdaioRecord(ev.Records[0])
	if err != nil {
		t.Fatal(err)
	}
	store := newMem()
	store.recs[r.Event.ID] = r
	return store, r
}
