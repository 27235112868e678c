package ddbjson

import (
	"context"
	"fmt"
	"time"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// Caller sends one operation of the DynamoDB JSON protocol (awsjson.Client).
type Caller interface {
	Call(ctx context.Context, op string, in, out any) error
}

// Key is the events table's key of the item id: an event's, or a control item's.
func Key(id string) map[string]Value { return map[string]Value{AttrID: S(id)} }

// GetItem is GetItem's input; ProjectionExpression and its names are left out when empty.
type GetItem struct {
	TableName                string
	Key                      map[string]Value
	ConsistentRead           bool
	ProjectionExpression     string            `json:",omitempty"`
	ExpressionAttributeNames map[string]string `json:",omitempty"`
}

// NotFound is both pipeline.ErrNotFound (for errors.Is) and KindNotFound (for the HTTP status).
func NotFound(id string) error {
	return &pipeline.Error{Kind: pipeline.KindNotFound, Detail: fmt.Sprintf("event %s not found", id), Err: pipeline.ErrNotFound}
}

// GetRecord reads event id from table with a strongly consistent read, so a just-stored event
// is always found. A control item (the registry, a digest) is not an event, and an event past
// its TTL is gone (PastTTL): not found.
func GetRecord(ctx context.Context, c Caller, table, id string) (*event.Record, error) {
	if IsControl(id) {
		return nil, NotFound(id)
	}
	var out struct{ Item map[string]Value }
	if err := c.Call(ctx, "GetItem", GetItem{TableName: table, Key: Key(id), ConsistentRead: true}, &out); err != nil {
		return nil, Classify(fmt.Errorf("get event %s: %w", id, err))
	}
	if len(out.Item) == 0 || ItemPastTTL(out.Item, time.Now()) {
		return nil, NotFound(id)
	}
	rec, err := Unmarshal(out.Item)
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", id, err)
	}
	return rec, nil
}

// Table is the events table as every awsjson adapter of it holds it: the client and the name.
type Table struct {
	Client Caller
	Name   string
}

// NewTable is a Table, or an error naming the adapter (pkg) when client or name is missing.
func NewTable(pkg string, client Caller, name string) (Table, error) {
	switch {
	case client == nil:
		return Table{}, fmt.Errorf("%s: client is nil", pkg)
	case name == "":
		return Table{}, fmt.Errorf("%s: table name is empty", pkg)
	}
	return Table{Client: client, Name: name}, nil
}
