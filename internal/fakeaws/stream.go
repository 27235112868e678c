package fakeaws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Stream stands in for a table's DynamoDB stream on a server that has none (dynalite): each Poll
// scans the table and turns what changed since the previous Poll into stream records, shaped as
// Lambda delivers them in a DynamoDBEvent (eventName INSERT, MODIFY or REMOVE; the images the
// view type asks for, in DynamoDB's attribute-value JSON exactly as the server returned it).
// Changes between two polls collapse into one record per item, which is what a consumer of a
// real stream sees when it reads the latest image only.
type Stream struct {
	Endpoint    string // the DynamoDB endpoint to scan
	Table       string
	Keys        []string // the table's key attribute names (KeySchema)
	ViewType    string   // NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES or KEYS_ONLY
	ARN         string   // the stream ARN, the records' eventSourceARN
	Region      string
	Credentials aws.Credentials // signs the scans

	last map[string]map[string]any // the items of the previous poll, by key
	seq  int
}

// Poll returns the records of the changes since the previous Poll (the first sees every item
// as an INSERT), ordered by key.
func (st *Stream) Poll(ctx context.Context) ([]map[string]any, error) {
	items, err := st.scan(ctx)
	if err != nil {
		return nil, err
	}
	now := map[string]map[string]any{}
	for _, it := range items {
		now[st.key(it)] = it
	}
	var keys []string
	for k := range now {
		keys = append(keys, k)
	}
	for k := range st.last {
		if now[k] == nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []map[string]any
	for _, k := range keys {
		old, cur := st.last[k], now[k]
		switch {
		case old == nil:
			out = append(out, st.record("INSERT", nil, cur))
		case cur == nil:
			out = append(out, st.record("REMOVE", old, nil))
		case !reflect.DeepEqual(old, cur):
			out = append(out, st.record("MODIFY", old, cur))
		}
	}
	st.last = now
	return out, nil
}

func (st *Stream) key(item map[string]any) string {
	parts := make([]string, len(st.Keys))
	for i, k := range st.Keys {
		b, _ := json.Marshal(item[k])
		parts[i] = string(b)
	}
	return strings.Join(parts, "\x00")
}

func (st *Stream) record(name string, old, cur map[string]any) map[string]any {
	st.seq++
	img := cur
	if img == nil {
		img = old
	}
	keys := map[string]any{}
	for _, k := range st.Keys {
		keys[k] = img[k]
	}
	change := map[string]any{
		"ApproximateCreationDateTime": time.Now().Unix(),
		"Keys":                        keys,
		"SequenceNumber":              fmt.Sprintf("%021d", st.seq),
		"StreamViewType":              st.ViewType,
	}
	if cur != nil && (st.ViewType == "NEW_IMAGE" || st.ViewType == "NEW_AND_OLD_IMAGES") {
		change["NewImage"] = cur
	}
	if old != nil && (st.ViewType == "OLD_IMAGE" || st.ViewType == "NEW_AND_OLD_IMAGES") {
		change["OldImage"] = old
	}
	b, _ := json.Marshal(change)
	change["SizeBytes"] = len(b)
	return map[string]any{
		"eventID":        strconv.Itoa(st.seq),
		"eventName":      name,
		"eventVersion":   "1.1",
		"eventSource":    "aws:dynamodb",
		"awsRegion":      st.Region,
		"dynamodb":       change,
		"eventSourceARN": st.ARN,
	}
}

// scan reads every item with signed raw Scan requests, keeping DynamoDB's JSON as it is.
func (st *Stream) scan(ctx context.Context) ([]map[string]any, error) {
	var items []map[string]any
	var start map[string]any
	for {
		in := map[string]any{"TableName": st.Table, "ConsistentRead": true}
		if start != nil {
			in["ExclusiveStartKey"] = start
		}
		var out struct {
			Items            []map[string]any
			LastEvaluatedKey map[string]any
		}
		if err := st.call(ctx, "Scan", in, &out); err != nil {
			return nil, fmt.Errorf("stream of %s: %w", st.Table, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		start = out.LastEvaluatedKey
	}
}

func (st *Stream) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, st.Credentials, req, hex.EncodeToString(sum[:]), "dynamodb", st.Region, time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", op, resp.Status, b)
	}
	return json.Unmarshal(b, out)
}
