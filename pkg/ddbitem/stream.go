package ddbitem

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/event"
)

// FromStreamImage decodes the NewImage of a DynamoDB stream record as Lambda delivers it. It
// reads the attributes Unmarshal reads straight from the image, with Unmarshal's results and
// errors: converting the whole image to SDK values first (every index attribute too) was a
// fifth of the local notifier's decode work, for four strings.
func FromStreamImage(img map[string]events.DynamoDBAttributeValue) (*event.Record, error) {
	if err := checkStreamMap(img); err != nil {
		return nil, fmt.Errorf("stream image: %w", err)
	}
	return unmarshal(func(name string) (string, error) {
		v, ok := img[name]
		if !ok {
			return "", fmt.Errorf("item attribute %s is missing", name)
		}
		if v.DataType() != events.DataTypeString {
			av, _ := fromStream(v) // checked above: it converts
			return "", fmt.Errorf("item attribute %s is %T, want a string (S)", name, av)
		}
		return v.String(), nil
	}, func(name string) bool { _, ok := img[name]; return ok })
}

// checkStreamMap fails where fromStreamMap fails, with its error, without building the values:
// scalars always convert; a binary value, a list or a map is converted to find out.
func checkStreamMap(img map[string]events.DynamoDBAttributeValue) error {
	for k, v := range img {
		switch v.DataType() {
		case events.DataTypeString, events.DataTypeNumber, events.DataTypeBoolean, events.DataTypeNull,
			events.DataTypeStringSet, events.DataTypeNumberSet:
			continue
		}
		if _, err := fromStream(v); err != nil {
			return fmt.Errorf("attribute %s: %w", k, err)
		}
	}
	return nil
}

// ToStreamImage converts an item to the attribute values of a Lambda stream record, so the local
// engine can hand the notifier the same DynamoDBEvent that DynamoDB Streams would.
func ToStreamImage(item map[string]types.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	return convertMap(item, toStream)
}

// convertMap and convertList convert the values of a map or a list attribute, one direction
// or the other; an error names the attribute or the index where it happened.
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

func fromStreamMap(img map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	return convertMap(img, fromStream)
}

// fromStream uses the accessor of the value's own DataType, so it never hits their type panics.
func fromStream(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBinary:
		if v.IsNull() { // the zero value claims to be binary but holds nothing; Binary would panic
			return nil, fmt.Errorf("empty stream attribute value")
		}
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		l, err := convertList(v.List(), fromStream)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case events.DataTypeMap:
		m, err := fromStreamMap(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	default:
		return nil, fmt.Errorf("unsupported stream attribute type %v", v.DataType())
	}
}
