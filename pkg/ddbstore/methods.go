package ddbstore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Methods is API made of the client's five methods as method values. In a binary that also
// links text/template (the notifier: its MethodByName makes the linker keep every exported
// method of every type that can sit in an interface), passing *dynamodb.Client itself would
// keep all of the client's operations; method values keep the five the store calls, and the
// notifier's binary loses about 1 MB.
func Methods(c *dynamodb.Client) API {
	return methods{put: c.PutItem, get: c.GetItem, query: c.Query, update: c.UpdateItem, batchGet: c.BatchGetItem}
}

type methods struct {
	put    func(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	get    func(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	query  func(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	update func(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)

	batchGet func(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

func (m methods) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return m.put(ctx, in, opts...)
}

func (m methods) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return m.get(ctx, in, opts...)
}

func (m methods) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return m.query(ctx, in, opts...)
}

func (m methods) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return m.update(ctx, in, opts...)
}

func (m methods) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return m.batchGet(ctx, in, opts...)
}
