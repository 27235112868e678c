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
	AttrID          = ddbjson.AttrID // the table's partition key
	AttrSource      = ddbjson.AttrSource
	AttrType        = ddbjson.AttrType
	AttrStoredAt    = ddbjson.AttrStoredAt
	AttrNotifiedAt  = ddbjson.AttrNotifiedAt // absent until the completion email went out
	AttrEnvelope    = ddbjson.AttrEnvelope   // the CloudEvents JSON; the source of truth
	AttrExpiresAt   = ddbjson.AttrExpiresAt  // TTL, unix seconds
	AttrReceivedKey = ddbjson.AttrReceivedKey
	AttrSourceGroup = ddbjson.AttrSourceGroup // the history index's partition key: SourceGroup(source, type)
)

// TimeFormat is RFC 3339 with a fixed nine-digit fraction (ddbjson.TimeFormat, which the
// writers without the SDK use): in UTC its strings sort lexically in time order.
const TimeFormat = ddbjson.TimeFormat

// FormatTime formats t in UTC with TimeFormat.
func FormatTime(t time.Time) string { return ddbjson.FormatTime(t) }

// ReceivedKey is the sort key of the history index: the receive time, then the id, so events
// received in the same nanosecond still have distinct, totally ordered keys.
func ReceivedKey(receivedAt time.Time, id string) string { return ddbjson.ReceivedKey(receivedAt, id) }

// ParseReceivedKey splits a ReceivedKey back into its time and id.
func ParseReceivedKey(key string) (time.Time, string, error) { return ddbjson.ParseReceivedKey(key) }

// SourceGroup is the history index's partition key of an event: its source and its type group
// (event.TypeGroup), "github#issues" for an issues.opened from github. Source names cannot
// contain '#' (source.ValidName), so the first '#' splits it back (SplitSourceGroup).
func SourceGroup(source, typ string) string { return ddbjson.SourceGroup(source, typ) }

// SplitSourceGroup is SourceGroup's inverse.
func SplitSourceGroup(sg string) (source, group string, ok bool) {
	return strings.Cut(sg, "#")
}

// ControlPrefix starts the id of every item in the events table that is not an event (the
// history index's registry of partitions, see ddbstore). Event ids are UUIDs, so none starts
// with it; the store refuses to store an event whose id does.
const ControlPrefix = ddbjson.ControlPrefix

// IsControl reports whether id names a control item rather than an event.
func IsControl(id string) bool { return ddbjson.IsControl(id) }

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
	if err := ddbjson.CheckRecord(r); err != nil {
		return nil, err
	}
	e := r.Event
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

// Unmarshal decodes an item written by Marshal (ddbjson.DecodeRecord). The event comes from the
// envelope; the other copies of its attributes are ignored, except that the id must agree.
func Unmarshal(av map[string]types.AttributeValue) (*event.Record, error) {
	return ddbjson.DecodeRecord(func(name string) (string, error) {
		v, ok := av[name]
		if !ok {
			return "", ddbjson.Missing(name)
		}
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return "", ddbjson.NotString(name, typeName(v))
		}
		return s.Value, nil
	}, func(name string) bool { _, ok := av[name]; return ok })
}

// typeName is the DynamoDB name of v's type: ddbjson.StreamType of v as a stream value
// (toStream), so the SDK's types are mapped to DynamoDB's in one place. Only an error message
// asks for it; a value toStream refuses (a list or a map holding one) is named by its Go type.
func typeName(v types.AttributeValue) string {
	s, err := toStream(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	return ddbjson.StreamType(s.DataType())
}
