package ddbrecorder_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hookline/internal/ddbrecorder"
	"hookline/pkg/awsjson"
)

// TestPair: the SDK side is built on the SDK's client and ours on the awsjson client, both
// sending to the recorder, and each is returned on its own side.
func TestPair(t *testing.T) {
	ctx := context.Background()
	rec := ddbrecorder.New(t)
	sdk, ours := ddbrecorder.Pair(t, rec,
		func(c *dynamodb.Client) (*dynamodb.Client, error) { return c, nil },
		func(c *awsjson.Client) (*awsjson.Client, error) { return c, nil })
	if _, err := sdk.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	if err := ours.Call(ctx, "DescribeTable", map[string]string{"TableName": "events"}, nil); err != nil {
		t.Fatal(err)
	}
	got := rec.Take()
	if len(got) != 2 || got[0].Target != "DynamoDB_20120810.ListTables" || got[1].Target != "DynamoDB_20120810.DescribeTable" {
		t.Errorf("recorded %+v, want ListTables (the SDK side) then DescribeTable (ours)", got)
	}
}

// fatalTB stops at the first Fatal, as testing.T does, and keeps what it was given.
type fatalTB struct {
	testing.TB
	fatal string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatal(args ...any) {
	f.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}

// TestPairFailsOnAConstructorError: a constructor that fails, on either side, fails the test
// with its error.
func TestPairFailsOnAConstructorError(t *testing.T) {
	rec := ddbrecorder.New(t)
	okSDK := func(c *dynamodb.Client) (*dynamodb.Client, error) { return c, nil }
	okOurs := func(c *awsjson.Client) (*awsjson.Client, error) { return c, nil }
	for name, tc := range map[string]struct {
		sdk  func(*dynamodb.Client) (*dynamodb.Client, error)
		ours func(*awsjson.Client) (*awsjson.Client, error)
	}{
		"sdk":  {func(*dynamodb.Client) (*dynamodb.Client, error) { return nil, errors.New("sdk: no table") }, okOurs},
		"ours": {okSDK, func(*awsjson.Client) (*awsjson.Client, error) { return nil, errors.New("ours: no table") }},
	} {
		f := &fatalTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			ddbrecorder.Pair(f, rec, tc.sdk, tc.ours)
		}()
		<-done
		if want := name + ": no table"; f.fatal != want {
			t.Errorf("a failing %s constructor: Fatal(%q), want Fatal(%q)", name, f.fatal, want)
		}
	}
}
