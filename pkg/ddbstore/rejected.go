package ddbstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/ddbhistory"
	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbjson"
	"hookline/pkg/pipeline"
)

// The quarantine in the events table (see "Refused requests" in doc.go); the names are
// ddbjson's, which ddbkeep writes with.
const (
	// RejectedPrefix starts the id of every kept rejection: "~rejected#<uuid>". Ids that start
	// with "~" are never events.
	RejectedPrefix = ddbjson.RejectedPrefix
	// KeptCounterPrefix starts the id of the per-source, per-minute counters that cap how many
	// rejections all ingest instances keep together: "~kept#<unix minute>#<source>".
	KeptCounterPrefix = ddbjson.KeptCounterPrefix
	// IndexRejected lists kept rejections newest first: pk rejected_day (UTC date), sk
	// rejected_key. Only rejections carry these attributes, so no event is copied into it.
	IndexRejected = ddbjson.IndexRejected
)

// Attribute names of a rejection item. None is a key of a history index, so a rejection is
// never copied into one (TestRejectedItemsStayOutOfHistory checks it against TableSchema).
const (
	AttrRejectedDay = ddbjson.AttrRejectedDay // IndexRejected's partition key: "2006-01-02" (UTC)
	AttrRejectedKey = ddbjson.AttrRejectedKey // IndexRejected's sort key: ddbitem.ReceivedKey(received, uuid)
)

// RejectedIndex is the quarantine's index: sparse (only rejections have its keys), projecting
// the two attributes List filters on, so a kept rejection adds one small index write.
func RejectedIndex() Index {
	return Index{Name: IndexRejected, PartitionKey: AttrRejectedDay, SortKey: AttrRejectedKey,
		Projection: ProjectInclude, NonKey: []string{ddbitem.AttrSource, ddbjson.AttrReason}}
}

