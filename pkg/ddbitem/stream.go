package ddbitem

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/ddbjson"
	"hookline/pkg/event"
)

// FromStreamImage decodes the NewImage of a DynamoDB stream record as Lambda delivers it, with
// Unmarshal's results and errors. It is ddbjson.FromStreamImage, which the notifier calls
// directly: this package imports the SDK's DynamoDB types, whose package initialisation the
// notifier does not pay.
func FromStreamImage(img map[string]events.DynamoDBAttributeValue) (*event.Record, error) {
	return ddbjson.FromStreamImage(img)
}

// ToStreamImage converts an item to the attribute values of a Lambda stream record, so the local
// engine can hand the notifier the same DynamoDBEvent that DynamoDB Streams would.
func ToStreamImage(item map[string]types.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	return convertMap(item, toStream)
}

// convertMap and convertList convert the values of a map or a list attribute, one direction
// or the other (the tests convert stream values back); an error names the attribute or the
// index where it happened.
func convertMap[F, T any](in map[string]F, convert func(F) (T, error)) (map[string]T, error) {
	out := make(map[string]T, len(in))
	for k, v := range in {
		c, err := convert(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = c
	}
	return out, nil
}

func convertList[F, T any](in []F, convert func(F) (T, error)) ([]T, error) {
	out := make([]T, len(in))
	for i, v := range in {
		c, err := convert(v)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = c
	}
	return out, nil
}

func toStream(v types.AttributeValue) (events.DynamoDBAttributeValue, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value), nil
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value), nil
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value), nil
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value), nil
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute(), nil
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value), nil
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value), nil
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value), nil
	case *types.AttributeValueMemberL:
		l, err := convertList(v.Value, toStream)
		if err != nil {
			return events.DynamoDBAttributeValue{}, err
		}
		return events.NewListAttribute(l), nil
	case *types.AttributeValueMemberM:
		m, err := ToStreamImage(v.Value)
		if err != nil {
			return events.DynamoDBAttributeValue{}, err
		}
		return events.NewMapAttribute(m), nil
	default:
		return events.DynamoDBAttributeValue{}, fmt.Errorf("unsupported attribute value %T", v)
	}
}
