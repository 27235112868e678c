package ddbstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"hookline/pkg/ddbhistory"
	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbstore"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

// fakeAPI answers each call with the matching func; a nil func fails the test if called.
type fakeAPI struct {
	t      *testing.T
	put    func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	get    func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	query  func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error)
	update func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	batch  func(*dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error)
}

func (f *fakeAPI) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return answer(f.t, "BatchGetItem", f.batch, in)
}

// answer calls fn with in; a nil fn fails the test: the code under test made a call the test
// did not expect.
func answer[I, O any](t *testing.T, call string, fn func(I) (O, error), in I) (O, error) {
	t.Helper()
	if fn == nil {
		t.Fatal("unexpected " + call)
	}
	return fn(in)
}

// registerOK answers the registry's UpdateItem (ADD to the groups set) and fails on any other.
func registerOK(t *testing.T, seen *[]string) func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
	var mu sync.Mutex
	return func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		if id := in.Key["id"].(*types.AttributeValueMemberS).Value; id != ddbstore.GroupsID || aws.ToString(in.UpdateExpression) != "ADD #g :g" {
			t.Errorf("unexpected UpdateItem of %s: %s", id, aws.ToString(in.UpdateExpression))
		}
		mu.Lock()
		defer mu.Unlock()
		if seen != nil {
			*seen = append(*seen, in.ExpressionAttributeValues[":g"].(*types.AttributeValueMemberSS).Value...)
		}
		return &dynamodb.UpdateItemOutput{}, nil
	}
}

func (f *fakeAPI) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return answer(f.t, "PutItem", f.put, in)
}

func (f *fakeAPI) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return answer(f.t, "GetItem", f.get, in)
}

func (f *fakeAPI) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return answer(f.t, "Query", f.query, in)
}

func (f *fakeAPI) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return answer(f.t, "UpdateItem", f.update, in)
}

