package ddbstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/pkg/ddbitem"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// List answers q from one index partition (a source, a type) or, for "all sources", from every
// time shard, merging newest first by received_key. It never scans.
func (s *Store) List(ctx context.Context, q pipeline.Query) (pipeline.Page, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = pipeline.DefaultLimit
	}
	limit = min(limit, pipeline.MaxLimit)

	// Key range on received_key: [lower, upper). Timestamps alone sort before every key with that
	// time ("T" < "T#id"), so since is inclusive and until exclusive without special cases.
	var lower, upper string
	if !q.Since.IsZero() {
		lower = ddbitem.FormatTime(q.Since)
	}
	if !q.Until.IsZero() {
		upper = ddbitem.FormatTime(q.Until)
	}
	if q.Cursor != "" {
		before, err := decodeCursor(q.Cursor)
		if err != nil {
			return pipeline.Page{}, err
		}
		if upper == "" || before < upper {
			upper = before
		}
	}
	if lower != "" && upper != "" && lower >= upper {
		return pipeline.Page{}, nil
	}

	parts := s.partitions(q)
	// Each partition is asked for roughly its share of the page (ids hash evenly across shards)
	// plus slack, so one round of queries usually fills the page; a short partition is refilled.
	chunk := limit + 1
	if len(parts) > 1 {
		chunk = min(chunk, (limit+1)*3/(2*len(parts))+2)
	}
	for _, p := range parts {
		p.input = s.queryInput(p, lower, upper, int32(chunk))
	}

	// First round in parallel: a List over all sources costs one round trip, not one per shard.
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

	// Merge newest first; take one record more than the page to know whether another page exists.
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
	page.Records = make([]*event.Record, 0, len(picked))
	for _, item := range picked {
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
	index, keyAttr, keyValue string
	filterType               string // the type (or type prefix) the filter expression keeps
	input                    *dynamodb.QueryInput
	buf                      []map[string]types.AttributeValue
	done                     bool
}

func (p *partition) head() string { return receivedKey(p.buf[0]) }

func receivedKey(item map[string]types.AttributeValue) string {
	if v, ok := item[ddbitem.AttrReceivedKey].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func (s *Store) partitions(q pipeline.Query) []*partition {
	switch {
	case q.Source != "":
		// Source and type together read the source's partition and filter on type (see doc.go).
		return []*partition{{index: IndexBySource, keyAttr: ddbitem.AttrSource, keyValue: q.Source, filterType: q.Type}}
	case q.Type != "":
		// One type group holds the type and its siblings (issues.opened, issues.closed): the
		// filter keeps the exact type, or every type one segment below a prefix (see doc.go).
		return []*partition{{index: IndexByTypeGroup, keyAttr: ddbitem.AttrTypeGroup, keyValue: event.TypeFilterGroup(q.Type), filterType: q.Type}}
	}
	parts := make([]*partition, s.shards)
	for n := range parts {
		parts[n] = &partition{index: IndexByTime, keyAttr: ddbitem.AttrTimeShard, keyValue: ddbitem.TimeShardKey(n)}
	}
	return parts
}

func (s *Store) queryInput(p *partition, lower, upper string, limit int32) *dynamodb.QueryInput {
	// DynamoDB rejects unused placeholders, so #sk is only named when a range uses it.
	names := map[string]string{"#pk": p.keyAttr}
	if lower != "" || upper != "" {
		names["#sk"] = ddbitem.AttrReceivedKey
	}
	values := map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: p.keyValue}}
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
		IndexName:                 aws.String(p.index),
		KeyConditionExpression:    aws.String(cond),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(limit),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
	if p.filterType != "" {
		names["#type"] = ddbitem.AttrType
		values[":type"] = &types.AttributeValueMemberS{Value: p.filterType}
		in.FilterExpression = aws.String("#type = :type")
		if event.IsTypePrefix(p.filterType) {
			// With a source the partition holds every type, so the group is checked too: a
			// prefix selects the types exactly one segment below it.
			in.FilterExpression = aws.String("begins_with(#type, :type)")
			if p.keyAttr != ddbitem.AttrTypeGroup {
				names["#group"] = ddbitem.AttrTypeGroup
				values[":group"] = &types.AttributeValueMemberS{Value: event.TypeFilterGroup(p.filterType)}
				in.FilterExpression = aws.String("begins_with(#type, :type) AND #group = :group")
			}
		}
	}
	return in
}

// fill queries p until it has buffered at least one item or is exhausted: with a filter, or at
// the 1 MB limit, a query page can be empty and still have more after it.
func (s *Store) fill(ctx context.Context, p *partition, upper string) error {
	for len(p.buf) == 0 && !p.done {
		out, err := s.client.Query(ctx, p.input)
		if err != nil {
			return classify(fmt.Errorf("list events from %s %s: %w", p.index, p.keyValue, err))
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
