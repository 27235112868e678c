package ddbitem

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/event"
)

// FromStreamImageByConversion is FromStreamImage as it was once: the whole image converted to SDK
// attribute values, then Unmarshal. FuzzFromStreamImage holds FromStreamImage to it.
func FromStreamImageByConversion(img map[string]events.DynamoDBAttributeValue) (*event.Record, error) {
	av, err := fromStreamMap(img)
	if err != nil {
		return nil, fmt.Errorf("stream image: %w", err)
	}
	return Unmarshal(av)
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
