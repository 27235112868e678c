package ddbitem

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/event"
	"hookline/pkg/wiring"
)

// Attribute names of an event item. The table schema (ddbstore.TableSchema), the CDK stack and
// condition expressions refer to these, never to literals.
const (
	AttrID          = "id" // the table's partition key
	AttrSource      = "source"
	AttrType        = "type"
	AttrTypeGroup   = "type_group" // event.TypeGroup(type): the by_type_group index's partition key
	AttrReceivedAt  = "received_at"
	AttrTime        = "time"
	AttrStoredAt    = "stored_at"
	AttrNotifiedAt  = "notified_at" // absent until the completion email went out
	AttrDeliveryID  = "delivery_id" // absent when the sender named no delivery
	AttrEnvelope    = "envelope"    // the CloudEvents JSON; the source of truth
	AttrExpiresAt   = "expires_at"  // TTL, unix seconds
	AttrReceivedKey = "received_key"
	AttrTimeShard   = "time_shard"
)

// TimeFormat is RFC 3339 with a fixed nine-digit fraction. Formatted in UTC its strings sort
// lexically in time order, which the sort keys rely on (time.RFC3339Nano trims zeros and does not).
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// FormatTime formats t in UTC with TimeFormat.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeFormat)
}

// ReceivedKey is the sort key of every history index: the receive time, then the id, so events
// received in the same nanosecond still have distinct, totally ordered keys.
func ReceivedKey(receivedAt time.Time, id string) string {
	return FormatTime(receivedAt) + "#" + id
}

// ParseReceivedKey splits a ReceivedKey back into its time and id.
func ParseReceivedKey(key string) (time.Time, string, error) {
	ts, id, ok := strings.Cut(key, "#")
	if !ok || id == "" {
		return time.Time{}, "", fmt.Errorf("received key %q: want <time>#<id>", key)
	}
	t, err := time.Parse(TimeFormat, ts)
	if err != nil || FormatTime(t) != ts {
		return time.Time{}, "", fmt.Errorf("received key %q: time is not in the fixed format", key)
	}
	return t, id, nil
}

// TimeShard is the partition key of the newest-across-all index for id: "all#<n>" where n is a
// hash of the id modulo shards, so writes spread evenly and a reader knows every partition.
func TimeShard(id string, shards int) string {
	shards = max(shards, 1)
	h := fnv.New32a()
	h.Write([]byte(id))
	return TimeShardKey(int(h.Sum32() % uint32(shards)))
}

// TimeShardKey is the partition key value of shard n of the newest-across-all index.
func TimeShardKey(n int) string {
	return "all#" + strconv.Itoa(n)
}

// item is the attribute layout; attributevalue does the AttributeValue plumbing.
type item struct {
	ID          string `dynamodbav:"id"`
	Source      string `dynamodbav:"source"`
	Type        string `dynamodbav:"type"`
	TypeGroup   string `dynamodbav:"type_group"`
	ReceivedAt  string `dynamodbav:"received_at"`
	Time        string `dynamodbav:"time"`
	StoredAt    string `dynamodbav:"stored_at"`
	NotifiedAt  string `dynamodbav:"notified_at,omitempty"`
	DeliveryID  string `dynamodbav:"delivery_id,omitempty"`
	Envelope    string `dynamodbav:"envelope"`
	ExpiresAt   int64  `dynamodbav:"expires_at,omitempty"`
	ReceivedKey string `dynamodbav:"received_key"`
	TimeShard   string `dynamodbav:"time_shard"`
}

// Marshal returns the item for r, with the newest-across-all index spread over
// wiring.DefaultTimeShards. ttl is when DynamoDB may delete the item; the zero time means never.
func Marshal(r *event.Record, ttl time.Time) (map[string]types.AttributeValue, error) {
	return MarshalSharded(r, ttl, wiring.DefaultTimeShards)
}

// MarshalSharded is Marshal for a table whose newest-across-all index uses shards partitions.
func MarshalSharded(r *event.Record, ttl time.Time, shards int) (map[string]types.AttributeValue, error) {
	if r == nil || r.Event == nil {
		return nil, errors.New("marshal item: record has no event")
	}
	e := r.Event
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("marshal item %s: %w", e.ID, err)
	}
	if r.StoredAt.IsZero() {
		return nil, fmt.Errorf("marshal item %s: stored_at is zero", e.ID)
	}
	it := item{
		ID:          e.ID,
		Source:      e.Source,
		Type:        e.Type,
		TypeGroup:   event.TypeGroup(e.Type),
		ReceivedAt:  FormatTime(e.ReceivedAt),
		Time:        FormatTime(e.Time),
		StoredAt:    FormatTime(r.StoredAt),
		DeliveryID:  e.DeliveryID,
		Envelope:    string(e.Marshal()),
		ReceivedKey: ReceivedKey(e.ReceivedAt, e.ID),
		TimeShard:   TimeShard(e.ID, shards),
	}
	if !r.NotifiedAt.IsZero() {
		it.NotifiedAt = FormatTime(r.NotifiedAt)
	}
	if !ttl.IsZero() {
		it.ExpiresAt = ttl.Unix()
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("marshal item %s: %w", e.ID, err)
	}
	return av, nil
}

// Unmarshal decodes an item written by Marshal. The event comes from the envelope; the other
// copies of its attributes are ignored, except that the id must agree.
func Unmarshal(av map[string]types.AttributeValue) (*event.Record, error) {
	env, err := requireString(av, AttrEnvelope)
	if err != nil {
		return nil, err
	}
	id, err := requireString(av, AttrID)
	if err != nil {
		return nil, err
	}
	e, err := event.Decode([]byte(env))
	if err != nil {
		return nil, fmt.Errorf("unmarshal item %s: attribute %s: %w", id, AttrEnvelope, err)
	}
	if e.ID != id {
		return nil, fmt.Errorf("unmarshal item %s: envelope id is %s", id, e.ID)
	}
	r := &event.Record{Event: e}
	stored, err := requireString(av, AttrStoredAt)
	if err != nil {
		return nil, fmt.Errorf("unmarshal item %s: %w", id, err)
	}
	if r.StoredAt, err = parseTime(AttrStoredAt, stored); err != nil {
		return nil, fmt.Errorf("unmarshal item %s: %w", id, err)
	}
	if _, ok := av[AttrNotifiedAt]; ok {
		notified, err := requireString(av, AttrNotifiedAt)
		if err != nil {
			return nil, fmt.Errorf("unmarshal item %s: %w", id, err)
		}
		if r.NotifiedAt, err = parseTime(AttrNotifiedAt, notified); err != nil {
			return nil, fmt.Errorf("unmarshal item %s: %w", id, err)
		}
	}
	return r, nil
}

func requireString(av map[string]types.AttributeValue, name string) (string, error) {
	v, ok := av[name]
	if !ok {
		return "", fmt.Errorf("item attribute %s is missing", name)
	}
	s, ok := v.(*types.AttributeValueMemberS)
	if !ok {
		return "", fmt.Errorf("item attribute %s is %T, want a string (S)", name, v)
	}
	return s.Value, nil
}

func parseTime(name, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("item attribute %s %q is not RFC 3339", name, s)
	}
	return t.UTC(), nil
}
