package ddbstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbjson"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/wiring"
)

// API is the part of the DynamoDB client the store uses; *dynamodb.Client satisfies it and
// tests fake it with func types.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// Store is the DynamoDB events table: the subscriber's conditional writer, the notifier's
// marker and the history behind GET /events.
type Store struct {
	client    API
	table     string
	retention time.Duration
	groups    ddbjson.Registered // the history partitions this Store has registered (registry.go)
}

var _ pipeline.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithRetention sets how long after its receipt an event expires (the TTL). Zero keeps events
// forever.
func WithRetention(d time.Duration) Option { return func(s *Store) { s.retention = d } }

// New returns a Store over the table named table.
func New(client API, table string, opts ...Option) (*Store, error) {
	s := &Store{client: client, table: table, retention: wiring.Retention}
	for _, o := range opts {
		o(s)
	}
	switch {
	case client == nil:
		return nil, errors.New("ddbstore: client is nil")
	case table == "":
		return nil, errors.New("ddbstore: table name is empty")
	case s.retention < 0:
		return nil, fmt.Errorf("ddbstore: retention %v is negative", s.retention)
	}
	return s, nil
}

// PutNew writes r unless an item with its id exists. A duplicate is (false, nil). The event's
// history partition is registered first (once per Store), so every stored event is listable.
func (s *Store) PutNew(ctx context.Context, r *event.Record) (bool, error) {
	if err := ddbjson.CheckNew(r); err != nil {
		return false, err
	}
	id := r.Event.ID
	item, err := ddbitem.Marshal(r, ddbjson.Expiry(r.Event.ReceivedAt, s.retention))
	if err != nil {
		return false, fmt.Errorf("put event %s: %w", id, err)
	}
	if err := s.register(ctx, ddbitem.SourceGroup(r.Event.Source, r.Event.Type)); err != nil {
		return false, fmt.Errorf("put event %s: %w", id, err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": ddbitem.AttrID},
	})
	stored, err := written(err)
	if err != nil {
		return false, ddbjson.Classify(fmt.Errorf("put event %s: %w", id, err))
	}
	return stored, nil
}

// MarkNotified sets notified_at once; a second mark keeps the first time. It rewrites only the
// base item: the history index does not project the mark.
func (s *Store) MarkNotified(ctx context.Context, id string, at time.Time) error {
	if ddbitem.IsControl(id) {
		return fmt.Errorf("mark event %s notified: %w", id, ddbjson.NotFound(id))
	}
	marked, err := markOnce(ctx, s.client, s.table, key(id), attr{ddbitem.AttrNotifiedAt, ddbitem.FormatTime(at)})
	switch {
	case err != nil:
		return ddbjson.Classify(fmt.Errorf("mark event %s notified: %w", id, err))
	case !marked:
		// Either it was marked before (a redelivered stream record: fine) or it does not exist.
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(s.table), Key: key(id), ConsistentRead: aws.Bool(true),
			ProjectionExpression: aws.String("#id"), ExpressionAttributeNames: map[string]string{"#id": ddbitem.AttrID},
		})
		if err != nil {
			return ddbjson.Classify(fmt.Errorf("mark event %s notified: %w", id, err))
		}
		if len(out.Item) == 0 {
			return fmt.Errorf("mark event %s notified: %w", id, ddbjson.NotFound(id))
		}
	}
	return nil
}

// NotifiedAt reads only the mark (and the key, to tell "unmarked" from "missing") with a
// strongly consistent read.
func (s *Store) NotifiedAt(ctx context.Context, id string) (time.Time, error) {
	if ddbitem.IsControl(id) {
		return time.Time{}, ddbjson.NotFound(id)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(id), ConsistentRead: aws.Bool(true),
		ProjectionExpression:     aws.String("#id, #n"),
		ExpressionAttributeNames: map[string]string{"#id": ddbitem.AttrID, "#n": ddbitem.AttrNotifiedAt},
	})
	if err != nil {
		return time.Time{}, ddbjson.Classify(fmt.Errorf("read notified_at of %s: %w", id, err))
	}
	if len(out.Item) == 0 {
		return time.Time{}, ddbjson.NotFound(id)
	}
	v, ok := out.Item[ddbitem.AttrNotifiedAt].(*types.AttributeValueMemberS)
	if !ok {
		return time.Time{}, nil
	}
	t, err := ddbjson.ParseTime(ddbitem.AttrNotifiedAt, v.Value)
	if err != nil {
		return time.Time{}, fmt.Errorf("read notified_at of %s: %w", id, err)
	}
	return t, nil
}

// Get reads one event with a strongly consistent read, so a just-stored event is always found.
func (s *Store) Get(ctx context.Context, id string) (*event.Record, error) {
	if ddbitem.IsControl(id) {
		return nil, ddbjson.NotFound(id) // the registry is not an event
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, ddbjson.Classify(fmt.Errorf("get event %s: %w", id, err))
	}
	if len(out.Item) == 0 {
		return nil, ddbjson.NotFound(id)
	}
	if n, ok := out.Item[ddbitem.AttrExpiresAt].(*types.AttributeValueMemberN); ok && ddbjson.PastTTL(n.Value, time.Now()) {
		return nil, ddbjson.NotFound(id) // past its TTL, not deleted yet: gone, as for ddbjson.GetRecord
	}
	r, err := ddbitem.Unmarshal(out.Item)
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", id, err)
	}
	return r, nil
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{ddbitem.AttrID: &types.AttributeValueMemberS{Value: id}}
}

// attr is one string attribute a mark sets.
type attr struct{ name, value string }

// markOnce sets attrs on the item at key, unless the item is missing or its first attribute
// (the mark) is set already: the first mark wins. It reports whether it wrote; the callers tell
// "marked before" from "missing" with a read of their own.
func markOnce(ctx context.Context, client API, table string, key map[string]types.AttributeValue, attrs ...attr) (bool, error) {
	names := map[string]string{"#id": ddbitem.AttrID}
	values := map[string]types.AttributeValue{}
	var sets []string
	for i, a := range attrs {
		names[fmt.Sprintf("#m%d", i)] = a.name
		values[fmt.Sprintf(":m%d", i)] = &types.AttributeValueMemberS{Value: a.value}
		sets = append(sets, fmt.Sprintf("#m%d = :m%d", i, i))
	}
	_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       key,
		UpdateExpression:          aws.String("SET " + strings.Join(sets, ", ")),
		ConditionExpression:       aws.String("attribute_exists(#id) AND attribute_not_exists(#m0)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	return written(err)
}

// written reads a conditional write's error: true when the item was written, false when its
// condition failed, or the other failure.
func written(err error) (bool, error) {
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}