// RejectedAPI is the part of the DynamoDB client the quarantine uses.
type RejectedAPI interface {
	API
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// Rejected is the quarantine on AWS: refused requests in the events table under their own key
// prefix, kept pipeline.KeptFor by the table's TTL, listed from the sparse IndexRejected. It is
// also the Keeper's quota shared by every ingest instance (Take).
type Rejected struct {
	client RejectedAPI
	table  string
	now    func() time.Time
}

var (
	_ pipeline.RejectedStore = (*Rejected)(nil)
	_ pipeline.KeepQuota     = (*Rejected)(nil)
)

// NewRejected returns the quarantine in the events table named table.
func NewRejected(client RejectedAPI, table string) (*Rejected, error) {
	switch {
	case client == nil:
		return nil, errors.New("ddbstore: client is nil")
	case table == "":
		return nil, errors.New("ddbstore: table name is empty")
	}
	return &Rejected{client: client, table: table, now: time.Now}, nil
}

// MarshalRejection is r's item. The attribute values are built here rather than by the SDK's
// attributevalue package, which the ingest Lambda would otherwise link (with the DynamoDB
// Streams types) and initialise at every cold start; TestRejectionItemLayout holds the two
// encodings to the same item.
func MarshalRejection(r *pipeline.Rejection) (map[string]types.AttributeValue, error) {
	if r == nil || r.ID == "" {
		return nil, errors.New("marshal rejection: no id")
	}
	header := make(map[string]types.AttributeValue, len(r.Header))
	for k, v := range r.Header {
		header[k] = &types.AttributeValueMemberS{Value: v}
	}
	body := r.Body
	if body == nil {
		body = []byte{} // DynamoDB keeps an empty binary; nil would be NULL
	}
	at := r.ReceivedAt.UTC()
	item := map[string]types.AttributeValue{
		ddbitem.AttrID:        &types.AttributeValueMemberS{Value: RejectedPrefix + r.ID},
		AttrRejectedDay:       &types.AttributeValueMemberS{Value: at.Format(ddbjson.RejectedDayFormat)},
		AttrRejectedKey:       &types.AttributeValueMemberS{Value: ddbitem.ReceivedKey(at, r.ID)},
		ddbitem.AttrSource:    &types.AttributeValueMemberS{Value: r.Source},
		ddbjson.AttrReason:    &types.AttributeValueMemberS{Value: r.Reason},
		ddbjson.AttrDetail:    &types.AttributeValueMemberS{Value: r.Detail},
		ddbjson.AttrHeader:    &types.AttributeValueMemberM{Value: header},
		ddbjson.AttrBody:      &types.AttributeValueMemberB{Value: body},
		ddbjson.AttrBodySize:  &types.AttributeValueMemberN{Value: strconv.Itoa(r.BodySize)},
		ddbitem.AttrExpiresAt: &types.AttributeValueMemberN{Value: strconv.FormatInt(at.Add(pipeline.KeptFor).Unix(), 10)},
	}
	for name, v := range map[string]string{ddbjson.AttrSourceIP: r.SourceIP, ddbjson.AttrRawPath: r.RawPath, ddbjson.AttrRawQuery: r.RawQuery} {
		if v != "" {
			item[name] = &types.AttributeValueMemberS{Value: v}
		}
	}
	if r.Sealed != nil { // as attributevalue's omitempty had it: an empty, non-nil slice stays
		item[ddbjson.AttrSealed] = &types.AttributeValueMemberB{Value: r.Sealed}
	}
	return item, nil
}

// unmarshalRejection decodes an item written by MarshalRejection (and perhaps marked
// readmitted), returning the rejection and its expires_at. An absent or NULL attribute is the
// zero value; an attribute of another type is an error.
func unmarshalRejection(av map[string]types.AttributeValue) (*pipeline.Rejection, int64, error) {
	d := itemDecoder{av: av}
	itemID, key := d.str(ddbitem.AttrID), d.str(AttrRejectedKey)
	r := &pipeline.Rejection{
		Source: d.str(ddbitem.AttrSource), Reason: d.str(ddbjson.AttrReason), Detail: d.str(ddbjson.AttrDetail),
		SourceIP: d.str(ddbjson.AttrSourceIP), RawPath: d.str(ddbjson.AttrRawPath), RawQuery: d.str(ddbjson.AttrRawQuery),
		Header: d.strMap(ddbjson.AttrHeader), Sealed: d.bin(ddbjson.AttrSealed), Body: d.bin(ddbjson.AttrBody),
		BodySize: int(d.num(ddbjson.AttrBodySize)), EventID: d.str(ddbjson.AttrEventID),
	}
	expires, readmitted := d.num(ddbitem.AttrExpiresAt), d.str(ddbjson.AttrReadmittedAt)
	if d.err != nil {
		return nil, 0, fmt.Errorf("unmarshal rejection %s: %w", itemID, d.err)
	}
	at, id, err := ddbitem.ParseReceivedKey(key)
	if err != nil || itemID != RejectedPrefix+id {
		return nil, 0, fmt.Errorf("unmarshal rejection %s: bad %s %q", itemID, AttrRejectedKey, key)
	}
	r.ID, r.ReceivedAt = id, at
	if readmitted != "" {
		if r.ReadmittedAt, err = ddbjson.ParseTime(ddbjson.AttrReadmittedAt, readmitted); err != nil {
			return nil, 0, fmt.Errorf("unmarshal rejection %s: %w", id, err)
		}
	}
	return r, expires, nil
}

// itemDecoder reads attributes of one item, keeping the first error.
type itemDecoder struct {
	av  map[string]types.AttributeValue
	err error
}

// get returns the attribute name as a T; false when it is absent or NULL.
func get[T types.AttributeValue](d *itemDecoder, name string) (T, bool) {
	var zero T
	v, ok := d.av[name]
	if _, null := v.(*types.AttributeValueMemberNULL); !ok || null {
		return zero, false
	}
	t, ok := v.(T)
	if !ok && d.err == nil {
		d.err = fmt.Errorf("attribute %s is %T, want %T", name, v, zero)
	}
	return t, ok
}

func (d *itemDecoder) str(name string) string {
	if v, ok := get[*types.AttributeValueMemberS](d, name); ok {
		return v.Value
	}
	return ""
}

func (d *itemDecoder) bin(name string) []byte {
	if v, ok := get[*types.AttributeValueMemberB](d, name); ok {
		return v.Value
	}
	return nil
}

func (d *itemDecoder) num(name string) int64 {
	v, ok := get[*types.AttributeValueMemberN](d, name)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("attribute %s: %w", name, err)
	}
	return n
}

func (d *itemDecoder) strMap(name string) map[string]string {
	v, ok := get[*types.AttributeValueMemberM](d, name)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(v.Value))
	for k, e := range v.Value {
		s, ok := e.(*types.AttributeValueMemberS)
		if !ok {
			if d.err == nil {
				d.err = fmt.Errorf("attribute %s.%s is %T, want a string", name, k, e)
			}
			continue
		}
		out[k] = s.Value
	}
	return out
}

// Keep writes r. Its id is fresh (a UUIDv7), so no condition is needed.
func (q *Rejected) Keep(ctx context.Context, r *pipeline.Rejection) error {
	item, err := MarshalRejection(r)
	if err != nil {
		return err
	}
	if _, err := q.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(q.table), Item: item}); err != nil {
		return ddbjson.Classify(fmt.Errorf("keep rejection %s: %w", r.ID, err))
	}
	return nil
}

