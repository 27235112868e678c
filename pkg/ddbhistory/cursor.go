package ddbhistory

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"hookline/pkg/ddbjson"
	"hookline/pkg/pipeline"
)

// cursor is the position after the last record of a page. Because received_key is unique and
// totally ordered, one key is enough for every partition a List merges: the next page is all
// matching items with a smaller key. It is JSON so later versions can add fields.
type cursor struct {
	Before string `json:"before"` // received_key of the last record returned
}

// EncodeCursor is the cursor of the page that follows the record whose received_key is key.
func EncodeCursor(key string) string {
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
	if _, _, err := ddbjson.ParseReceivedKey(c.Before); err != nil {
		return "", invalidCursor(errors.New("no position"))
	}
	return c.Before, nil
}

// invalidCursor keeps the detail generic: the cursor is client input, its parse errors are not
// worth echoing back.
func invalidCursor(reason error) error {
	return pipeline.Errorf(pipeline.KindInvalid, "cursor is not valid: %v", reason)
}

// KeyRange is the range [lower, upper) of received_key that since, until and a page cursor
// leave (an empty bound is open); empty says no key is in it. Timestamps alone sort before
// every key with that time ("T" < "T#id"), so since is inclusive and until exclusive without
// special cases. A cursor that does not decode is KindInvalid.
func KeyRange(since, until time.Time, cursor string) (lower, upper string, empty bool, err error) {
	if !since.IsZero() {
		lower = ddbjson.FormatTime(since)
	}
	if !until.IsZero() {
		upper = ddbjson.FormatTime(until)
	}
	if cursor != "" {
		before, err := decodeCursor(cursor)
		if err != nil {
			return "", "", false, err
		}
		if upper == "" || before < upper {
			upper = before
		}
	}
	return lower, upper, lower != "" && upper != "" && lower >= upper, nil
}
