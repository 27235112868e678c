package ddbjson_test

import (
	"context"
	"testing"

	"hookline/pkg/ddbjson"
)

type callerFunc func(ctx context.Context, op string, in, out any) error

func (f callerFunc) Call(ctx context.Context, op string, in, out any) error {
	return f(ctx, op, in, out)
}

// TestNewTable: every awsjson adapter's constructor refuses a missing client or table name with
// an error naming the adapter, and keeps both otherwise.
func TestNewTable(t *testing.T) {
	t.Parallel()
	c := callerFunc(func(context.Context, string, any, any) error { return nil })
	for _, tc := range []struct {
		client  ddbjson.Caller
		name    string
		wantErr string
	}{
		{nil, "events", "ddbx: client is nil"},
		{c, "", "ddbx: table name is empty"},
		{nil, "", "ddbx: client is nil"},
	} {
		if _, err := ddbjson.NewTable("ddbx", tc.client, tc.name); err == nil || err.Error() != tc.wantErr {
			t.Errorf("NewTable(%v, %q): %v, want %q", tc.client != nil, tc.name, err, tc.wantErr)
		}
	}
	tab, err := ddbjson.NewTable("ddbx", c, "events")
	if err != nil || tab.Name != "events" || tab.Client == nil {
		t.Fatalf("NewTable(client, \"events\") = %+v, %v; want both kept", tab, err)
	}
}
