package ddbstore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/ddbjson"
)

// GroupsID is the control item that lists every history partition (source_group) the index
// holds, in its string set attribute "groups". A List over several sources or types reads it
// to know which partitions to merge; it is not an event (ddbitem.IsControl) and carries no
// source_group, so it is in no index and the notifier's stream filter passes it by.
const GroupsID = ddbjson.GroupsID

// register adds sg to the registry unless this Store already did. ADD to a string set is
// idempotent, so concurrent or repeated registrations are harmless.
func (s *Store) register(ctx context.Context, sg string) error {
	if s.groups.Has(sg) {
		return nil
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(GroupsID),
		UpdateExpression:          aws.String("ADD #g :g"),
		ExpressionAttributeNames:  map[string]string{"#g": ddbjson.AttrGroups},
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberSS{Value: []string{sg}}},
	})
	if err != nil {
		return ddbjson.Classify(fmt.Errorf("register history partition %s: %w", sg, err))
	}
	s.groups.Add(sg)
	return nil
}
