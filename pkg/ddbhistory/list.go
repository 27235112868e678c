package ddbhistory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"hookline/pkg/ddbjson"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// Index is one client's side of the reads List makes of the events table: ddbstore's through
// the SDK's client, Reader's through awsjson. V is that client's attribute value; an item, and a
// key, is a map of them. The calls are single requests: List does the retries, wrapping and
// classifying of errors, so the two clients behave alike.
type Index[V any] interface {
	// Registry reads the registry item's partitions (a strongly consistent GetItem of GroupsID);
	// none when it does not exist yet.
	Registry(ctx context.Context) ([]string, error)
	// Query runs one request of in from start (empty: from the beginning) and returns its items
	// and its LastEvaluatedKey (empty: no more).
	Query(ctx context.Context, in *Query, start map[string]V) (items []map[string]V, next map[string]V, err error)
	// BatchGet reads the items with ids (at most 100) with one BatchGetItem: those it got, and
	// the ids DynamoDB left unprocessed.
	BatchGet(ctx context.Context, ids []string) (items []map[string]V, unprocessed []string, err error)
	// Str is a string value's string; false for a value of another type.
	Str(v V) (string, bool)
	// Record decodes an event item (ddbitem.Unmarshal, ddbjson.Record).
	Record(item map[string]V) (*event.Record, error)
	// Expired reports whether an event item is past its TTL at now (ddbjson.PastTTL).
	Expired(item map[string]V, now time.Time) bool
}

// Query is a Query request on the history index, every value in it a string (S).
type Query struct {
	Table, Index         string
	KeyCondition, Filter string // Filter "" for none
	Names                map[string]string
	Values               map[string]string
	Limit                int
}

// List answers q from table's history index: one partition for a source and a type, otherwise
// the partitions of the registry that match, merged newest first by received_key; then one
// BatchGetItem per 100 reads the page's items. Items past their TTL are passed by, as ones
// deleted are, and the merge reads on to fill the page. It never scans.
func List[V any](ctx context.Context, ix Index[V], table string, q pipeline.Query) (pipeline.Page, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = pipeline.DefaultLimit
	}
	limit = min(limit, pipeline.MaxLimit)

	lower, upper, empty, err := KeyRange(q.Since, q.Until, q.Cursor)
	if err != nil || empty {
		return pipeline.Page{}, err
	}
	parts, err := partitions(ctx, ix, q)
	if err != nil || len(parts) == 0 {
		return pipeline.Page{}, err
	}
	// Each partition is asked for roughly its share of the page plus slack, so one round of
	// queries usually fills it; a partition that runs short is refilled. (Shares are uneven —
	// a busy source's partition holds most events — and the refill covers that.)
	chunk := limit + 1
	if len(parts) > 1 {
		chunk = min(chunk, (limit+1)*3/(2*len(parts))+2)
	}
	str := func(item map[string]V, name string) string {
		s, _ := ix.Str(item[name])
		return s
	}
	l := lister[V]{ix: ix, upper: upper, str: str}
	for _, p := range parts {
		p.input = queryInput(table, p, lower, upper, chunk)
	}

	// First round in parallel: a List over many partitions costs one round trip, not one each.
	var wg sync.WaitGroup
	errs := make([]error, len(parts))
	for i, p := range parts {
		wg.Go(func() { errs[i] = l.fill(ctx, p) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return pipeline.Page{}, err
		}
	}

	// Merge newest first and read the page's items. An item past its TTL (DynamoDB deletes it
	// only within days), or deleted since the index read, is passed by, and the merge reads on
	// until the page is full or the index has no more.
	now := time.Now()
	var page pipeline.Page
	page.Records = make([]*event.Record, 0, min(limit, 64))
	for round := 0; ; round++ {
		need := limit - len(page.Records)
		want := need
		if round > 0 {
			// Some were passed by: read on in whole BatchGetItem requests, not a key at a time
			// through a backlog of expired items. What is read past the page's last record is
			// read again for the next page.
			want = max(need, BatchGetMax)
		}
		var picked []map[string]V
		for len(picked) < want {
			best, err := l.next(ctx, parts)
			if err != nil {
				return pipeline.Page{}, err
			}
			if best == nil {
				break
			}
			picked = append(picked, best.buf[0])
			best.buf = best.buf[1:]
		}
		if len(picked) == 0 {
			return page, nil
		}
		ids := make([]string, len(picked))
		for i, entry := range picked {
			ids[i] = str(entry, ddbjson.AttrID)
		}
		items, err := l.batchGet(ctx, ids)
		if err != nil {
			return pipeline.Page{}, err
		}
		last := -1 // the index in picked of the page's last record
		for i, id := range ids {
			if len(page.Records) == limit {
				break
			}
			item, ok := items[id]
			if !ok || ix.Expired(item, now) {
				continue
			}
			r, err := ix.Record(item)
			if err != nil {
				return pipeline.Page{}, fmt.Errorf("list events: %w", err)
			}
			page.Records, last = append(page.Records, r), i
		}
		if len(page.Records) < limit {
			if len(picked) < want {
				return page, nil // the index has no more
			}
			continue
		}
		// A full page: another follows if an entry was read past its last record, or is left.
		more := last < len(picked)-1
		if !more {
			nx, err := l.next(ctx, parts)
			if err != nil {
				return pipeline.Page{}, err
			}
			more = nx != nil
		}
		if more {
			page.Cursor = EncodeCursor(str(picked[last], ddbjson.AttrReceivedKey))
		}
		return page, nil
	}
}