func rejectedKey(id string) map[string]types.AttributeValue {
	return key(RejectedPrefix + id)
}

// Get reads the rejection id (strongly consistent); one whose 7 days are over is not found,
// whether or not TTL has deleted it yet.
func (q *Rejected) Get(ctx context.Context, id string) (*pipeline.Rejection, error) {
	out, err := q.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(q.table), Key: rejectedKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, ddbjson.Classify(fmt.Errorf("get rejection %s: %w", id, err))
	}
	if len(out.Item) == 0 {
		return nil, rejectionNotFound(id)
	}
	r, expires, err := unmarshalRejection(out.Item)
	if err != nil {
		return nil, err
	}
	if expires < q.now().Unix() {
		return nil, rejectionNotFound(id)
	}
	return r, nil
}

func rejectionNotFound(id string) error {
	return &pipeline.Error{Kind: pipeline.KindNotFound, Detail: fmt.Sprintf("rejection %s not found", id), Err: pipeline.ErrNotFound}
}

// List answers rq newest first: one day partition of IndexRejected after another (at most
// eight: the 7 days a rejection is kept), the page's items then read with BatchGetItem.
func (q *Rejected) List(ctx context.Context, rq pipeline.RejectedQuery) (pipeline.RejectedPage, error) {
	limit := rq.Limit
	if limit <= 0 {
		limit = pipeline.DefaultLimit
	}
	limit = min(limit, pipeline.MaxLimit)
	now := q.now()
	// The lower end never reaches past the 7 days, so expired rejections TTL has not deleted
	// yet stay out.
	since := rq.Since
	if floor := now.Add(-pipeline.KeptFor); since.Before(floor) {
		since = floor
	}
	lower, upper, empty, err := ddbhistory.KeyRange(since, rq.Until, rq.Cursor)
	if err != nil || empty {
		return pipeline.RejectedPage{}, err
	}
	// The newest day to read: upper's, or today's; an hour of slack for a writer's clock ahead
	// of this one, and no walk through days that have not come yet.
	last := now.Add(time.Hour).UTC()
	if upper != "" {
		if t, _ := time.Parse(ddbitem.TimeFormat, strings.SplitN(upper, "#", 2)[0]); t.Before(last) {
			last = t.UTC()
		}
	}
	var keys []string // rejected_key of each picked item, newest first
	for day := last.Truncate(24 * time.Hour); !day.Before(since.UTC().Truncate(24 * time.Hour)); day = day.Add(-24 * time.Hour) {
		got, err := q.queryDay(ctx, day.Format(ddbjson.RejectedDayFormat), rq, lower, upper, limit+1-len(keys))
		if err != nil {
			return pipeline.RejectedPage{}, err
		}
		keys = append(keys, got...)
		if len(keys) > limit {
			break
		}
	}
	var page pipeline.RejectedPage
	if len(keys) > limit {
		keys = keys[:limit]
		page.Cursor = ddbhistory.EncodeCursor(keys[limit-1])
	}
	rs, err := q.batchGet(ctx, keys)
	if err != nil {
		return pipeline.RejectedPage{}, err
	}
	page.Rejections = rs
	return page, nil
}