func newStore(t *testing.T, f *fakeAPI, opts ...ddbstore.Option) *ddbstore.Store {
	t.Helper()
	f.t = t
	s, err := ddbstore.New(f, "events", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var received = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func record(t *testing.T, source, typ string, at time.Time) *event.Record {
	t.Helper()
	id, err := event.NewID()
	if err != nil {
		t.Fatal(err)
	}
	e := &event.Event{ID: id, Source: source, Type: typ, Time: at, ReceivedAt: at}
	if err := e.SetData("application/json", []byte(`{"action":"opened"}`)); err != nil {
		t.Fatal(err)
	}
	r, err := event.NewRecord(e, at.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wireError is what the SDK returns after its retries: an operation error around an API error.
func wireError(code string) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "PutItem",
		Err: &smithy.GenericAPIError{Code: code, Message: "try again"}}
}

func TestPutNewRequest(t *testing.T) {
	t.Parallel()
	r := record(t, "github", "push", received)
	var got *dynamodb.PutItemInput
	var registered []string
	s := newStore(t, &fakeAPI{put: func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		got = in
		return &dynamodb.PutItemOutput{}, nil
	}, update: registerOK(t, &registered)})
	inserted, err := s.PutNew(context.Background(), r)
	if err != nil || !inserted {
		t.Fatalf("PutNew = %v, %v", inserted, err)
	}
	// A second event of the same source and type group does not register again.
	if _, err := s.PutNew(context.Background(), record(t, "github", "push", received)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutNew(context.Background(), record(t, "github", "issues.opened", received)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(registered, []string{"github#push", "github#issues"}) {
		t.Errorf("registered %v, want github#push then github#issues, once each", registered)
	}
	if sg := got.Item["source_group"].(*types.AttributeValueMemberS).Value; sg != "github#issues" {
		t.Errorf("source_group = %q", sg)
	}
	if aws.ToString(got.TableName) != "events" || aws.ToString(got.ConditionExpression) != "attribute_not_exists(#id)" ||
		got.ExpressionAttributeNames["#id"] != "id" {
		t.Errorf("PutItem input: table %q, condition %q, names %v", aws.ToString(got.TableName), aws.ToString(got.ConditionExpression), got.ExpressionAttributeNames)
	}
	wantTTL := fmt.Sprint(received.Add(90 * 24 * time.Hour).Unix())
	if ttl, ok := got.Item["expires_at"].(*types.AttributeValueMemberN); !ok || ttl.Value != wantTTL {
		t.Errorf("expires_at = %#v, want N %s (received + 90 days)", got.Item["expires_at"], wantTTL)
	}

	forever := newStore(t, &fakeAPI{put: func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		got = in
		return &dynamodb.PutItemOutput{}, nil
	}, update: registerOK(t, nil)}, ddbstore.WithRetention(0))
	if _, err := forever.PutNew(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Item["expires_at"]; ok {
		t.Error("retention 0 still set expires_at")
	}

	// The registry's id is not an event's to take.
	control := record(t, "github", "push", received)
	control.Event.ID = ddbstore.GroupsID
	if _, err := newStore(t, &fakeAPI{}).PutNew(context.Background(), control); pipeline.KindOf(err) != pipeline.KindInvalid {
		t.Errorf("PutNew of %s: %v, want KindInvalid without a call", ddbstore.GroupsID, err)
	}
	for name, call := range map[string]func(*ddbstore.Store) error{
		"Get": func(s *ddbstore.Store) error { _, err := s.Get(context.Background(), ddbstore.GroupsID); return err },
		"NotifiedAt": func(s *ddbstore.Store) error {
			_, err := s.NotifiedAt(context.Background(), ddbstore.GroupsID)
			return err
		},
		"MarkNotified": func(s *ddbstore.Store) error {
			return s.MarkNotified(context.Background(), ddbstore.GroupsID, received)
		},
	} {
		if err := call(newStore(t, &fakeAPI{})); !errors.Is(err, pipeline.ErrNotFound) {
			t.Errorf("%s(%s) = %v, want not found without a call", name, ddbstore.GroupsID, err)
		}
	}
}

func TestRegisterFailureFailsThePut(t *testing.T) {
	t.Parallel()
	s := newStore(t, &fakeAPI{update: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		return nil, wireError("ThrottlingException")
	}}) // no PutItem: an event whose partition is not registered could never be listed
	if _, err := s.PutNew(context.Background(), record(t, "github", "push", received)); pipeline.KindOf(err) != pipeline.KindThrottled {
		t.Errorf("PutNew with the registry throttled: %v", err)
	}
}

func TestPutNewErrors(t *testing.T) {
	t.Parallel()
	r := record(t, "github", "push", received)
	cause := errors.New("connection reset")
	tests := map[string]struct {
		err          error
		wantInserted bool
		wantErr      bool
		wantKind     pipeline.Kind
	}{
		"condition failed is a duplicate": {err: &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}},
		"wrapped condition failure":       {err: &smithy.OperationError{Err: &types.ConditionalCheckFailedException{}}},
		"throttling":                      {err: wireError("ThrottlingException"), wantErr: true, wantKind: pipeline.KindThrottled},
		"provisioned throughput":          {err: wireError("ProvisionedThroughputExceededException"), wantErr: true, wantKind: pipeline.KindThrottled},
		"account request limit":           {err: wireError("RequestLimitExceeded"), wantErr: true, wantKind: pipeline.KindThrottled},
		"server error":                    {err: wireError("InternalServerError"), wantErr: true, wantKind: pipeline.KindInternal},
		"network":                         {err: cause, wantErr: true, wantKind: pipeline.KindInternal},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t, &fakeAPI{put: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return nil, tt.err }, update: registerOK(t, nil)})
			inserted, err := s.PutNew(context.Background(), r)
			if inserted || (err != nil) != tt.wantErr {
				t.Fatalf("PutNew = %v, %v", inserted, err)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), r.Event.ID) {
				t.Errorf("err %q does not wrap the cause or name the id", err)
			}
			if got := pipeline.KindOf(err); got != tt.wantKind {
				t.Errorf("KindOf = %v, want %v", got, tt.wantKind)
			}
		})
	}
}

