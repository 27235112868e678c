package ddbstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hookline/internal/testenv"
	"hookline/pkg/ddbstore"
	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/digesttest"
	"hookline/pkg/pipeline/storetest"
)

var tableSeq atomic.Int64

// TestContract runs the shared pipeline.Store suite against dynalite, one fresh table per test.
func TestContract(t *testing.T) {
	start := time.Now()
	client := testenv.DynamoDB(t, testenv.StartDynalite(t))
	t.Cleanup(func() { t.Logf("contract suite against dynalite took %v", time.Since(start)) })
	storetest.Run(t, func(t *testing.T) pipeline.Store { return dynaliteStore(t, client, client, "events") })
}

// TestExpiryContract: dynalite has no TTL, so an expired event stays, as on DynamoDB until its
// deletion comes round; every read must pass it by.
func TestExpiryContract(t *testing.T) {
	client := testenv.DynamoDB(t, testenv.StartDynalite(t))
	storetest.RunExpiry(t, func(t *testing.T, retention time.Duration) pipeline.Store {
		s, err := ddbstore.New(client, newTable(t, client, "expiry"), ddbstore.WithRetention(retention))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestContractMethods runs the suite through Methods, the adapter the notifier's main uses, so
// that adapter passes the whole suite too (a method it lacks fails to compile; one it wires
// wrong fails here).
func TestContractMethods(t *testing.T) {
	if testing.Short() {
		t.Skip("second dynalite run")
	}
	client := testenv.DynamoDB(t, testenv.StartDynalite(t))
	storetest.Run(t, func(t *testing.T) pipeline.Store {
		return dynaliteStore(t, client, ddbstore.Methods(client), "events1")
	})
}

// TestDigestContract runs the digest store's suite against dynalite, one table per test.
func TestDigestContract(t *testing.T) {
	client := testenv.DynamoDB(t, testenv.StartDynalite(t))
	digesttest.Run(t, func(t *testing.T) pipeline.DigestStore { return dynaliteStore(t, client, client, "digests") })
}

func benchStore(b *testing.B) *ddbstore.Store {
	client := testenv.DynamoDB(b, testenv.StartDynalite(b))
	return dynaliteStore(b, client, client, "bench")
}

// newTable creates a fresh events table on dynalite, named prefix-N.
func newTable(t testing.TB, client *dynamodb.Client, prefix string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	table := fmt.Sprintf("%s-%d", prefix, tableSeq.Add(1))
	if err := ddbstore.CreateTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	return table
}

// dynaliteStore opens a fresh table (newTable) through api: client itself, or Methods(client).
func dynaliteStore(t testing.TB, client *dynamodb.Client, api ddbstore.API, prefix string) *ddbstore.Store {
	t.Helper()
	s, err := ddbstore.New(api, newTable(t, client, prefix))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func benchRecord(b *testing.B, at time.Time) *event.Record {
	id, err := event.NewID()
	if err != nil {
		b.Fatal(err)
	}
	e := &event.Event{ID: id, Source: "github", Type: "push", Time: at, ReceivedAt: at}
	if err := e.SetData("application/json", []byte(`{"ref":"refs/heads/main","commits":[{"id":"6113728f"}]}`)); err != nil {
		b.Fatal(err)
	}
	r, err := event.NewRecord(e, at)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkPutNew measures the adapter plus dynalite's round trip, not DynamoDB's latency.
func BenchmarkPutNew(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	now := time.Now()
	for i := 0; b.Loop(); i++ {
		if _, err := s.PutNew(ctx, benchRecord(b, now.Add(time.Duration(i)))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList reads pages of 50 over every partition the registry lists.
func BenchmarkList(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	now := time.Now()
	for i := range 500 {
		if _, err := s.PutNew(ctx, benchRecord(b, now.Add(time.Duration(i)*time.Millisecond))); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		p, err := s.List(ctx, pipeline.Query{})
		if err != nil || len(p.Records) != pipeline.DefaultLimit {
			b.Fatalf("List = %d records, %v", len(p.Records), err)
		}
	}
}
