package ddbstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hookline/internal/testenv"
	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbstore"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/rejectedtest"
)

// TestRejectedContract runs the quarantine contract shared with the local engine against
// dynalite: the rejections live in the events table, under their own prefix.
func TestRejectedContract(t *testing.T) {
	client := testenv.DynamoDB(t, testenv.StartDynalite(t))
	rejectedtest.Run(t, func(t *testing.T) pipeline.RejectedStore {
		q, err := ddbstore.NewRejected(client, newTable(t, client, "quarantine"))
		if err != nil {
			t.Fatal(err)
		}
		return q
	})
}

// TestRejectedItemsStayOutOfHistory: a kept rejection has no key of any history index (so
// DynamoDB copies it into none) and no attribute the notifier's stream filter or the history
// reads; the history of a table holding only rejections is empty.
func TestRejectedItemsStayOutOfHistory(t *testing.T) {
	r := &pipeline.Rejection{ID: "01a2a000-0000-7000-8000-000000000001", Source: "github", Reason: pipeline.ReasonUnauthorized,
		ReceivedAt: time.Now(), Header: map[string]string{"a": "b"}, Body: []byte("x"), BodySize: 1}
	item, err := ddbstore.MarshalRejection(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, ix := range ddbstore.TableSchema().Indexes {
		_, pk := item[ix.PartitionKey]
		_, sk := item[ix.SortKey]
		if pk && sk {
			t.Errorf("a rejection has both keys of history index %s (%s, %s)", ix.Name, ix.PartitionKey, ix.SortKey)
		}
	}
	for _, a := range []string{ddbitem.AttrEnvelope, ddbitem.AttrReceivedKey} {
		if _, ok := item[a]; ok {
			t.Errorf("a rejection has the event attribute %s", a)
		}
	}
	rx := ddbstore.TableSchema().Rejected
	if _, ok := item[rx.PartitionKey]; !ok {
		t.Errorf("a rejection lacks %s, the quarantine index's key", rx.PartitionKey)
	}

	client := testenv.DynamoDB(t, testenv.StartDynalite(t))
	table := newTable(t, client, "quarantine")
	q, err := ddbstore.NewRejected(client, table)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := q.Keep(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Take(ctx, "github", time.Now().Unix()/60, 10); err != nil {
		t.Fatal(err)
	}
	for _, ix := range ddbstore.TableSchema().Indexes {
		out, err := client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), IndexName: aws.String(ix.Name)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Count != 0 {
			t.Errorf("history index %s holds %d items; want none", ix.Name, out.Count)
		}
	}
	s, err := ddbstore.New(client, table)
	if err != nil {
		t.Fatal(err)
	}
	if page, err := s.List(ctx, pipeline.Query{}); err != nil || len(page.Records) != 0 {
		t.Errorf("history List = %d records, %v; want none", len(page.Records), err)
	}
}

// TestTakeAcrossInstances: keepers in several "instances" share one counter per source and
// minute; together they keep exactly the limit, each minute and source on its own.
func TestTakeAcrossInstances(t *testing.T) {
	client := testenv.DynamoDB(t, testenv.StartDynalite(t))
	table := newTable(t, client, "quarantine")
	minute := time.Now().Unix() / 60
	var kept [2]atomic.Int64
	var wg sync.WaitGroup
	for range 4 { // four instances: four stores over one table
		q, err := ddbstore.NewRejected(client, table)
		if err != nil {
			t.Fatal(err)
		}
		for n := range 10 {
			wg.Go(func() {
				key := []string{"github", ""}[n%2]
				ok, err := q.Take(context.Background(), key, minute, 7)
				if err != nil {
					t.Error(err)
				}
				if ok {
					kept[n%2].Add(1)
				}
			})
		}
	}
	wg.Wait()
	if kept[0].Load() != 7 || kept[1].Load() != 7 {
		t.Errorf("kept github %d, unknown names %d; want 7 each of 20", kept[0].Load(), kept[1].Load())
	}
	q, _ := ddbstore.NewRejected(client, table)
	if ok, err := q.Take(context.Background(), "github", minute+1, 7); !ok || err != nil {
		t.Errorf("the next minute: %v, %v; want a fresh allowance", ok, err)
	}
}
