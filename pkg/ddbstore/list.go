package ddbstore

import (
	"time"

	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/ddbhistory"
	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbjson"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// List answers q from the history index: one partition for a source and a type, otherwise the
// partitions of the registry that match, merged newest first by received_key; then one
// BatchGetItem reads the page's items. It never scans. The algorithm is ddbhistory.List's,
// which the history function runs without the SDK; these are its requests through the SDK.
func (s *Store) List(ctx context.Context, q pipeline.Query) (pipeline.Page, error) {
	return ddbhistory.List(ctx, sdkIndex{s}, s.table, q)
}

// sdkIndex is ddbhistory.List's reads through the SDK's client.
type sdkIndex struct{ s *Store }

var _ ddbhistory.Index[types.AttributeValue] = sdkIndex{}

// Registry reads every registered partition (a strongly consistent read: a partition
// registered before its first event was written is always seen).
func (ix sdkIndex) Registry(ctx context.Context) ([]string, error) {
	out, err := ix.s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(ix.s.table), Key: key(GroupsID), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#g"), ExpressionAttributeNames: map[string]string{"#g": ddbjson.AttrGroups},
	})
	if err != nil {
		return nil, err
	}
	if ss, ok := out.Item[ddbjson.AttrGroups].(*types.AttributeValueMemberSS); ok {
		return ss.Value, nil
	}
	return nil, nil // nothing stored yet
}

func (ix sdkIndex) Query(ctx context.Context, in *ddbhistory.Query, start map[string]types.AttributeValue) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
	values := make(map[string]types.AttributeValue, len(in.Values))
	for k, v := range in.Values {
		values[k] = &types.AttributeValueMemberS{Value: v}
	}
	req := &dynamodb.QueryInput{
		TableName:                 aws.String(in.Table),
		IndexName:                 aws.String(in.Index),
		KeyConditionExpression:    aws.String(in.KeyCondition),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(in.Limit)),
		ExpressionAttributeNames:  in.Names,
		ExpressionAttributeValues: values,
		ExclusiveStartKey:         start,
	}
	if in.Filter != "" {
		req.FilterExpression = aws.String(in.Filter)
	}
	out, err := ix.s.client.Query(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	return out.Items, out.LastEvaluatedKey, nil
}

func (ix sdkIndex) BatchGet(ctx context.Context, ids []string) ([]map[string]types.AttributeValue, []string, error) {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = key(id)
	}
	res, err := ix.s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{ix.s.table: {Keys: keys}}})
	if err != nil {
		return nil, nil, err
	}
	var left []string
	for _, k := range res.UnprocessedKeys[ix.s.table].Keys {
		id, _ := ix.Str(k[ddbitem.AttrID])
		left = append(left, id)
	}
	return res.Responses[ix.s.table], left, nil
}

func (sdkIndex) Str(v types.AttributeValue) (string, bool) {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value, true
	}
	return "", false
}

func (sdkIndex) Record(item map[string]types.AttributeValue) (*event.Record, error) {
	return ddbitem.Unmarshal(item)
}

func (sdkIndex) Expired(item map[string]types.AttributeValue, now time.Time) bool {
	n, ok := item[ddbitem.AttrExpiresAt].(*types.AttributeValueMemberN)
	return ok && ddbjson.PastTTL(n.Value, now)
}
