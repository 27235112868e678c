package ddbstore

import (
	"encoding/base64"
	"encoding/json"
	"errors"

	"hookline/pkg/ddbitem"
	"hookline/pkg/pipeline"
)

// cursor is the position after the last record of a page. Because received_key is unique and
// totally ordered, one key is enough for every partition a List merges: the next page is all
// matching items with a smaller key. It is JSON so later versions can add fields.
type cursor struct {
	Before string `json:"before"` // received_key of the last record returned
}

func encodeCursor(key string) string {
	b, _ := json.Marshal(cursor{Before: key}) // cannot fail: one string field
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", invalidCursor(errors.New("not base64url"))
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return "", invalidCursor(errors.New("not JSON"))
	}
	if _, _, err := ddbitem.ParseReceivedKey(c.Before); err != nil {
		return "", invalidCursor(errors.New("no position"))
	}
	return c.Before, nil
}

// invalidCursor keeps the detail generic: the cursor is client input, its parse errors are not
// worth echoing back.
func invalidCursor(reason error) error {
	return pipeline.Errorf(pipeline.KindInvalid, "cursor is not valid: %v", reason)
}
