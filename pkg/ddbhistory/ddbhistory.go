// Package ddbhistory is the history Lambda's side of the events table on AWS: GET /events and
// GET /events/{id} (pipeline.History's Get and List) as DynamoDB JSON through pkg/awsjson,
// rather than the SDK's DynamoDB client, whose types package alone fills a 0.59 MB schema
// table at every cold start (docs/benchmarks, 2026-12-02 round 10, history cold start).
//
// The reads are pkg/ddbstore's, which makes them through the SDK for the CLI: the registry's
// GetItem, one Query per index partition (newest first, paged), the page's BatchGetItem and
// Get's GetItem. TestSameRequestsAsDDBStore holds the two to the same requests and the same
// pages; the cursor and the key range are this package's, for both.
package ddbhistory

import (
	"context"
	"time"

	"hookline/pkg/ddbjson"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// Reader reads the events of one table.
type Reader struct {
	t ddbjson.Table
}

var _ pipeline.History = (*Reader)(nil)

// New returns the reader of the events table named table.
func New(client ddbjson.Caller, table string) (*Reader, error) {
	t, err := ddbjson.NewTable("ddbhistory", client, table)
	if err != nil {
		return nil, err
	}
	return &Reader{t: t}, nil
}

type item = map[string]ddbjson.Value

// Get reads one event with a strongly consistent read, so a just-stored event is always found.
func (r *Reader) Get(ctx context.Context, id string) (*event.Record, error) {
	return ddbjson.GetRecord(ctx, r.t.Client, r.t.Name, id)
}

// List answers q from the history index (List).
func (r *Reader) List(ctx context.Context, q pipeline.Query) (pipeline.Page, error) {
	return List(ctx, jsonIndex{r}, r.t.Name, q)
}

// jsonIndex is List's reads as DynamoDB JSON.
type jsonIndex struct{ r *Reader }

func (ix jsonIndex) Registry(ctx context.Context) ([]string, error) {
	var out struct{ Item item }
	in := ddbjson.GetItem{TableName: ix.r.t.Name, Key: ddbjson.Key(ddbjson.GroupsID), ConsistentRead: true,
		ProjectionExpression: "#g", ExpressionAttributeNames: map[string]string{"#g": ddbjson.AttrGroups}}
	if err := ix.r.t.Client.Call(ctx, "GetItem", in, &out); err != nil {
		return nil, err
	}
	return out.Item[ddbjson.AttrGroups].SS, nil
}

// query is Query's input.
type query struct {
	TableName                 string
	IndexName                 string
	KeyConditionExpression    string
	FilterExpression          string `json:",omitempty"`
	ScanIndexForward          bool   // false, always: newest first
	Limit                     int
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues item
	ExclusiveStartKey         item `json:",omitempty"`
}

func (ix jsonIndex) Query(ctx context.Context, in *Query, start item) ([]item, item, error) {
	values := make(item, len(in.Values))
	for k, v := range in.Values {
		values[k] = ddbjson.S(v)
	}
	req := query{TableName: in.Table, IndexName: in.Index, KeyConditionExpression: in.KeyCondition, FilterExpression: in.Filter,
		Limit: in.Limit, ExpressionAttributeNames: in.Names, ExpressionAttributeValues: values, ExclusiveStartKey: start}
	var out struct {
		Items            []item
		LastEvaluatedKey item
	}
	if err := ix.r.t.Client.Call(ctx, "Query", req, &out); err != nil {
		return nil, nil, err
	}
	return out.Items, out.LastEvaluatedKey, nil
}

type keys struct{ Keys []item }

func (ix jsonIndex) BatchGet(ctx context.Context, ids []string) ([]item, []string, error) {
	ks := make([]item, len(ids))
	for i, id := range ids {
		ks[i] = ddbjson.Key(id)
	}
	var out struct {
		Responses       map[string][]item
		UnprocessedKeys map[string]keys
	}
	if err := ix.r.t.Client.Call(ctx, "BatchGetItem", struct{ RequestItems map[string]keys }{map[string]keys{ix.r.t.Name: {ks}}}, &out); err != nil {
		return nil, nil, err
	}
	var left []string
	for _, k := range out.UnprocessedKeys[ix.r.t.Name].Keys {
		id, _ := ix.Str(k[ddbjson.AttrID])
		left = append(left, id)
	}
	return out.Responses[ix.r.t.Name], left, nil
}

func (jsonIndex) Str(v ddbjson.Value) (string, bool) {
	if v.S == nil {
		return "", false
	}
	return *v.S, true
}

func (jsonIndex) Record(it item) (*event.Record, error) { return ddbjson.Unmarshal(it) }

func (jsonIndex) Expired(it item, now time.Time) bool { return ddbjson.ItemPastTTL(it, now) }
