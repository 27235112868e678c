package fakeaws

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/internal/testenv"
)

func TestStreamRecordsFromScans(t *testing.T) {
	ctx := context.Background()
	endpoint := testenv.StartDynalite(t)
	db := testenv.DynamoDB(t, endpoint)
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("events"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	put := func(id, n string) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("events"), Item: map[string]ddbtypes.AttributeValue{
			"id": &ddbtypes.AttributeValueMemberS{Value: id}, "n": &ddbtypes.AttributeValueMemberN{Value: n},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	st := &Stream{Endpoint: endpoint, Table: "events", Keys: []string{"id"}, ViewType: "NEW_IMAGE",
		ARN: "arn:aws:dynamodb:us-east-1:0:table/events/stream/x", Region: "us-east-1", Credentials: aws.Credentials{AccessKeyID: "k", SecretAccessKey: "s"}}
	poll := func() []map[string]any {
		t.Helper()
		recs, err := st.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	put("a", "1")
	put("b", "1")
	recs := poll()
	if len(recs) != 2 || recs[0]["eventName"] != "INSERT" || recs[1]["eventName"] != "INSERT" {
		t.Fatalf("first poll %v, want two INSERTs", recs)
	}
	change := recs[0]["dynamodb"].(map[string]any)
	img := change["NewImage"].(map[string]any)
	if img["n"].(map[string]any)["N"] != "1" || change["Keys"].(map[string]any)["id"].(map[string]any)["S"] != "a" || change["OldImage"] != nil {
		t.Errorf("INSERT of a: %v, want keys and the new image in DynamoDB JSON, no old image", change)
	}
	if recs[0]["eventSourceARN"] != st.ARN || recs[0]["eventSource"] != "aws:dynamodb" {
		t.Errorf("record %v does not name its stream", recs[0])
	}
	if again := poll(); len(again) != 0 {
		t.Errorf("a poll with no change returned %v", again)
	}
	put("a", "2") // changed
	put("b", "1") // rewritten as it was: no change, as DynamoDB Streams has it
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("events"), Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "b"}}}); err != nil {
		t.Fatal(err)
	}
	recs = poll()
	if len(recs) != 2 || recs[0]["eventName"] != "MODIFY" || recs[1]["eventName"] != "REMOVE" {
		t.Fatalf("second poll %v, want MODIFY of a and REMOVE of b", recs)
	}
	if n := recs[0]["dynamodb"].(map[string]any)["NewImage"].(map[string]any)["n"].(map[string]any)["N"]; n != "2" {
		t.Errorf("MODIFY image n = %v, want 2", n)
	}
	if recs[1]["dynamodb"].(map[string]any)["NewImage"] != nil {
		t.Errorf("a REMOVE in a NEW_IMAGE stream carries an image: %v", recs[1])
	}
	if s0, s1 := recs[0]["dynamodb"].(map[string]any)["SequenceNumber"].(string), recs[1]["dynamodb"].(map[string]any)["SequenceNumber"].(string); s0 >= s1 {
		t.Errorf("sequence numbers %s, %s do not increase", s0, s1)
	}
}
