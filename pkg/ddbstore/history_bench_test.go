package ddbstore_test

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hookline/internal/testenv"
	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbstore"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
)

var historySizes = flag.String("history.sizes", "1000", "table sizes for BenchmarkHistory, comma-separated (e.g. 1000,100000,1000000)")

// counting is the DynamoDB client with a tally of what the store asked: the request count and
// the items each Query examined (ScannedCount, before the filter) and BatchGetItem returned —
// what DynamoDB bills and what grows if a query is not flat.
type counting struct {
	*dynamodb.Client
	queries, scanned, batchItems atomic.Int64
}

func (c *counting) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.Client.Query(ctx, in, o...)
	c.queries.Add(1)
	if out != nil {
		c.scanned.Add(int64(out.ScannedCount))
	}
	return out, err
}

func (c *counting) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := c.Client.BatchGetItem(ctx, in, o...)
	if out != nil {
		for _, items := range out.Responses {
			c.batchItems.Add(int64(len(items)))
		}
	}
	return out, err
}

// benchSources × benchTypes: 4 sources, each with 8 type groups of 2 types (32 partitions).
var benchSources = []string{"github", "stripe", "shop", "auth"}

func benchType(i int) string {
	return fmt.Sprintf("group%d.%s", (i/2)%8, []string{"created", "deleted"}[i%2])
}

// fillHistory writes n events received over the 30 days before end (the newest in the last
// hour) straight as items, 25 to a BatchWriteItem, and registers their 32 partitions; the
// store's own PutNew path is what the contract suite tests. It returns one stored id.
func fillHistory(b *testing.B, c *dynamodb.Client, table string, n int, end time.Time) string {
	ctx := context.Background()
	groups := map[string]bool{}
	var someID string
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range 8 {
		wg.Go(func() {
			for start := range work {
				var reqs []types.WriteRequest
				for i := start; i < min(start+25, n); i++ {
					// Evenly spaced: divide first, since 30 days in ns × more than 3,558 events
					// overflows int64.
					at := end.Add(-(30 * 24 * time.Hour / time.Duration(max(n-1, 1))) * time.Duration(n-1-i))
					id, err := event.NewID()
					if err != nil {
						errs <- err
						return
					}
					e := &event.Event{ID: id, Source: benchSources[i%len(benchSources)], Type: benchType(i / len(benchSources)), Time: at, ReceivedAt: at}
					if err := e.SetData("application/json", []byte(`{"n":`+strconv.Itoa(i)+`,"padding":"`+strings.Repeat("x", 200)+`"}`)); err != nil {
						errs <- err
						return
					}
					item, err := ddbitem.Marshal(&event.Record{Event: e, StoredAt: at.Add(time.Second)}, time.Time{})
					if err != nil {
						errs <- err
						return
					}
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
					mu.Lock()
					groups[ddbitem.SourceGroup(e.Source, e.Type)] = true
					someID = id
					mu.Unlock()
				}
				for len(reqs) > 0 {
					out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
					if err != nil {
						select {
						case errs <- err:
						default:
						}
						return
					}
					reqs = out.UnprocessedItems[table]
				}
			}
		})
	}
	for start := 0; start < n; start += 25 {
		select {
		case work <- start:
		case err := <-errs:
			b.Fatal(err)
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	var gs []string
	for g := range groups {
		gs = append(gs, g)
	}
	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: ddbstore.GroupsID}},
		UpdateExpression:          aws.String("ADD #g :g"),
		ExpressionAttributeNames:  map[string]string{"#g": "groups"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberSS{Value: gs}},
	}); err != nil {
		b.Fatal(err)
	}
	return someID
}

// BenchmarkHistory times the history's queries on tables of -history.sizes events in dynalite
// and reports, per query, the DynamoDB requests made and the index entries and items read: on
// DynamoDB those (not dynalite's timings, which say nothing about DynamoDB's) are what a query
// costs, and they must not grow with the table.
//
//	go test -run '^$' -bench BenchmarkHistory -benchtime 20x ./pkg/ddbstore -history.sizes 1000,100000,1000000
func BenchmarkHistory(b *testing.B) {
	for _, s := range strings.Split(*historySizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			b.Fatalf("-history.sizes: %q", s)
		}
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			client := testenv.DynamoDB(b, testenv.StartDynaliteAt(b, b.TempDir()))
			table := "history"
			if err := ddbstore.CreateTable(context.Background(), client, table); err != nil {
				b.Fatal(err)
			}
			end := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			start := time.Now()
			id := fillHistory(b, client, table, n, end)
			b.Logf("filled %d events in %v", n, time.Since(start).Round(time.Second))
			c := &counting{Client: client}
			s, err := ddbstore.New(c, table)
			if err != nil {
				b.Fatal(err)
			}
			queries := []struct {
				name string
				q    pipeline.Query
			}{
				{"newest across all", pipeline.Query{}},
				{"last hour across all", pipeline.Query{Since: end.Add(-time.Hour)}},
				{"by source", pipeline.Query{Source: "github"}},
				{"by type prefix", pipeline.Query{Type: "group3."}},
				{"source and type", pipeline.Query{Source: "stripe", Type: "group5.created"}},
			}
			for _, qq := range queries {
				b.Run(strings.ReplaceAll(qq.name, " ", "_"), func(b *testing.B) {
					c.queries.Store(0)
					c.scanned.Store(0)
					c.batchItems.Store(0)
					for b.Loop() {
						p, err := s.List(context.Background(), qq.q)
						if err != nil || len(p.Records) == 0 {
							b.Fatalf("List = %d records, %v", len(p.Records), err)
						}
					}
					b.ReportMetric(float64(c.queries.Load())/float64(b.N), "queries/op")
					b.ReportMetric(float64(c.scanned.Load())/float64(b.N), "entries/op")
					b.ReportMetric(float64(c.batchItems.Load())/float64(b.N), "items/op")
				})
			}
			b.Run("get_by_id", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.Get(context.Background(), id); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
