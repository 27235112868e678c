// Package ddbkeep is the ingest Lambda's side of the quarantine on AWS: it writes a refused
// request's item (pipeline.RejectedStore's Keep) and counts the kept ones per source and
// minute (pipeline.KeepQuota) in the events table, as DynamoDB JSON through pkg/awsjson rather
// than the SDK's DynamoDB client, whose package initialisation ingest would otherwise pay at
// every cold start for calls it makes only when it refuses a request (docs/benchmarks,
// 2026-12-02 round 8, cold start).
//
// The items and requests are pkg/ddbstore's, which reads them (`hookline rejected`) and writes
// them through the SDK elsewhere: TestSameRequestsAsDDBStore holds the two to the same bytes.
package ddbkeep

import (
	"context"
	"errors"
	"fmt"

	"hookline/pkg/ddbjson"
	"hookline/pkg/pipeline"
)

// Writer keeps rejections in, and counts them in, one table.
type Writer struct {
	t ddbjson.Table
}

var (
	_ pipeline.KeepQuota       = (*Writer)(nil)
	_ pipeline.RejectionWriter = (*Writer)(nil)
)

// New returns the writer of the events table named table.
func New(client ddbjson.Caller, table string) (*Writer, error) {
	t, err := ddbjson.NewTable("ddbkeep", client, table)
	if err != nil {
		return nil, err
	}
	return &Writer{t: t}, nil
}

// item is r's item, as ddbstore.MarshalRejection makes it.
func item(r *pipeline.Rejection) (map[string]ddbjson.Value, error) {
	if r == nil || r.ID == "" {
		return nil, errors.New("marshal rejection: no id")
	}
	header := make(map[string]ddbjson.Value, len(r.Header))
	for k, v := range r.Header {
		header[k] = ddbjson.S(v)
	}
	at := r.ReceivedAt.UTC()
	it := map[string]ddbjson.Value{
		ddbjson.AttrID:          ddbjson.S(ddbjson.RejectedPrefix + r.ID),
		ddbjson.AttrRejectedDay: ddbjson.S(at.Format(ddbjson.RejectedDayFormat)),
		ddbjson.AttrRejectedKey: ddbjson.S(ddbjson.ReceivedKey(at, r.ID)),
		ddbjson.AttrSource:      ddbjson.S(r.Source),
		ddbjson.AttrReason:      ddbjson.S(r.Reason),
		ddbjson.AttrDetail:      ddbjson.S(r.Detail),
		ddbjson.AttrHeader:      ddbjson.M(header),
		ddbjson.AttrBody:        ddbjson.B(r.Body),
		ddbjson.AttrBodySize:    ddbjson.N(int64(r.BodySize)),
		ddbjson.AttrExpiresAt:   ddbjson.N(at.Add(pipeline.KeptFor).Unix()),
	}
	for name, v := range map[string]string{ddbjson.AttrSourceIP: r.SourceIP, ddbjson.AttrRawPath: r.RawPath, ddbjson.AttrRawQuery: r.RawQuery} {
		if v != "" {
			it[name] = ddbjson.S(v)
		}
	}
	if r.Sealed != nil { // an empty, non-nil slice stays, as ddbstore writes it
		it[ddbjson.AttrSealed] = ddbjson.B(r.Sealed)
	}
	return it, nil
}

// Keep writes r. Its id is fresh (a UUIDv7), so no condition is needed.
func (w *Writer) Keep(ctx context.Context, r *pipeline.Rejection) error {
	it, err := item(r)
	if err != nil {
		return err
	}
	in := struct {
		TableName string
		Item      map[string]ddbjson.Value
	}{w.t.Name, it}
	if err := w.t.Client.Call(ctx, "PutItem", in, nil); err != nil {
		return fmt.Errorf("keep rejection %s: %w", r.ID, err)
	}
	return nil
}

// Take counts one more kept rejection for key ("" for names no source has) in minute (unix
// minutes): one conditional UpdateItem on the counter item, which fails once limit are kept
// (ddbstore.Rejected.Take's request).
func (w *Writer) Take(ctx context.Context, key string, minute int64, limit int) (bool, error) {
	in := struct {
		TableName                 string
		Key                       map[string]ddbjson.Value
		UpdateExpression          string
		ConditionExpression       string
		ExpressionAttributeNames  map[string]string
		ExpressionAttributeValues map[string]ddbjson.Value
	}{
		TableName:                w.t.Name,
		Key:                      ddbjson.Key(ddbjson.KeptCounterID(minute, key)),
		UpdateExpression:         "SET #ttl = :ttl ADD #n :one",
		ConditionExpression:      "attribute_not_exists(#n) OR #n < :limit",
		ExpressionAttributeNames: map[string]string{"#n": ddbjson.AttrKeptCount, "#ttl": ddbjson.AttrExpiresAt},
		ExpressionAttributeValues: map[string]ddbjson.Value{
			":one": ddbjson.N(1), ":limit": ddbjson.N(int64(limit)), ":ttl": ddbjson.N((minute + 2) * 60),
		},
	}
	err := w.t.Client.Call(ctx, "UpdateItem", in, nil)
	switch {
	case ddbjson.ConditionFailed(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("count kept rejections of %q: %w", key, err)
	}
	return true, nil
}