func TestMarkNotified(t *testing.T) {
	t.Parallel()
	at := received.Add(time.Minute)
	failed := &types.ConditionalCheckFailedException{}
	exists := &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "x"}}}
	tests := map[string]struct {
		update   error
		get      func() (*dynamodb.GetItemOutput, error) // nil: must not be called
		notFound bool
		wantErr  bool
	}{
		"marked":          {},
		"already marked":  {update: failed, get: func() (*dynamodb.GetItemOutput, error) { return exists, nil }},
		"missing":         {update: failed, get: func() (*dynamodb.GetItemOutput, error) { return &dynamodb.GetItemOutput{}, nil }, notFound: true, wantErr: true},
		"check fails":     {update: failed, get: func() (*dynamodb.GetItemOutput, error) { return nil, wireError("InternalServerError") }, wantErr: true},
		"update throttle": {update: wireError("ThrottlingException"), wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := &fakeAPI{update: func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
				if c := aws.ToString(in.ConditionExpression); c != "attribute_exists(#id) AND attribute_not_exists(#m0)" {
					t.Errorf("condition %q", c)
				}
				if u, n := aws.ToString(in.UpdateExpression), in.ExpressionAttributeNames; u != "SET #m0 = :m0" || n["#id"] != ddbitem.AttrID || n["#m0"] != ddbitem.AttrNotifiedAt {
					t.Errorf("update %q, names %v", u, n)
				}
				if v := in.ExpressionAttributeValues[":m0"].(*types.AttributeValueMemberS).Value; v != ddbitem.FormatTime(at) {
					t.Errorf(":m0 = %q", v)
				}
				return &dynamodb.UpdateItemOutput{}, tt.update
			}}
			if tt.get != nil {
				f.get = func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
					if !aws.ToBool(in.ConsistentRead) {
						t.Error("existence check is not a consistent read")
					}
					return tt.get()
				}
			}
			err := newStore(t, f).MarkNotified(context.Background(), "x", at)
			if (err != nil) != tt.wantErr || errors.Is(err, pipeline.ErrNotFound) != tt.notFound {
				t.Fatalf("MarkNotified err = %v; want error %v, not found %v", err, tt.wantErr, tt.notFound)
			}
			if tt.notFound && pipeline.KindOf(err) != pipeline.KindNotFound {
				t.Errorf("KindOf = %v, want KindNotFound", pipeline.KindOf(err))
			}
		})
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	s := newStore(t, &fakeAPI{get: func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		if !aws.ToBool(in.ConsistentRead) {
			t.Error("Get is not a consistent read")
		}
		return &dynamodb.GetItemOutput{}, nil
	}})
	_, err := s.Get(context.Background(), "nope")
	if !errors.Is(err, pipeline.ErrNotFound) || pipeline.KindOf(err) != pipeline.KindNotFound {
		t.Errorf("Get(missing) = %v, want ErrNotFound of KindNotFound", err)
	}

	bad := newStore(t, &fakeAPI{get: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		return &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "x"}}}, nil
	}})
	if _, err := bad.Get(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "envelope") {
		t.Errorf("Get of a corrupt item: %v, want an error naming the attribute", err)
	}
}

// queryLog fakes Query over a fixed set of items per partition and records every request.
type queryLog struct {
	mu    sync.Mutex
	calls []*dynamodb.QueryInput
}

func (l *queryLog) answer(pages func(in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error)) func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
	return func(in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
		l.mu.Lock()
		c := *in
		l.calls = append(l.calls, &c)
		l.mu.Unlock()
		return pages(in)
	}
}

// registryOf answers the registry's GetItem with these partitions.
func registryOf(t *testing.T, groups ...string) func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
	return func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		if id := in.Key["id"].(*types.AttributeValueMemberS).Value; id != ddbstore.GroupsID || !aws.ToBool(in.ConsistentRead) {
			t.Errorf("GetItem of %s (consistent %v), want the registry, consistently", id, aws.ToBool(in.ConsistentRead))
		}
		if len(groups) == 0 {
			return &dynamodb.GetItemOutput{}, nil
		}
		return &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: ddbstore.GroupsID}, "groups": &types.AttributeValueMemberSS{Value: groups},
		}}, nil
	}
}

