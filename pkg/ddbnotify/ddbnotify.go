// Package ddbnotify is the notifier Lambda's side of the events table on AWS: the mark that an
// event's email went out (pipeline.NotifiedMarker), the event read back for a digest (Get), and
// the digests' items (pipeline.DigestStore), as DynamoDB JSON through pkg/awsjson rather than
// the SDK's DynamoDB client, whose types package alone fills a 0.59 MB schema table at every
// cold start (docs/benchmarks, 2026-12-02 round 10, the notifier's cold start).
//
// The requests are pkg/ddbstore's, which makes them through the SDK elsewhere (hookline local's
// CLI, the contract suites): TestSameRequestsAsDDBStore holds the two to the same bytes, and
// the contract suites run this package against dynalite.
package ddbnotify

import (
	"context"
	"fmt"
	"slices"
	"time"

	"hookline/pkg/ddbjson"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// Store is the notifier's view of one events table.
type Store struct {
	t ddbjson.Table
}

var (
	_ pipeline.NotifiedMarker = (*Store)(nil)
	_ pipeline.DigestStore    = (*Store)(nil)
)

// New returns the notifier's store over the events table named table.
func New(client ddbjson.Caller, table string) (*Store, error) {
	t, err := ddbjson.NewTable("ddbnotify", client, table)
	if err != nil {
		return nil, err
	}
	return &Store{t: t}, nil
}

// updateItem is UpdateItem's input; the optional fields are left out when empty.
type updateItem struct {
	TableName                 string
	Key                       map[string]ddbjson.Value
	UpdateExpression          string
	ConditionExpression       string `json:",omitempty"`
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]ddbjson.Value
	ReturnValues              string `json:",omitempty"`
}

// item is GetItem's answer, and UpdateItem's with ReturnValues.
type item struct {
	Item       map[string]ddbjson.Value
	Attributes map[string]ddbjson.Value
}

// MarkNotified sets notified_at once; a second mark keeps the first time (ddbstore's
// MarkNotified: a conditional UpdateItem; when its condition fails, a read of the key tells
// "marked before" from "missing").
func (s *Store) MarkNotified(ctx context.Context, id string, at time.Time) error {
	if ddbjson.IsControl(id) {
		return fmt.Errorf("mark event %s notified: %w", id, ddbjson.NotFound(id))
	}
	err := s.t.Client.Call(ctx, "UpdateItem", updateItem{
		TableName:                 s.t.Name,
		Key:                       ddbjson.Key(id),
		UpdateExpression:          "SET #m0 = :m0",
		ConditionExpression:       "attribute_exists(#id) AND attribute_not_exists(#m0)",
		ExpressionAttributeNames:  map[string]string{"#id": ddbjson.AttrID, "#m0": ddbjson.AttrNotifiedAt},
		ExpressionAttributeValues: map[string]ddbjson.Value{":m0": ddbjson.S(at.UTC().Format(ddbjson.TimeFormat))},
	}, nil)
	switch {
	case err == nil:
		return nil
	case !ddbjson.ConditionFailed(err):
		return ddbjson.Classify(fmt.Errorf("mark event %s notified: %w", id, err))
	}
	// Either it was marked before (a redelivered stream record: fine) or it does not exist.
	var out item
	err = s.t.Client.Call(ctx, "GetItem", ddbjson.GetItem{TableName: s.t.Name, Key: ddbjson.Key(id), ConsistentRead: true,
		ProjectionExpression: "#id", ExpressionAttributeNames: map[string]string{"#id": ddbjson.AttrID}}, &out)
	switch {
	case err != nil:
		return ddbjson.Classify(fmt.Errorf("mark event %s notified: %w", id, err))
	case len(out.Item) == 0:
		return fmt.Errorf("mark event %s notified: %w", id, ddbjson.NotFound(id))
	}
	return nil
}

// NotifiedAt reads only the mark (and the key, to tell "unmarked" from "missing") with a
// strongly consistent read.
func (s *Store) NotifiedAt(ctx context.Context, id string) (time.Time, error) {
	if ddbjson.IsControl(id) {
		return time.Time{}, ddbjson.NotFound(id)
	}
	var out item
	err := s.t.Client.Call(ctx, "GetItem", ddbjson.GetItem{TableName: s.t.Name, Key: ddbjson.Key(id), ConsistentRead: true,
		ProjectionExpression:     "#id, #n",
		ExpressionAttributeNames: map[string]string{"#id": ddbjson.AttrID, "#n": ddbjson.AttrNotifiedAt}}, &out)
	if err != nil {
		return time.Time{}, ddbjson.Classify(fmt.Errorf("read notified_at of %s: %w", id, err))
	}
	if len(out.Item) == 0 {
		return time.Time{}, ddbjson.NotFound(id)
	}
	v := out.Item[ddbjson.AttrNotifiedAt].S
	if v == nil {
		return time.Time{}, nil
	}
	t, err := ddbjson.ParseTime(ddbjson.AttrNotifiedAt, *v)
	if err != nil {
		return time.Time{}, fmt.Errorf("read notified_at of %s: %w", id, err)
	}
	return t, nil
}