// queryDay returns up to want rejected_keys of day's partition in [lower, upper), newest first.
func (q *Rejected) queryDay(ctx context.Context, day string, rq pipeline.RejectedQuery, lower, upper string, want int) ([]string, error) {
	names := map[string]string{"#pk": AttrRejectedDay, "#sk": AttrRejectedKey}
	values := map[string]types.AttributeValue{
		":pk": &types.AttributeValueMemberS{Value: day},
		":lo": &types.AttributeValueMemberS{Value: lower},
	}
	cond := "#pk = :pk AND #sk >= :lo"
	if upper != "" {
		// BETWEEN is inclusive; only a cursor's own item can equal upper, and it is dropped below.
		cond = "#pk = :pk AND #sk BETWEEN :lo AND :hi"
		values[":hi"] = &types.AttributeValueMemberS{Value: upper}
	}
	var filters []string
	if rq.Source != "" {
		names["#source"], values[":source"] = ddbitem.AttrSource, &types.AttributeValueMemberS{Value: rq.Source}
		filters = append(filters, "#source = :source")
	}
	if rq.Reason != "" {
		names["#reason"], values[":reason"] = ddbjson.AttrReason, &types.AttributeValueMemberS{Value: rq.Reason}
		filters = append(filters, "#reason = :reason")
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(q.table), IndexName: aws.String(IndexRejected),
		KeyConditionExpression: aws.String(cond), ScanIndexForward: aws.Bool(false),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
	} else {
		in.Limit = aws.Int32(int32(want + 1)) // + the cursor's own item
	}
	var keys []string
	for {
		out, err := q.client.Query(ctx, in)
		if err != nil {
			return nil, ddbjson.Classify(fmt.Errorf("list rejections of %s: %w", day, err))
		}
		for _, item := range out.Items {
			k, ok := item[AttrRejectedKey].(*types.AttributeValueMemberS)
			if ok && (upper == "" || k.Value < upper) {
				keys = append(keys, k.Value)
			}
		}
		if len(keys) >= want || len(out.LastEvaluatedKey) == 0 {
			return keys[:min(len(keys), want)], nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// batchGet reads the items of keys (rejected_keys) and returns them in the same order.
func (q *Rejected) batchGet(ctx context.Context, keys []string) ([]*pipeline.Rejection, error) {
	byID := make(map[string]*pipeline.Rejection, len(keys))
	ids := make([]string, len(keys))
	for i, k := range keys {
		_, id, _ := ddbitem.ParseReceivedKey(k)
		ids[i] = id
	}
	for start := 0; start < len(ids); start += 100 { // BatchGetItem takes at most 100 keys
		var want []map[string]types.AttributeValue
		for _, id := range ids[start:min(start+100, len(ids))] {
			want = append(want, rejectedKey(id))
		}
		in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{q.table: {Keys: want}}}
		for wait := 50 * time.Millisecond; len(in.RequestItems) > 0; wait = min(2*wait, 2*time.Second) {
			out, err := q.client.BatchGetItem(ctx, in)
			if err != nil {
				return nil, ddbjson.Classify(fmt.Errorf("list rejections: %w", err))
			}
			for _, item := range out.Responses[q.table] {
				r, _, err := unmarshalRejection(item)
				if err != nil {
					return nil, err
				}
				byID[r.ID] = r
			}
			// Keys DynamoDB did not get to (throttling, the 16 MB reply limit) are asked again.
			in = &dynamodb.BatchGetItemInput{RequestItems: out.UnprocessedKeys}
			if len(in.RequestItems) > 0 {
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(wait):
				}
			}
		}
	}
	out := make([]*pipeline.Rejection, 0, len(ids))
	for _, id := range ids {
		if r, ok := byID[id]; ok { // deleted by TTL between the query and the read
			out = append(out, r)
		}
	}
	return out, nil
}

// MarkReadmitted records that id was readmitted as eventID, unless it already was.
func (q *Rejected) MarkReadmitted(ctx context.Context, id, eventID string, at time.Time) error {
	marked, err := markOnce(ctx, q.client, q.table, rejectedKey(id),
		attr{ddbjson.AttrReadmittedAt, at.UTC().Format(time.RFC3339Nano)}, attr{ddbjson.AttrEventID, eventID})
	switch {
	case err != nil:
		return ddbjson.Classify(fmt.Errorf("mark rejection %s readmitted: %w", id, err))
	case !marked:
		// Marked before (the first mark wins), or no such rejection.
		if _, err := q.Get(ctx, id); err != nil {
			return fmt.Errorf("mark rejection %s readmitted: %w", id, err)
		}
	}
	return nil
}

// Take counts one more kept rejection for key ("" for names no source has) in minute (unix
// minutes): one conditional UpdateItem on the counter item, which fails once limit are kept.
// The counter expires with the next minutes; DynamoDB's TTL deletes it within days.
func (q *Rejected) Take(ctx context.Context, key string, minute int64, limit int) (bool, error) {
	id := ddbjson.KeptCounterID(minute, key)
	_, err := q.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(q.table),
		Key:                 map[string]types.AttributeValue{ddbitem.AttrID: &types.AttributeValueMemberS{Value: id}},
		UpdateExpression:    aws.String("SET #ttl = :ttl ADD #n :one"),
		ConditionExpression: aws.String("attribute_not_exists(#n) OR #n < :limit"),
		ExpressionAttributeNames: map[string]string{
			"#n": ddbjson.AttrKeptCount, "#ttl": ddbitem.AttrExpiresAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one":   &types.AttributeValueMemberN{Value: "1"},
			":limit": &types.AttributeValueMemberN{Value: strconv.Itoa(limit)},
			":ttl":   &types.AttributeValueMemberN{Value: strconv.FormatInt((minute+2)*60, 10)},
		},
	})
	counted, err := written(err)
	if err != nil {
		return false, ddbjson.Classify(fmt.Errorf("count kept rejections of %q: %w", key, err))
	}
	return counted, nil
}