func TestListRequests(t *testing.T) {
	t.Parallel()
	empty := func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error) { return &dynamodb.QueryOutput{}, nil }
	registry := []string{"github#push", "github#issues", "shop#orders", "shop#issues", "postman#unknown"}
	tests := []struct {
		name       string
		q          pipeline.Query
		partitions []string
		filter     string
		cond       string
		limit      int32
	}{
		// 5 partitions share a page of 50: (51 × 3) / (2 × 5) + 2 = 17 each in the first round.
		{"all sources", pipeline.Query{}, []string{"github#issues", "github#push", "postman#unknown", "shop#issues", "shop#orders"}, "", "#pk = :pk", 17},
		{"source", pipeline.Query{Source: "github", Limit: 10}, []string{"github#issues", "github#push"}, "", "#pk = :pk", 10},
		{"type", pipeline.Query{Type: "push", Limit: 5000}, []string{"github#push"}, "#type = :type", "#pk = :pk", pipeline.MaxLimit + 1},
		{"action type", pipeline.Query{Type: "issues.opened"}, []string{"github#issues", "shop#issues"}, "#type = :type", "#pk = :pk", 40},
		{"type prefix", pipeline.Query{Type: "issues."}, []string{"github#issues", "shop#issues"}, "begins_with(#type, :type)", "#pk = :pk", 40},
		{"source and type: no registry read", pipeline.Query{Source: "github", Type: "push", Since: received}, []string{"github#push"}, "#type = :type", "#pk = :pk AND #sk >= :lo", pipeline.DefaultLimit + 1},
		{"unregistered source", pipeline.Query{Source: "nobody"}, nil, "", "", 0},
		{"range", pipeline.Query{Source: "shop", Type: "orders/", Since: received, Until: received.Add(time.Hour)}, []string{"shop#orders"}, "begins_with(#type, :type)", "#pk = :pk AND #sk BETWEEN :lo AND :hi", pipeline.DefaultLimit + 1},
		{"until", pipeline.Query{Source: "postman", Until: received}, []string{"postman#unknown"}, "", "#pk = :pk AND #sk < :hi", pipeline.DefaultLimit + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log queryLog
			f := &fakeAPI{query: log.answer(empty)}
			if tt.q.Source == "" || tt.q.Type == "" {
				f.get = registryOf(t, registry...)
			}
			page, err := newStore(t, f).List(context.Background(), tt.q)
			if err != nil || len(page.Records) != 0 || page.Cursor != "" {
				t.Fatalf("List = %+v, %v", page, err)
			}
			var parts []string
			for _, in := range log.calls {
				parts = append(parts, in.ExpressionAttributeValues[":pk"].(*types.AttributeValueMemberS).Value)
				if aws.ToString(in.IndexName) != "by_group" || aws.ToBool(in.ScanIndexForward) || aws.ToString(in.KeyConditionExpression) != tt.cond ||
					aws.ToString(in.FilterExpression) != tt.filter || aws.ToInt32(in.Limit) != tt.limit {
					t.Errorf("query: index %s, forward %v, cond %q, filter %q, limit %d",
						aws.ToString(in.IndexName), aws.ToBool(in.ScanIndexForward), aws.ToString(in.KeyConditionExpression), aws.ToString(in.FilterExpression), aws.ToInt32(in.Limit))
				}
				if tt.filter != "" && in.ExpressionAttributeValues[":type"].(*types.AttributeValueMemberS).Value != tt.q.Type {
					t.Errorf(":type = %v, want %q", in.ExpressionAttributeValues[":type"], tt.q.Type)
				}
			}
			slices.Sort(parts)
			if !slices.Equal(parts, tt.partitions) {
				t.Errorf("partitions queried %v, want %v", parts, tt.partitions)
			}
		})
	}
}

