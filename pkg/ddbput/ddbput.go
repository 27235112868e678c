// Package ddbput is the subscriber Lambda's side of the events table on AWS: it stores each
// new event once (pipeline.EventWriter's PutNew) as DynamoDB JSON through pkg/awsjson rather
// than the SDK's DynamoDB client, whose types package alone fills a 0.59 MB schema table at
// every cold start; the subscriber's whole start over an aws-lambda-go hello world was that
// package (docs/benchmarks, 2026-12-02 round 9, cold start).
//
// The item and the requests are pkg/ddbstore's (ddbitem.Marshal's item, the registry's
// UpdateItem, the conditional PutItem), which reads them and writes them through the SDK
// elsewhere: TestSameRequestsAsDDBStore holds the two to the same bytes.
package ddbput

import (
	"context"
	"fmt"
	"time"

	"hookline/pkg/ddbjson"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// Writer stores new events in one table.
type Writer struct {
	t         ddbjson.Table
	retention time.Duration      // 0: items never expire
	groups    ddbjson.Registered // history partitions this Writer has registered
}

var _ pipeline.EventWriter = (*Writer)(nil)

// New returns the writer of the events table named table; items expire retention after their
// event was received (0: never), as ddbstore.WithRetention.
func New(client ddbjson.Caller, table string, retention time.Duration) (*Writer, error) {
	t, err := ddbjson.NewTable("ddbput", client, table)
	if err != nil {
		return nil, err
	}
	if retention < 0 {
		return nil, fmt.Errorf("ddbput: retention %v is negative", retention)
	}
	return &Writer{t: t, retention: retention}, nil
}

// item is ddbitem.Marshal's item for r, as DynamoDB JSON.
func item(r *event.Record, ttl time.Time) (map[string]ddbjson.Value, error) {
	if err := ddbjson.CheckRecord(r); err != nil {
		return nil, err
	}
	e := r.Event
	it := map[string]ddbjson.Value{
		ddbjson.AttrID:          ddbjson.S(e.ID),
		ddbjson.AttrSource:      ddbjson.S(e.Source),
		ddbjson.AttrType:        ddbjson.S(e.Type),
		ddbjson.AttrStoredAt:    ddbjson.S(ddbjson.FormatTime(r.StoredAt)),
		ddbjson.AttrEnvelope:    ddbjson.S(string(e.Marshal())),
		ddbjson.AttrReceivedKey: ddbjson.S(ddbjson.ReceivedKey(e.ReceivedAt, e.ID)),
		ddbjson.AttrSourceGroup: ddbjson.S(ddbjson.SourceGroup(e.Source, e.Type)),
	}
	if !r.NotifiedAt.IsZero() {
		it[ddbjson.AttrNotifiedAt] = ddbjson.S(ddbjson.FormatTime(r.NotifiedAt))
	}
	if !ttl.IsZero() {
		it[ddbjson.AttrExpiresAt] = ddbjson.N(ttl.Unix())
	}
	return it, nil
}

// PutNew writes r unless an item with its id exists; a duplicate is (false, nil). The event's
// history partition is registered first (once per Writer), so every stored event is listable
// (ddbstore.Store.PutNew).
func (w *Writer) PutNew(ctx context.Context, r *event.Record) (bool, error) {
	if err := ddbjson.CheckNew(r); err != nil {
		return false, err
	}
	id := r.Event.ID
	it, err := item(r, ddbjson.Expiry(r.Event.ReceivedAt, w.retention))
	if err != nil {
		return false, fmt.Errorf("put event %s: %w", id, err)
	}
	if err := w.register(ctx, ddbjson.SourceGroup(r.Event.Source, r.Event.Type)); err != nil {
		return false, fmt.Errorf("put event %s: %w", id, err)
	}
	in := struct {
		TableName                string
		Item                     map[string]ddbjson.Value
		ConditionExpression      string
		ExpressionAttributeNames map[string]string
	}{w.t.Name, it, "attribute_not_exists(#id)", map[string]string{"#id": ddbjson.AttrID}}
	err = w.t.Client.Call(ctx, "PutItem", in, nil)
	switch {
	case ddbjson.ConditionFailed(err):
		return false, nil
	case err != nil:
		return false, ddbjson.Classify(fmt.Errorf("put event %s: %w", id, err))
	}
	return true, nil
}

// register adds sg to the registry item's string set unless this Writer already did; ADD is
// idempotent, so concurrent or repeated registrations are harmless.
func (w *Writer) register(ctx context.Context, sg string) error {
	if w.groups.Has(sg) {
		return nil
	}
	in := struct {
		TableName                 string
		Key                       map[string]ddbjson.Value
		UpdateExpression          string
		ExpressionAttributeNames  map[string]string
		ExpressionAttributeValues map[string]ddbjson.Value
	}{w.t.Name, ddbjson.Key(ddbjson.GroupsID), "ADD #g :g", map[string]string{"#g": ddbjson.AttrGroups},
		map[string]ddbjson.Value{":g": ddbjson.SS(sg)}}
	if err := w.t.Client.Call(ctx, "UpdateItem", in, nil); err != nil {
		return ddbjson.Classify(fmt.Errorf("register history partition %s: %w", sg, err))
	}
	w.groups.Add(sg)
	return nil
}
