package ddbstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbjson"
	"hookline/pkg/pipeline"
)

var _ pipeline.DigestStore = (*Store)(nil)

// digestKey is the key of one shard of a digest. A digest lives in ddbjson.DigestShards control items of the events table,
// "~digest#<source>#<due, unix seconds>#<n>" (ddbjson.DigestID), each a string set of event
// ids: an id goes to shard FNV-1a(id) mod DigestShards, so a busy source's digest is split over
// items (an item holds 400 KB, and every add is billed on the size of its item). Adds are
// refused once a shard is taken (a conditional update), so an id either is in what TakeDigest
// read or lands in the next digest. The items have no source_group: they are in no index and
// the notifier's stream filter passes them by. They expire (TTL) two days after they are due.
func digestKey(source string, due time.Time, shard int) map[string]types.AttributeValue {
	return key(ddbjson.DigestID(source, due, shard))
}

func digestTTL(due time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(due.Add(ddbjson.DigestKeep).Unix(), 10)}
}

// AddToDigest lists id in the digest of source due at due (pipeline.DigestStore).
func (s *Store) AddToDigest(ctx context.Context, source string, due time.Time, id string) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 digestKey(source, due, ddbjson.DigestShard(id)),
		UpdateExpression:    aws.String("ADD #ids :id SET #exp = :exp"),
		ConditionExpression: aws.String("attribute_not_exists(#taken)"),
		ExpressionAttributeNames: map[string]string{
			"#ids": ddbjson.AttrDigestIDs, "#exp": ddbitem.AttrExpiresAt, "#taken": ddbjson.AttrDigestTaken,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id": &types.AttributeValueMemberSS{Value: []string{id}}, ":exp": digestTTL(due),
		},
	})
	added, err := written(err)
	switch {
	case err != nil:
		return ddbjson.Classify(fmt.Errorf("add %s to the %s digest: %w", id, source, err))
	case !added:
		return pipeline.ErrDigestTaken
	}
	return nil
}

// TakeDigest closes every shard of the digest and returns their ids (pipeline.DigestStore).
func (s *Store) TakeDigest(ctx context.Context, source string, due time.Time) ([]string, error) {
	var ids []string
	for n := range ddbjson.DigestShards {
		out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.table),
			Key:                       digestKey(source, due, n),
			UpdateExpression:          aws.String("SET #taken = :t, #exp = :exp"),
			ExpressionAttributeNames:  map[string]string{"#taken": ddbjson.AttrDigestTaken, "#exp": ddbitem.AttrExpiresAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":exp": digestTTL(due)},
			ReturnValues:              types.ReturnValueAllNew,
		})
		if err != nil {
			return nil, ddbjson.Classify(fmt.Errorf("take the %s digest: %w", source, err))
		}
		if _, done := out.Attributes[ddbjson.AttrDigestDone]; done {
			return nil, nil
		}
		if ss, ok := out.Attributes[ddbjson.AttrDigestIDs].(*types.AttributeValueMemberSS); ok {
			ids = append(ids, ss.Value...)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// DoneDigest records that the digest's email went out (pipeline.DigestStore); its items
// expire with their TTL.
func (s *Store) DoneDigest(ctx context.Context, source string, due time.Time) error {
	for n := range ddbjson.DigestShards {
		_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.table),
			Key:                       digestKey(source, due, n),
			UpdateExpression:          aws.String("SET #taken = :t, #done = :t, #exp = :exp REMOVE #ids"),
			ExpressionAttributeNames:  map[string]string{"#taken": ddbjson.AttrDigestTaken, "#done": ddbjson.AttrDigestDone, "#exp": ddbitem.AttrExpiresAt, "#ids": ddbjson.AttrDigestIDs},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":exp": digestTTL(due)},
		})
		if err != nil {
			return ddbjson.Classify(fmt.Errorf("finish the %s digest: %w", source, err))
		}
	}
	return nil
}