// TestListReadsThePageOnce: the index gives keys and types; the page's items come from one
// BatchGetItem, in the index's order, unprocessed keys retried; an item deleted since the index
// read, or past its TTL and not deleted yet, is skipped and the page filled from the next
// entries with one more BatchGetItem.
func TestListReadsThePageOnce(t *testing.T) {
	t.Parallel()
	h := newHistoryTable(t, 7, func(i int) time.Time {
		if i == 3 {
			return time.Now().Add(-time.Minute) // past its TTL, not deleted yet
		}
		return time.Time{}
	})
	recs := h.recs
	delete(h.items, recs[4].Event.ID) // deleted between the index read and the item read
	batches := 0
	s := newStore(t, &fakeAPI{
		query: h.query,
		batch: func(in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
			batches++
			keys := in.RequestItems["events"].Keys
			if batches > 1 {
				return h.answer(keys), nil
			}
			out := h.answer(keys[1:]) // the first answer leaves one key unprocessed
			out.UnprocessedKeys = map[string]types.KeysAndAttributes{"events": {Keys: keys[:1]}}
			return out, nil
		},
	})
	page, err := s.List(context.Background(), pipeline.Query{Source: "github", Type: "push", Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range page.Records {
		got = append(got, r.Event.ID)
	}
	want := []string{recs[6].Event.ID, recs[5].Event.ID, recs[2].Event.ID, recs[1].Event.ID} // the newest 4 but the deleted and the expired
	if !slices.Equal(got, want) || batches != 3 || page.Cursor != ddbhistory.EncodeCursor(ddbitem.ReceivedKey(recs[1].Event.ReceivedAt, recs[1].Event.ID)) {
		t.Errorf("page %v (cursor %q) after %d BatchGetItem calls; want %v, a cursor after the last, 3 calls", got, page.Cursor, batches, want)
	}
}

// TestListReadsOnThroughExpired: a backlog of items past their TTL that DynamoDB has not
// deleted yet (it may take days) between two live events is read through in whole
// BatchGetItem requests, not one key at a time, and the page holds the two.
func TestListReadsOnThroughExpired(t *testing.T) {
	t.Parallel()
	const expired = 250
	h := newHistoryTable(t, expired+2, func(i int) time.Time {
		if i == 0 || i == expired+1 {
			return time.Time{}
		}
		return time.Now().Add(-time.Hour)
	})
	live := []string{h.recs[expired+1].Event.ID, h.recs[0].Event.ID} // newest first
	var batches []int
	s := newStore(t, &fakeAPI{
		query: h.query,
		batch: func(in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
			batches = append(batches, len(in.RequestItems["events"].Keys))
			return h.answer(in.RequestItems["events"].Keys), nil
		},
	})
	page, err := s.List(context.Background(), pipeline.Query{Source: "github", Type: "push", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range page.Records {
		got = append(got, r.Event.ID)
	}
	// 2 keys, then 100, 100 and the last 50: four requests.
	if want := []int{2, 100, 100, 50}; !slices.Equal(got, live) || page.Cursor != "" || !slices.Equal(batches, want) {
		t.Errorf("page %v (cursor %q) after BatchGetItem calls of %v keys; want %v, no cursor, %v", got, page.Cursor, batches, live, want)
	}
}

// TestListFilteredEmptyPages: with a filter DynamoDB may return a page with no items but a
// LastEvaluatedKey; List must keep reading rather than stop early.
func TestListFilteredEmptyPages(t *testing.T) {
	t.Parallel()
	r := record(t, "github", "push", received)
	item, err := ddbitem.Marshal(r, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	s := newStore(t, &fakeAPI{query: func(in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
		calls++
		if calls < 3 {
			return &dynamodb.QueryOutput{LastEvaluatedKey: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: fmt.Sprint(calls)}}}, nil
		}
		if in.ExclusiveStartKey == nil {
			t.Error("continuation query without ExclusiveStartKey")
		}
		return &dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{item}}, nil
	}, batch: func(*dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
		return &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{"events": {item}}}, nil
	}})
	page, err := s.List(context.Background(), pipeline.Query{Source: "github", Type: "push"})
	if err != nil || len(page.Records) != 1 || page.Records[0].Event.ID != r.Event.ID {
		t.Fatalf("List = %+v, %v", page, err)
	}
}

func TestListErrors(t *testing.T) {
	t.Parallel()
	s := newStore(t, &fakeAPI{}) // no Query expected for a bad cursor
	if _, err := s.List(context.Background(), pipeline.Query{Cursor: "%%%"}); pipeline.KindOf(err) != pipeline.KindInvalid ||
		!strings.HasPrefix(pipeline.DetailOf(err), "cursor is not valid") {
		t.Errorf("bad cursor: %v", err)
	}
	throttled := newStore(t, &fakeAPI{get: registryOf(t, "github#push"), query: func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
		return nil, wireError("ThrottlingException")
	}})
	if _, err := throttled.List(context.Background(), pipeline.Query{}); pipeline.KindOf(err) != pipeline.KindThrottled {
		t.Errorf("throttled List: %v (kind %v)", err, pipeline.KindOf(err))
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	f := &fakeAPI{t: t}
	for name, build := range map[string]func() (*ddbstore.Store, error){
		"nil client":     func() (*ddbstore.Store, error) { return ddbstore.New(nil, "events") },
		"no table":       func() (*ddbstore.Store, error) { return ddbstore.New(f, "") },
		"negative years": func() (*ddbstore.Store, error) { return ddbstore.New(f, "events", ddbstore.WithRetention(-time.Hour)) },
	} {
		if _, err := build(); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// TestListEmptyRange: since at or after until selects nothing, so List answers at once,
// without reading the registry or the index.
func TestListEmptyRange(t *testing.T) {
	t.Parallel()
	s := newStore(t, &fakeAPI{}) // any call fails the test
	for _, q := range []pipeline.Query{
		{Since: received, Until: received},
		{Since: received.Add(time.Second), Until: received},
	} {
		if page, err := s.List(context.Background(), q); err != nil || len(page.Records) != 0 || page.Cursor != "" {
			t.Errorf("List(since %v, until %v) = %+v, %v; want an empty page", q.Since, q.Until, page, err)
		}
	}
}

// indexEntries makes n events of github/push, newest first, as the index answers, and their
// items by id.
// historyTable is a fake events table with its history index, for List: the index has an
// entry per event, newest first (as DynamoDB answers), and the table the items it still holds.
type historyTable struct {
	entries []map[string]types.AttributeValue
	items   map[string]map[string]types.AttributeValue // by id
	recs    []*event.Record                            // oldest first
}

// newHistoryTable stores n events a second apart; expires gives event i's TTL (nil: none).
func newHistoryTable(t *testing.T, n int, expires func(i int) time.Time) *historyTable {
	t.Helper()
	h := &historyTable{items: map[string]map[string]types.AttributeValue{}}
	for i := range n {
		r := record(t, "github", "push", received.Add(time.Duration(i)*time.Second))
		var ttl time.Time
		if expires != nil {
			ttl = expires(i)
		}
		item, err := ddbitem.Marshal(r, ttl)
		if err != nil {
			t.Fatal(err)
		}
		h.recs = append(h.recs, r)
		h.items[r.Event.ID] = item
		h.entries = append([]map[string]types.AttributeValue{{
			"id": item["id"], "source_group": item["source_group"], "received_key": item["received_key"], "type": item["type"],
		}}, h.entries...)
	}
	return h
}

// query answers every query with the whole index.
func (h *historyTable) query(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{Items: h.entries}, nil
}

// answer is a BatchGetItem's answer to keys: the items the table holds, in the keys' order.
func (h *historyTable) answer(keys []map[string]types.AttributeValue) *dynamodb.BatchGetItemOutput {
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	for _, k := range keys {
		if item, ok := h.items[k["id"].(*types.AttributeValueMemberS).Value]; ok {
			out.Responses["events"] = append(out.Responses["events"], item)
		}
	}
	return out
}

// TestListBatchGetsAtMostAHundred: a page of 150 is read with two BatchGetItem requests, of 100
// and 50 keys (BatchGetItem's limit), in the index's order.
func TestListBatchGetsAtMostAHundred(t *testing.T) {
	t.Parallel()
	h := newHistoryTable(t, 150, nil)
	var sizes []int
	s := newStore(t, &fakeAPI{
		query: h.query,
		batch: func(in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
			keys := in.RequestItems["events"].Keys
			sizes = append(sizes, len(keys))
			return h.answer(keys), nil
		},
	})
	page, err := s.List(context.Background(), pipeline.Query{Source: "github", Type: "push", Limit: 150})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sizes, []int{100, 50}) || len(page.Records) != 150 || page.Cursor != "" {
		t.Fatalf("BatchGetItem sizes %v, %d records, cursor %q; want [100 50], 150, none", sizes, len(page.Records), page.Cursor)
	}
	for i, r := range page.Records {
		if want := h.entries[i]["id"].(*types.AttributeValueMemberS).Value; r.Event.ID != want {
			t.Fatalf("record %d is %s, want %s (the index's order)", i, r.Event.ID, want)
		}
	}
}

// TestListGivesUpOnUnprocessedKeys: keys DynamoDB keeps leaving unprocessed are asked for 9
// times in all (with back-off), then the List fails as throttled (429), not internal.
func TestListGivesUpOnUnprocessedKeys(t *testing.T) {
	t.Parallel()
	calls := 0
	s := newStore(t, &fakeAPI{
		query: newHistoryTable(t, 2, nil).query,
		batch: func(in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
			if calls++; calls > 20 { // a List that never gives up would loop here for ever
				return nil, errors.New("still asking after 20 calls")
			}
			return &dynamodb.BatchGetItemOutput{UnprocessedKeys: in.RequestItems}, nil
		},
	})
	_, err := s.List(context.Background(), pipeline.Query{Source: "github", Type: "push"})
	if pipeline.KindOf(err) != pipeline.KindThrottled || calls != 9 {
		t.Errorf("List = %v (kind %v) after %d BatchGetItem calls; want throttled after 9", err, pipeline.KindOf(err), calls)
	}
}
