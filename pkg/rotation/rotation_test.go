package rotation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hookline/pkg/rotation"
	"hookline/pkg/source"
)

func TestTable(t *testing.T) {
	t.Parallel()
	set, err := source.Parse([]byte(`{"sources":{
		"github": {"scheme":"github","secrets":["old-secret-0123456","new-secret-0123456"]},
		"stripe": {"scheme":"stripe","secrets":["whsec_stripe_0123456"]}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	used := []rotation.KeyUse{
		{Source: "github", Key: 1, Events: 40, Last: t1},
		{Source: "github", Key: 2, Events: 1, Last: t0},  // a secret since removed from the config
		{Source: "retired", Key: 0, Events: 3, Last: t0}, // a source since removed
	}
	got, err := rotation.Table(context.Background(), set, used)
	if err != nil {
		t.Fatal(err)
	}
	want := []rotation.Row{
		{Source: "github", Scheme: "github", Key: 0, Events: 0, Configured: true}, // unused: can go
		{Source: "github", Scheme: "github", Key: 1, Events: 40, Last: &t1, Configured: true},
		{Source: "github", Scheme: "github", Key: 2, Events: 1, Last: &t0},
		{Source: "retired", Key: 0, Events: 3, Last: &t0},
		{Source: "stripe", Scheme: "stripe", Key: 0, Configured: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Table (-want +got):\n%s", diff)
	}

	// Without a config only what verified something appears.
	got, err = rotation.Table(context.Background(), nil, used[:1])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]rotation.Row{{Source: "github", Key: 1, Events: 40, Last: &t1}}, got); diff != "" {
		t.Errorf("Table without config (-want +got):\n%s", diff)
	}
}

func TestPrint(t *testing.T) {
	t.Parallel()
	t1 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	rows := []rotation.Row{
		{Source: "github", Scheme: "github", Key: 0, Configured: true},
		{Source: "github", Scheme: "github", Key: 1, Events: 40, Last: &t1, Configured: true},
		{Source: "retired", Key: 0, Events: 3, Last: &t1},
	}
	var b strings.Builder
	if err := rotation.Print(&b, rows, true, false); err != nil {
		t.Fatal(err)
	}
	want := `SOURCE   SCHEME  KEY  EVENTS  LAST                  NOTE
github   github  0    0       -                     unused in the window
github   github  1    40      2026-11-27T10:00:00Z  
retired  -       0    3       2026-11-27T10:00:00Z  not in the config
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	b.Reset()
	if err := rotation.Print(&b, rows[1:2], false, true); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != `{"source":"github","scheme":"github","key":1,"events":40,"last":"2026-11-27T10:00:00Z","configured":true}`+"\n" {
		t.Errorf("json = %s", got)
	}
}
