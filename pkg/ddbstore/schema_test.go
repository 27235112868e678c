package ddbstore_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbstore"
)

// TestSchemaMatchesItems: every key the schema declares is a string attribute of every item,
// so no event silently drops out of an index (GSIs skip items that lack their keys).
func TestSchemaMatchesItems(t *testing.T) {
	t.Parallel()
	item, err := ddbitem.Marshal(record(t, "github", "push", received), received.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	s := ddbstore.TableSchema()
	keys := []string{s.PartitionKey}
	for _, ix := range s.Indexes {
		keys = append(keys, ix.PartitionKey, ix.SortKey)
	}
	for _, k := range keys {
		if _, ok := item[k].(*types.AttributeValueMemberS); !ok {
			t.Errorf("key attribute %s is %T in the item, want S", k, item[k])
		}
	}
	if _, ok := item[s.TTLAttribute].(*types.AttributeValueMemberN); !ok {
		t.Errorf("TTL attribute %s is %T, want N", s.TTLAttribute, item[s.TTLAttribute])
	}
}