// next is the partition whose first buffered entry is the newest not yet taken, refilling the
// partitions that ran dry; nil when every one is exhausted.
func (l *lister[V]) next(ctx context.Context, parts []*partition[V]) (*partition[V], error) {
	var best *partition[V]
	for _, p := range parts {
		if len(p.buf) == 0 && !p.done {
			if err := l.fill(ctx, p); err != nil {
				return nil, err
			}
		}
		if len(p.buf) > 0 && (best == nil || l.str(p.buf[0], ddbjson.AttrReceivedKey) > l.str(best.buf[0], ddbjson.AttrReceivedKey)) {
			best = p
		}
	}
	return best, nil
}

// partition is one index partition being read newest first.
type partition[V any] struct {
	sourceGroup string
	filterType  string // the type (or type prefix) the filter expression keeps
	input       *Query
	start       map[string]V // where the next query goes on from
	buf         []map[string]V
	done        bool
}

// partitions are the index partitions q reads. A source and a type name exactly one; anything
// broader is every registered partition of that source, of that type group, or of all, sorted.
func partitions[V any](ctx context.Context, ix Index[V], q pipeline.Query) ([]*partition[V], error) {
	var group string
	if q.Type != "" {
		// A type group holds the type and its siblings (issues.opened, issues.closed): the
		// filter keeps the exact type, or the types one segment below a prefix (see doc.go).
		group = event.TypeFilterGroup(q.Type)
	}
	if q.Source != "" && q.Type != "" {
		return []*partition[V]{{sourceGroup: q.Source + "#" + group, filterType: q.Type}}, nil
	}
	registry, err := ix.Registry(ctx)
	if err != nil {
		return nil, ddbjson.Classify(fmt.Errorf("read the history partitions: %w", err))
	}
	registry = slices.Clone(registry)
	slices.Sort(registry)
	var parts []*partition[V]
	for _, sg := range registry {
		src, g, ok := strings.Cut(sg, "#")
		if !ok || (q.Source != "" && src != q.Source) || (q.Type != "" && g != group) {
			continue
		}
		parts = append(parts, &partition[V]{sourceGroup: sg, filterType: q.Type})
	}
	return parts, nil
}

func queryInput[V any](table string, p *partition[V], lower, upper string, limit int) *Query {
	// DynamoDB rejects unused placeholders, so #sk is only named when a range uses it.
	names := map[string]string{"#pk": ddbjson.AttrSourceGroup}
	if lower != "" || upper != "" {
		names["#sk"] = ddbjson.AttrReceivedKey
	}
	values := map[string]string{":pk": p.sourceGroup}
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
		values[":lo"] = lower
	}
	if upper != "" {
		values[":hi"] = upper
	}
	in := &Query{Table: table, Index: ddbjson.IndexByGroup, KeyCondition: cond, Names: names, Values: values, Limit: limit}
	if p.filterType != "" {
		// The partition is one type group, so a prefix needs no group check: begins_with
		// keeps exactly the types one segment below it (event.MatchesType).
		names["#type"] = ddbjson.AttrType
		values[":type"] = p.filterType
		in.Filter = "#type = :type"
		if event.IsTypePrefix(p.filterType) {
			in.Filter = "begins_with(#type, :type)"
		}
	}
	return in
}

// lister is one List's reads.
type lister[V any] struct {
	ix    Index[V]
	upper string
	str   func(item map[string]V, name string) string
}

// fill queries p until it has buffered at least one entry or is exhausted: with a filter, or at
// the 1 MB limit, a query page can be empty and still have more after it.
func (l *lister[V]) fill(ctx context.Context, p *partition[V]) error {
	for len(p.buf) == 0 && !p.done {
		items, next, err := l.ix.Query(ctx, p.input, p.start)
		if err != nil {
			return ddbjson.Classify(fmt.Errorf("list events from %s %s: %w", ddbjson.IndexByGroup, p.sourceGroup, err))
		}
		for _, item := range items {
			if l.upper == "" || l.str(item, ddbjson.AttrReceivedKey) < l.upper {
				p.buf = append(p.buf, item)
			}
		}
		p.start = next
		p.done = len(next) == 0
	}
	return nil
}

// BatchGetMax is BatchGetItem's limit on keys per request.
const BatchGetMax = 100

// batchGet reads the items with these ids (eventually consistent, like the index they were
// found in), retrying what DynamoDB leaves unprocessed. Missing ids are absent from the map.
func (l *lister[V]) batchGet(ctx context.Context, ids []string) (map[string]map[string]V, error) {
	out := make(map[string]map[string]V, len(ids))
	for start := 0; start < len(ids); start += BatchGetMax {
		chunk := ids[start:min(start+BatchGetMax, len(ids))]
		for attempt, req := 0, chunk; len(req) > 0; attempt++ {
			if attempt > 0 {
				// Unprocessed keys mean the table is busy: back off before asking again.
				if err := pipeline.Sleep(ctx, time.Duration(1<<min(attempt, 6))*25*time.Millisecond); err != nil {
					return nil, err
				}
				if attempt > 8 {
					return nil, ddbjson.Classify(fmt.Errorf("list events: %d items still unprocessed after %d attempts: %w", len(req), attempt, errBusy))
				}
			}
			items, unprocessed, err := l.ix.BatchGet(ctx, req)
			if err != nil {
				return nil, ddbjson.Classify(fmt.Errorf("list events: read %d items: %w", len(chunk), err))
			}
			for _, item := range items {
				out[l.str(item, ddbjson.AttrID)] = item
			}
			req = unprocessed
		}
	}
	return out, nil
}

// errBusy stands for the throttling behind keys DynamoDB kept leaving unprocessed, so classify
// reports it as throttled.
var errBusy = &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "BatchGetItem left keys unprocessed"}
