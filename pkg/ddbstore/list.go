package ddbstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"hookline/pkg/ddbitem"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// keyRange is the range [lower, upper) of received_key that since, until and a page cursor
// leave (an empty bound is open); empty says no key is in it. Timestamps alone sort before
// every key with that time ("T" < "T#id"), so since is inclusive and until exclusive without
// special cases.
func keyRange(since, until time.Time, cursor string) (lower, upper string, empty bool, err error) {
	if !since.IsZero() {
		lower = ddbitem.FormatTime(since)
	}
	if !until.IsZero() {
		upper = ddbitem.FormatTime(until)
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

// List answers q from the history index: one partition for a source and a type, otherwise the
// partitions of the registry that match, merged newest first by received_key; then one
// BatchGetItem reads the page's items. It never scans.
func (s *Store) List(ctx context.Context, q pipeline.Query) (pipeline.Page, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = pipeline.DefaultLimit
	}
	limit = min(limit, pipeline.MaxLimit)

	lower, upper, empty, err := keyRange(q.Since, q.Until, q.Cursor)
	if err != nil || empty {
		return pipeline.Page{}, err
	}

	parts, err := s.partitions(ctx, q)
	if err != nil {
		return pipeline.Page{}, err
	}
	if len(parts) == 0 {
		return pipeline.Page{}, nil
	}
	// Each partition is asked for roughly its share of the page plus slack, so one round of
	// queries usually fills it; a partition that runs short is refilled. (Shares are uneven —
	// a busy source's partition holds most events — and the refill covers that.)
	chunk := limit + 1
	if len(parts) > 1 {
		chunk = min(chunk, (limit+1)*3/(2*len(parts))+2)
	}
	for _, p := range parts {
		p.input = s.queryInput(p, lower, upper, int32(chunk))
	}

	// First round in parallel: a List over many partitions costs one round trip, not one each.
	var wg sync.WaitGroup
	errs := make([]error, len(parts))
	for i, p := range parts {
		wg.Go(func() { errs[i] = s.fill(ctx, p, upper) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return pipeline.Page{}, err
		}
	}

	// Merge newest first; take one entry more than the page to know whether another page exists.
	var picked []map[string]types.AttributeValue
	for len(picked) <= limit {
		var best *partition
		for _, p := range parts {
			if len(p.buf) == 0 && !p.done {
				if err := s.fill(ctx, p, upper); err != nil {
					return pipeline.Page{}, err
				}
			}
			if len(p.buf) > 0 && (best == nil || p.head() > best.head()) {
				best = p
			}
		}
		if best == nil {
			break
		}
		picked = append(picked, best.buf[0])
		best.buf = best.buf[1:]
	}

	var page pipeline.Page
	if len(picked) > limit {
		picked = picked[:limit]
		page.Cursor = encodeCursor(receivedKey(picked[limit-1]))
	}
	ids := make([]string, len(picked))
	for i, entry := range picked {
		ids[i] = stringAttr(entry, ddbitem.AttrID)
	}
	items, err := s.batchGet(ctx, ids)
	if err != nil {
		return pipeline.Page{}, err
	}
	page.Records = make([]*event.Record, 0, len(ids))
	for _, id := range ids {
		item, ok := items[id]
		if !ok {
			continue // expired (TTL) between the index read and the item read
		}
		r, err := ddbitem.Unmarshal(item)
		if err != nil {
			return pipeline.Page{}, fmt.Errorf("list events: %w", err)
		}
		page.Records = append(page.Records, r)
	}
	return page, nil
}

// partition is one index partition being read newest first.
type partition struct {
	sourceGroup string
	filterType  string // the type (or type prefix) the filter expression keeps
	input       *dynamodb.QueryInput
	buf         []map[string]types.AttributeValue
	done        bool
}

func (p *partition) head() string { return receivedKey(p.buf[0]) }

func receivedKey(item map[string]types.AttributeValue) string {
	return stringAttr(item, ddbitem.AttrReceivedKey)
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// partitions are the index partitions q reads. A source and a type name exactly one; anything
// broader is every registered partition of that source, of that type group, or of all.
func (s *Store) partitions(ctx context.Context, q pipeline.Query) ([]*partition, error) {
	var group string
	if q.Type != "" {
		// A type group holds the type and its siblings (issues.opened, issues.closed): the
		// filter keeps the exact type, or the types one segment below a prefix (see doc.go).
		group = event.TypeFilterGroup(q.Type)
	}
	if q.Source != "" && q.Type != "" {
		return []*partition{{sourceGroup: q.Source + "#" + group, filterType: q.Type}}, nil
	}
	registry, err := s.registry(ctx)
	if err != nil {
		return nil, err
	}
	var parts []*partition
	for _, sg := range registry {
		src, g, ok := ddbitem.SplitSourceGroup(sg)
		if !ok || (q.Source != "" && src != q.Source) || (q.Type != "" && g != group) {
			continue
		}
		parts = append(parts, &partition{sourceGroup: sg, filterType: q.Type})
	}
	return parts, nil
}

func (s *Store) queryInput(p *partition, lower, upper string, limit int32) *dynamodb.QueryInput {
	// DynamoDB rejects unused placeholders, so #sk is only named when a range uses it.
	names := map[string]string{"#pk": ddbitem.AttrSourceGroup}
	if lower != "" || upper != "" {
		names["#sk"] = ddbitem.AttrReceivedKey
	}
	values := map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: p.sourceGroup}}
	cond := "#pk = :pk"
	switch {
	case lower != "" && upper != "":
		// BETWEEN is inclusive; the only key that can equal upper is a cursor's own record,
		// which fill drops.
		cond += " AND #sk BETWEEN :lo AND :hi"
	case lower != "":
		cond += " AND #sk >= :lo"
	case upper != "":
		cond += " AND #sk < :hi"
	}
	if lower != "" {
		values[":lo"] = &types.AttributeValueMemberS{Value: lower}
	}
	if upper != "" {
		values[":hi"] = &types.AttributeValueMemberS{Value: upper}
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(IndexByGroup),
		KeyConditionExpression:    aws.String(cond),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(limit),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
	if p.filterType != "" {
		// The partition is one type group, so a prefix needs no group check: begins_with
		// keeps exactly the types one segment below it (event.MatchesType).
		names["#type"] = ddbitem.AttrType
		values[":type"] = &types.AttributeValueMemberS{Value: p.filterType}
		in.FilterExpression = aws.String("#type = :type")
		if event.IsTypePrefix(p.filterType) {
			in.FilterExpression = aws.String("begins_with(#type, :type)")
		}
	}
	return in
}

// fill queries p until it has buffered at least one entry or is exhausted: with a filter, or at
// the 1 MB limit, a query page can be empty and still have more after it.
func (s *Store) fill(ctx context.Context, p *partition, upper string) error {
	for len(p.buf) == 0 && !p.done {
		out, err := s.client.Query(ctx, p.input)
		if err != nil {
			return classify(fmt.Errorf("list events from %s %s: %w", IndexByGroup, p.sourceGroup, err))
		}
		for _, item := range out.Items {
			if upper == "" || receivedKey(item) < upper {
				p.buf = append(p.buf, item)
			}
		}
		p.input.ExclusiveStartKey = out.LastEvaluatedKey
		p.done = len(out.LastEvaluatedKey) == 0
	}
	return nil
}

// batchGetMax is BatchGetItem's limit on keys per request.
const batchGetMax = 100

// batchGet reads the items with these ids (eventually consistent, like the index they were
// found in), retrying what DynamoDB leaves unprocessed. Missing ids are absent from the map.
func (s *Store) batchGet(ctx context.Context, ids []string) (map[string]map[string]types.AttributeValue, error) {
	out := make(map[string]map[string]types.AttributeValue, len(ids))
	for start := 0; start < len(ids); start += batchGetMax {
		keys := make([]map[string]types.AttributeValue, 0, batchGetMax)
		for _, id := range ids[start:min(start+batchGetMax, len(ids))] {
			keys = append(keys, key(id))
		}
		req := map[string]types.KeysAndAttributes{s.table: {Keys: keys}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				// Unprocessed keys mean the table is busy: back off before asking again.
				if err := pipeline.Sleep(ctx, time.Duration(1<<min(attempt, 6))*25*time.Millisecond); err != nil {
					return nil, err
				}
				if attempt > 8 {
					return nil, classify(fmt.Errorf("list events: %d items still unprocessed after %d attempts: %w", len(req[s.table].Keys), attempt, errBusy))
				}
			}
			res, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, classify(fmt.Errorf("list events: read %d items: %w", len(keys), err))
			}
			for _, item := range res.Responses[s.table] {
				out[stringAttr(item, ddbitem.AttrID)] = item
			}
			req = res.UnprocessedKeys
		}
	}
	return out, nil
}

// errBusy stands for the throttling behind keys DynamoDB kept leaving unprocessed, so classify
// reports it as throttled.
var errBusy = &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "BatchGetItem left keys unprocessed"}
