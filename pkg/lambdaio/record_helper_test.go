package lambdaio_test

import (
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/ddbitem"
	"hookline/pkg/event"
	"hookline/pkg/pipeline/storetest"
)

func lambdaioRecord(rec events.DynamoDBEventRecord) (*event.Record, error) {
	return ddbitem.FromStreamImage(rec.Change.NewImage)
}

// storedInsert is a mem store holding the record of ev's first stream image, as the
// subscriber stored it before the notifier is invoked with ev.
func storedInsert(t *testing.T, ev events.DynamoDBEvent) (*storetest.Memory, *event.Record) {
	t.Helper()
	r, err := lambdaioRecord(ev.Records[0])
	if err != nil {
		t.Fatal(err)
	}
	store := &storetest.Memory{}
	store.Add(r)
	return store, r
}

// insertRecord is the stream record DynamoDB Streams makes of r's INSERT: what the notifier is
// invoked with once the subscriber has stored r.
func insertRecord(t testing.TB, r *event.Record, seq string) events.DynamoDBEventRecord {
	t.Helper()
	item, err := ddbitem.Marshal(r, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := ddbitem.ToStreamImage(item)
	if err != nil {
		t.Fatal(err)
	}
	return events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{NewImage: img, SequenceNumber: seq}}
}
