package ddbstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbjson"
)

// IndexByGroup is the events table's one history index: pk source_group (ddbitem.SourceGroup:
// "github#issues"), sk received_key, projecting the keys and the type (see doc.go).
const IndexByGroup = ddbjson.IndexByGroup

// Schema describes the events table: the data the CDK stack builds the table from and the
// tests create it with, so the two cannot drift apart. Every key attribute is a string (S).
type Schema struct {
	PartitionKey string  // of the base table
	TTLAttribute string  // unix seconds; DynamoDB deletes the item some time after
	Indexes      []Index // global secondary indexes of the history
	// Rejected is the quarantine's sparse index (RejectedIndex); only `hookline rejected`
	// reads it, so no function is granted it.
	Rejected Index
}

// Index is one global secondary index.
type Index struct {
	Name         string
	PartitionKey string
	SortKey      string
	// Projection is DynamoDB's ProjectionType (ALL, KEYS_ONLY or INCLUDE); NonKey lists the
	// attributes an INCLUDE projection copies.
	Projection string
	NonKey     []string
}

// Projection types.
const (
	ProjectAll      = "ALL"
	ProjectKeysOnly = "KEYS_ONLY"
	ProjectInclude  = "INCLUDE"
)

// TableSchema returns the events table's keys, indexes and TTL attribute.
func TableSchema() Schema {
	return Schema{
		PartitionKey: ddbitem.AttrID,
		TTLAttribute: ddbitem.AttrExpiresAt,
		Indexes: []Index{{
			Name: IndexByGroup, PartitionKey: ddbitem.AttrSourceGroup, SortKey: ddbitem.AttrReceivedKey,
			// The type, so an exact type or a prefix is filtered in the index; the rest of a
			// page is one BatchGetItem. The notified mark is not projected: marking an event
			// rewrites only its base item.
			Projection: ProjectInclude, NonKey: []string{ddbitem.AttrType},
		}},
		Rejected: RejectedIndex(),
	}
}

// TableAPI is what CreateTable needs of a DynamoDB client.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// CreateTable creates an on-demand events table named name from TableSchema and waits until it
// is ACTIVE. It is for tests and local tooling against DynamoDB-compatible servers: on AWS the
// CDK stack owns the table and also turns on the stream and TTL, which dynalite lacks.
func CreateTable(ctx context.Context, client TableAPI, name string) error {
	s := TableSchema()
	attrs := map[string]bool{s.PartitionKey: true}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   []types.KeySchemaElement{{AttributeName: aws.String(s.PartitionKey), KeyType: types.KeyTypeHash}},
	}
	for _, ix := range append(slices.Clone(s.Indexes), s.Rejected) { // the history's, then the quarantine's
		attrs[ix.PartitionKey], attrs[ix.SortKey] = true, true
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey), KeyType: types.KeyTypeRange},
			},
			Projection: projection(ix),
		})
	}
	for a := range attrs {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a), AttributeType: types.ScalarAttributeTypeS,
		})
	}
	if _, err := client.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	// The SDK's TableExistsWaiter polls every 20 s at least; dynalite is ready in milliseconds.
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", name, err)
		}
		if out.Table != nil && out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("table %s not active: %w", name, ctx.Err())
		case <-time.After(wait):
		}
	}
}

func projection(ix Index) *types.Projection {
	p := &types.Projection{ProjectionType: types.ProjectionType(ix.Projection)}
	if len(ix.NonKey) > 0 {
		p.NonKeyAttributes = ix.NonKey
	}
	return p
}
