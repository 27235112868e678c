package ddbitem

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"hookline/pkg/event"
)

// FromStreamImageByConversion is FromStreamImage as it was: the whole image converted to SDK
// attribute values, then Unmarshal. FuzzFromStreamImage holds FromStreamImage to it.
func FromStreamImageByConversion(img map[string]events.DynamoDBAttributeValue) (*event.Record, error) {
	av, err := fromStreamMap(img)
	if err != nil {
		return nil, fmt.Errorf("stream image: %w", err)
	}
	return Unmarshal(av)
}
