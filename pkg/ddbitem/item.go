package ddbitem

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/ddbjson"
	"hookline/pkg/event"
)

// Attribute names of an event item. The table schema (ddbstore.TableSchema), the CDK stack and
// condition expressions refer to these, never to literals.
const (
	AttrID          = "id" // the table's partition key
	AttrSource      = "source"
	AttrType        = "type"
	AttrStoredAt    = "stored_at"
	AttrNotifiedAt  = "notified_at" // absent until the completion email went out
	AttrEnvelope    = "envelope"    // the CloudEvents JSON; the source of truth
	AttrExpiresAt   = "expires_at"  // TTL, unix seconds
	AttrReceivedKey = "received_key"
	AttrSourceGroup = "source_group" // the history index's partition key: SourceGroup(source, type)
)

// TimeFormat is RFC 3339 with a fixed nine-digit fraction (ddbjson.TimeFormat, which the
// writers without the SDK use): in UTC its strings sort lexically in time order.
const TimeFormat = ddbjson.TimeFormat

// FormatTime formats t in UTC with TimeFormat.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeFormat)
}

// ReceivedKey is the sort key of the history index: the receive time, then the id, so events
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

// SourceGroup is the history index's partition key of an event: its source and its type group
// (event.TypeGroup), "github#issues" for an issues.opened from github. Source names cannot
// contain '#' (source.ValidName), so the first '#' splits it back (SplitSourceGroup).
func SourceGroup(source, typ string) string {
	return source + "#" + event.TypeGroup(typ)
}

// SplitSourceGroup is SourceGroup's inverse.
func SplitSourceGroup(sg string) (source, group string, ok bool) {
	return strings.Cut(sg, "#")
}

// ControlPrefix starts the id of every item in the events table that is not an event (the
// history index's registry of partitions, see ddbstore). Event ids are UUIDs, so none starts
// with it; the store refuses to store an event whose id does.
const ControlPrefix = "~"

// IsControl reports whether id names a control item rather than an event.
func IsControl(id string) bool { return strings.HasPrefix(id, ControlPrefix) }

// Marshal returns the item for r. ttl is when DynamoDB may delete the item; the zero time
// means never. The item is as small as it can be while the console still shows everything:
// the envelope carries the event (its time, receive time and delivery id included) as readable
// JSON, and the other attributes are the keys, the status and the TTL. Items written before
// held copies of time, received_at, delivery_id and time_shard; Unmarshal ignores them.
//
// The attribute values are built here rather than by the SDK's attributevalue package: that
// package links the DynamoDB Streams types, whose package init every function would pay at cold
// start (TestItemGolden pins the layout).
func Marshal(r *event.Record, ttl time.Time) (map[string]types.AttributeValue, error) {
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
	av := map[string]types.AttributeValue{
		AttrID:          str(e.ID),
		AttrSource:      str(e.Source),
		AttrType:        str(e.Type),
		AttrStoredAt:    str(FormatTime(r.StoredAt)),
		AttrEnvelope:    str(string(e.Marshal())),
		AttrReceivedKey: str(ReceivedKey(e.ReceivedAt, e.ID)),
		AttrSourceGroup: str(SourceGroup(e.Source, e.Type)),
	}
	if !r.NotifiedAt.IsZero() {
		av[AttrNotifiedAt] = str(FormatTime(r.NotifiedAt))
	}
	if !ttl.IsZero() {
		av[AttrExpiresAt] = num(ttl.Unix())
	}
	return av, nil
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// Unmarshal decodes an item written by Marshal. The event comes from the envelope; the other
// copies of its attributes are ignored, except that the id must agree.
func Unmarshal(av map[string]types.AttributeValue) (*event.Record, error) {
	return unmarshal(func(name string) (string, error) { return requireString(av, name) },
		func(name string) bool { _, ok := av[name]; return ok })
}

// unmarshal is Unmarshal over an item's string attributes (str: the value, or an error that
// it is missing or not a string) and has (whether the item has the attribute at all).
func unmarshal(str func(name string) (string, error), has func(name string) bool) (*event.Record, error) {
	env, err := str(AttrEnvelope)
	if err != nil {
		return nil, err
	}
	id, err := str(AttrID)
	if err != nil {
		return nil, err
	}
	e, err := event.DecodeString(env)
	if err != nil {
		return nil, fmt.Errorf("unmarshal item %s: attribute %s: %w", id, AttrEnvelope, err)
	}
	if e.ID != id {
		return nil, fmt.Errorf("unmarshal item %s: envelope id is %s", id, e.ID)
	}
	r := &event.Record{Event: e}
	stored, err := str(AttrStoredAt)
	if err != nil {
		return nil, fmt.Errorf("unmarshal item %s: %w", id, err)
	}
	if r.StoredAt, err = parseTime(AttrStoredAt, stored); err != nil {
		return nil, fmt.Errorf("unmarshal item %s: %w", id, err)
	}
	if has(AttrNotifiedAt) {
		notified, err := str(AttrNotifiedAt)
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