// Get reads one event with a strongly consistent read, so a just-stored event is always found.
func (s *Store) Get(ctx context.Context, id string) (*event.Record, error) {
	return ddbjson.GetRecord(ctx, s.t.Client, s.t.Name, id)
}

// digestKey is the key of one shard of a digest (ddbjson.DigestID; ddbstore's digest.go says
// why a digest has shards).
func digestKey(source string, due time.Time, shard int) map[string]ddbjson.Value {
	return ddbjson.Key(ddbjson.DigestID(source, due, shard))
}

func digestTTL(due time.Time) ddbjson.Value { return ddbjson.N(due.Add(ddbjson.DigestKeep).Unix()) }

// AddToDigest lists id in the digest of source due at due (pipeline.DigestStore).
func (s *Store) AddToDigest(ctx context.Context, source string, due time.Time, id string) error {
	err := s.t.Client.Call(ctx, "UpdateItem", updateItem{
		TableName:                 s.t.Name,
		Key:                       digestKey(source, due, ddbjson.DigestShard(id)),
		UpdateExpression:          "ADD #ids :id SET #exp = :exp",
		ConditionExpression:       "attribute_not_exists(#taken)",
		ExpressionAttributeNames:  map[string]string{"#ids": ddbjson.AttrDigestIDs, "#exp": ddbjson.AttrExpiresAt, "#taken": ddbjson.AttrDigestTaken},
		ExpressionAttributeValues: map[string]ddbjson.Value{":id": ddbjson.SS(id), ":exp": digestTTL(due)},
	}, nil)
	switch {
	case ddbjson.ConditionFailed(err):
		return pipeline.ErrDigestTaken
	case err != nil:
		return ddbjson.Classify(fmt.Errorf("add %s to the %s digest: %w", id, source, err))
	}
	return nil
}

// TakeDigest closes every shard of the digest and returns their ids (pipeline.DigestStore).
func (s *Store) TakeDigest(ctx context.Context, source string, due time.Time) ([]string, error) {
	var ids []string
	for n := range ddbjson.DigestShards {
		var out item
		err := s.t.Client.Call(ctx, "UpdateItem", updateItem{
			TableName:                 s.t.Name,
			Key:                       digestKey(source, due, n),
			UpdateExpression:          "SET #taken = :t, #exp = :exp",
			ExpressionAttributeNames:  map[string]string{"#taken": ddbjson.AttrDigestTaken, "#exp": ddbjson.AttrExpiresAt},
			ExpressionAttributeValues: map[string]ddbjson.Value{":t": ddbjson.Bool(true), ":exp": digestTTL(due)},
			ReturnValues:              "ALL_NEW",
		}, &out)
		if err != nil {
			return nil, ddbjson.Classify(fmt.Errorf("take the %s digest: %w", source, err))
		}
		if _, done := out.Attributes[ddbjson.AttrDigestDone]; done {
			return nil, nil
		}
		ids = append(ids, out.Attributes[ddbjson.AttrDigestIDs].SS...)
	}
	slices.Sort(ids)
	return ids, nil
}

// DoneDigest records that the digest's email went out (pipeline.DigestStore); its items
// expire with their TTL.
func (s *Store) DoneDigest(ctx context.Context, source string, due time.Time) error {
	for n := range ddbjson.DigestShards {
		err := s.t.Client.Call(ctx, "UpdateItem", updateItem{
			TableName:        s.t.Name,
			Key:              digestKey(source, due, n),
			UpdateExpression: "SET #taken = :t, #done = :t, #exp = :exp REMOVE #ids",
			ExpressionAttributeNames: map[string]string{"#taken": ddbjson.AttrDigestTaken, "#done": ddbjson.AttrDigestDone,
				"#exp": ddbjson.AttrExpiresAt, "#ids": ddbjson.AttrDigestIDs},
			ExpressionAttributeValues: map[string]ddbjson.Value{":t": ddbjson.Bool(true), ":exp": digestTTL(due)},
		}, nil)
		if err != nil {
			return ddbjson.Classify(fmt.Errorf("finish the %s digest: %w", source, err))
		}
	}
	return nil
}
