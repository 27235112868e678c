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
	"strconv"

	"hookline/pkg/pipeline"
)

// Key and attribute names of the quarantine's items: ddbstore's and ddbitem's (the test above
// compares whole requests, so a name changed on one side only fails it).
const (
	rejectedPrefix    = "~rejected#"
	keptCounterPrefix = "~kept#"
	timeFormat        = "2006-01-02T15:04:05.000000000Z07:00" // ddbitem.TimeFormat
	dayFormat         = "2006-01-02"
)

// Caller sends one operation of the DynamoDB JSON protocol (awsjson.Client).
type Caller interface {
	Call(ctx context.Context, op string, in, out any) error
}

// Writer keeps rejections in, and counts them in, one table.
type Writer struct {
	client Caller
	table  string
}

var (
	_ pipeline.KeepQuota       = (*Writer)(nil)
	_ pipeline.RejectionWriter = (*Writer)(nil)
)

// New returns the writer of the events table named table.
func New(client Caller, table string) (*Writer, error) {
	switch {
	case client == nil:
		return nil, errors.New("ddbkeep: client is nil")
	case table == "":
		return nil, errors.New("ddbkeep: table name is empty")
	}
	return &Writer{client: client, table: table}, nil
}

// value is one DynamoDB JSON attribute value; exactly one field is set.
type value struct {
	S *string           `json:"S,omitempty"`
	N *string           `json:"N,omitempty"`
	B *[]byte           `json:"B,omitempty"` // a pointer, so an empty body is "" rather than absent
	M *map[string]value `json:"M,omitempty"` // a pointer, so no header is {} rather than absent
}

func str(s string) value { return value{S: &s} }
func num(n int64) value  { s := strconv.FormatInt(n, 10); return value{N: &s} }
func bin(b []byte) value {
	if b == nil {
		b = []byte{} // DynamoDB keeps an empty binary; nil would be NULL
	}
	return value{B: &b}
}

// item is r's item, as ddbstore.MarshalRejection makes it.
func item(r *pipeline.Rejection) (map[string]value, error) {
	if r == nil || r.ID == "" {
		return nil, errors.New("marshal rejection: no id")
	}
	header := make(map[string]value, len(r.Header))
	for k, v := range r.Header {
		header[k] = str(v)
	}
	at := r.ReceivedAt.UTC()
	it := map[string]value{
		"id":           str(rejectedPrefix + r.ID),
		"rejected_day": str(at.Format(dayFormat)),
		"rejected_key": str(at.Format(timeFormat) + "#" + r.ID),
		"source":       str(r.Source),
		"reason":       str(r.Reason),
		"detail":       str(r.Detail),
		"header":       {M: &header},
		"body":         bin(r.Body),
		"body_size":    num(int64(r.BodySize)),
		"expires_at":   num(at.Add(pipeline.KeptFor).Unix()),
	}
	for name, v := range map[string]string{"source_ip": r.SourceIP, "raw_path": r.RawPath, "raw_query": r.RawQuery} {
		if v != "" {
			it[name] = str(v)
		}
	}
	if r.Sealed != nil { // an empty, non-nil slice stays, as ddbstore writes it
		it["sealed"] = bin(r.Sealed)
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
		Item      map[string]value
	}{w.table, it}
	if err := w.client.Call(ctx, "PutItem", in, nil); err != nil {
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
		Key                       map[string]value
		UpdateExpression          string
		ConditionExpression       string
		ExpressionAttributeNames  map[string]string
		ExpressionAttributeValues map[string]value
	}{
		TableName:                w.table,
		Key:                      map[string]value{"id": str(keptCounterPrefix + strconv.FormatInt(minute, 10) + "#" + key)},
		UpdateExpression:         "SET #ttl = :ttl ADD #n :one",
		ConditionExpression:      "attribute_not_exists(#n) OR #n < :limit",
		ExpressionAttributeNames: map[string]string{"#n": "n", "#ttl": "expires_at"},
		ExpressionAttributeValues: map[string]value{
			":one": num(1), ":limit": num(int64(limit)), ":ttl": num((minute + 2) * 60),
		},
	}
	err := w.client.Call(ctx, "UpdateItem", in, nil)
	var api interface{ ErrorCode() string }
	switch {
	case errors.As(err, &api) && api.ErrorCode() == "ConditionalCheckFailedException":
		return false, nil
	case err != nil:
		return false, fmt.Errorf("count kept rejections of %q: %w", key, err)
	}
	return true, nil
}
