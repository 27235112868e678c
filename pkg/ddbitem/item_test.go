package ddbitem_test

import (
	"crypto/sha256"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"hookline/internal/golden"
	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbjson"
	"hookline/pkg/event"
)

var recv = time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)

// fixtureRecord is the record testdata/stream_insert.json holds.
func fixtureRecord(t *testing.T) *event.Record {
	t.Helper()
	const delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	e := &event.Event{
		ID: event.DeliveryID("github", delivery), Source: "github", Type: "push",
		Time: recv, ReceivedAt: recv, DeliveryID: delivery,
	}
	body := `{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"0000000000000000000000000000000000000000","repository":{"full_name":"octo-org/hello-world"},"pusher":{"name":"octocat"}}`
	if err := e.SetData("application/json", []byte(body)); err != nil {
		t.Fatal(err)
	}
	return &event.Record{Event: e, StoredAt: recv.Add(250 * time.Millisecond)}
}

func fixtureTTL() time.Time { return recv.Add(90 * 24 * time.Hour) }

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	text := fixtureRecord(t)
	text.Event.ID, text.Event.Source, text.Event.Type, text.Event.DeliveryID = "0195f0a4-7b1c-7d2e-8f3a-4b5c6d7e8f90", "postman", event.UnknownType, ""
	if err := text.Event.SetData("text/plain", []byte("A new message has been published")); err != nil {
		t.Fatal(err)
	}
	binary := fixtureRecord(t)
	if err := binary.Event.SetData("application/octet-stream", []byte{0, 1, 0xff}); err != nil {
		t.Fatal(err)
	}
	binary.Event.DataVersion = "2024-01-01"
	binary.Event.Time = recv.Add(-time.Hour)
	notified := fixtureRecord(t)
	notified.NotifiedAt = recv.Add(2 * time.Second)
	empty := fixtureRecord(t)
	if err := empty.Event.SetData("", nil); err != nil {
		t.Fatal(err)
	}

	evidence := fixtureRecord(t)
	evidence.Event.Verification = event.Verification{Scheme: "stripe", Key: 1, SkewMS: -412, HasSkew: true,
		BodySHA256: sha256.Sum256(evidence.Event.Body()), SignedID: true}
	noSkew := fixtureRecord(t)
	noSkew.Event.Verification = event.Verification{Scheme: "github", BodySHA256: sha256.Sum256(noSkew.Event.Body()), SignedID: true}

	tests := map[string]struct {
		r   *event.Record
		ttl time.Time
	}{
		"json":                     {fixtureRecord(t), fixtureTTL()},
		"with evidence":            {evidence, fixtureTTL()},
		"evidence, no signed time": {noSkew, fixtureTTL()},
		"text, no ttl":             {text, time.Time{}},
		"binary":                   {binary, fixtureTTL()},
		"notified":                 {notified, fixtureTTL()},
		"empty body":               {empty, fixtureTTL()},
		"non-UTC records":          {inZone(fixtureRecord(t)), fixtureTTL()},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			item, err := ddbitem.Marshal(tt.r, tt.ttl)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ddbitem.Unmarshal(item)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.r, got); diff != "" {
				t.Errorf("Unmarshal(Marshal()) (-want +got):\n%s", diff)
			}
			_, hasTTL := item[ddbitem.AttrExpiresAt]
			if hasTTL != !tt.ttl.IsZero() {
				t.Errorf("expires_at present = %v, want %v", hasTTL, !tt.ttl.IsZero())
			}

			// Through the JSON that Lambda delivers, as the notifier receives it.
			img, err := ddbitem.ToStreamImage(item)
			if err != nil {
				t.Fatal(err)
			}
			wire := jsonOf(t, img)
			var back map[string]events.DynamoDBAttributeValue
			if err := json.Unmarshal(wire, &back); err != nil {
				t.Fatalf("lambda-go cannot read %s: %v", wire, err)
			}
			got, err = ddbitem.FromStreamImage(back)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.r, got); diff != "" {
				t.Errorf("FromStreamImage(ToStreamImage(Marshal())) (-want +got):\n%s", diff)
			}
			// The same JSON is the item as GetItem answers it, read without the SDK.
			if got, err = ddbjson.Unmarshal(itemJSON(t, wire)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.r, got); diff != "" {
				t.Errorf("ddbjson.Unmarshal of Marshal's item (-want +got):\n%s", diff)
			}
		})
	}
}

func inZone(r *event.Record) *event.Record {
	z := time.FixedZone("CET", 3600)
	r.Event.Time, r.Event.ReceivedAt, r.StoredAt = r.Event.Time.In(z), r.Event.ReceivedAt.In(z), r.StoredAt.In(z)
	return r
}

// TestStreamFixture decodes a stream event exactly as Lambda delivers it.
func TestStreamFixture(t *testing.T) {
	t.Parallel()
	ev := streamFixture(t, "stream_insert.json")
	if len(ev.Records) != 1 {
		t.Fatalf("%d records, want 1", len(ev.Records))
	}
	rec := ev.Records[0]
	if rec.EventName != string(events.DynamoDBOperationTypeInsert) || rec.EventSource != "aws:dynamodb" ||
		rec.Change.StreamViewType != string(events.DynamoDBStreamViewTypeNewImage) {
		t.Errorf("fixture header: eventName %q, eventSource %q, view %q", rec.EventName, rec.EventSource, rec.Change.StreamViewType)
	}
	got, err := ddbitem.FromStreamImage(rec.Change.NewImage)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fixtureRecord(t), got); diff != "" {
		t.Errorf("FromStreamImage (-want +got):\n%s", diff)
	}
	if key := rec.Change.Keys[ddbitem.AttrID].String(); key != got.Event.ID {
		t.Errorf("Keys.id = %q, record id %q", key, got.Event.ID)
	}
	golden.Check(t, "stream_insert.golden.json", recordJSON(t, got))

	// The fixture's image is exactly what Marshal writes today.
	item, err := ddbitem.Marshal(fixtureRecord(t), fixtureTTL())
	if err != nil {
		t.Fatal(err)
	}
	img, err := ddbitem.ToStreamImage(item)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(jsonOf(t, rec.Change.NewImage), jsonOf(t, img)); diff != "" {
		t.Errorf("fixture NewImage differs from Marshal's item (-fixture +marshal):\n%s", diff)
	}
}

// TestStreamFixtureV1: items written before the item lost its copies of time, received_at,
// delivery_id and time_shard (they stay in the table until their TTL) decode to the same record.
func TestStreamFixtureV1(t *testing.T) {
	t.Parallel()
	ev := streamFixture(t, "stream_insert_v1.json")
	got, err := ddbitem.FromStreamImage(ev.Records[0].Change.NewImage)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fixtureRecord(t), got); diff != "" {
		t.Errorf("FromStreamImage of a v1 item (-want +got):\n%s", diff)
	}
}

// streamFixture reads testdata/name, a stream event as Lambda delivers it.
func streamFixture(t *testing.T, name string) events.DynamoDBEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestItemGolden pins the item layout that PutItem sends (in DynamoDB's JSON shape).
func TestItemGolden(t *testing.T) {
	t.Parallel()
	r := fixtureRecord(t)
	r.NotifiedAt = recv.Add(3 * time.Second)
	item, err := ddbitem.Marshal(r, fixtureTTL())
	if err != nil {
		t.Fatal(err)
	}
	img, err := ddbitem.ToStreamImage(item)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "item.golden.json", jsonOf(t, img))
}

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func recordJSON(t *testing.T, r *event.Record) []byte {
	t.Helper()
	out := struct {
		Status     string          `json:"status"`
		StoredAt   time.Time       `json:"stored_at"`
		NotifiedAt *time.Time      `json:"notified_at,omitempty"`
		Envelope   json.RawMessage `json:"envelope"`
	}{Status: r.Status(), StoredAt: r.StoredAt, Envelope: r.Event.Marshal()}
	if !r.NotifiedAt.IsZero() {
		out.NotifiedAt = &r.NotifiedAt
	}
	return jsonOf(t, out)
}

// itemJSON reads an item in DynamoDB JSON as the adapters without the SDK do.
func itemJSON(t *testing.T, b []byte) map[string]ddbjson.Value {
	t.Helper()
	var item map[string]ddbjson.Value
	if err := json.Unmarshal(b, &item); err != nil {
		t.Fatal(err)
	}
	return item
}

func TestUnmarshalErrors(t *testing.T) {
	t.Parallel()
	good, err := ddbitem.Marshal(fixtureRecord(t), fixtureTTL())
	if err != nil {
		t.Fatal(err)
	}
	with := func(name string, v types.AttributeValue) map[string]types.AttributeValue {
		m := make(map[string]types.AttributeValue, len(good))
		for k, v := range good {
			m[k] = v
		}
		if v == nil {
			delete(m, name)
		} else {
			m[name] = v
		}
		return m
	}
	tests := map[string]struct {
		item    map[string]types.AttributeValue
		mention string
	}{
		"no envelope":         {with("envelope", nil), "envelope is missing"},
		"envelope not S":      {with("envelope", &types.AttributeValueMemberN{Value: "1"}), "envelope is"},
		"envelope not JSON":   {with("envelope", &types.AttributeValueMemberS{Value: "{"}), "attribute envelope"},
		"no id":               {with("id", nil), "id is missing"},
		"id mismatch":         {with("id", &types.AttributeValueMemberS{Value: "other"}), "envelope id"},
		"no stored_at":        {with("stored_at", nil), "stored_at is missing"},
		"bad stored_at":       {with("stored_at", &types.AttributeValueMemberS{Value: "yesterday"}), "stored_at"},
		"bad notified_at":     {with("notified_at", &types.AttributeValueMemberS{Value: "soon"}), "notified_at"},
		"notified_at wrong T": {with("notified_at", &types.AttributeValueMemberNULL{Value: true}), "notified_at"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ddbitem.Unmarshal(tt.item)
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.mention)
			}
			// The same item as DynamoDB JSON, read without the SDK: the same error.
			img, err := ddbitem.ToStreamImage(tt.item)
			if err != nil {
				t.Fatal(err)
			}
			_, jerr := ddbjson.Unmarshal(itemJSON(t, jsonOf(t, img)))
			if jerr == nil || !strings.Contains(jerr.Error(), tt.mention) {
				t.Errorf("ddbjson.Unmarshal: err = %v, want one mentioning %q", jerr, tt.mention)
			}
		})
	}
	if _, err := ddbitem.FromStreamImage(map[string]events.DynamoDBAttributeValue{"envelope": {}}); err == nil {
		t.Error("FromStreamImage of a zero attribute value: no error")
	}
}

// TestUnmarshalNamesTheType: an envelope of each other type is refused, naming the type as
// DynamoDB does.
func TestUnmarshalNamesTheType(t *testing.T) {
	good, err := ddbitem.Marshal(fixtureRecord(t), fixtureTTL())
	if err != nil {
		t.Fatal(err)
	}
	for want, v := range map[string]types.AttributeValue{
		"N":    &types.AttributeValueMemberN{Value: "1"},
		"B":    &types.AttributeValueMemberB{Value: []byte("{}")},
		"BOOL": &types.AttributeValueMemberBOOL{Value: true},
		"NULL": &types.AttributeValueMemberNULL{Value: true},
		"SS":   &types.AttributeValueMemberSS{Value: []string{"a"}},
		"NS":   &types.AttributeValueMemberNS{Value: []string{"1"}},
		"BS":   &types.AttributeValueMemberBS{Value: [][]byte{{1}}},
		"L":    &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "a"}}},
		"M":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": &types.AttributeValueMemberN{Value: "1"}}},
	} {
		item := maps.Clone(good)
		item[ddbitem.AttrEnvelope] = v
		_, err := ddbitem.Unmarshal(item)
		if msg := "envelope is " + want + ", want a string (S)"; err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("envelope %T: err = %v, want one saying %q", v, err, msg)
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	t.Parallel()
	noStored := fixtureRecord(t)
	noStored.StoredAt = time.Time{}
	invalid := fixtureRecord(t)
	invalid.Event.Type = ""
	for name, r := range map[string]*event.Record{"nil": nil, "no event": {}, "no stored_at": noStored, "invalid event": invalid} {
		if _, err := ddbitem.Marshal(r, time.Time{}); err == nil {
			t.Errorf("%s: Marshal succeeded", name)
		}
	}
}

// TestReceivedKeyOrder checks the property the indexes rely on: string order is time order,
// then id order.
func TestReceivedKeyOrder(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	times := []time.Time{
		base, base.Add(time.Nanosecond), base.Add(90 * time.Millisecond), base.Add(100 * time.Millisecond),
		base.Add(time.Second), base.Add(time.Hour).In(time.FixedZone("x", -7*3600)), base.AddDate(1, 0, 0),
	}
	var keys []string
	for _, tm := range times {
		keys = append(keys, ddbitem.ReceivedKey(tm, "b"))
	}
	keys = append(keys[:2], append([]string{ddbitem.ReceivedKey(base.Add(time.Nanosecond), "c")}, keys[2:]...)...)
	if !slices.IsSorted(keys) {
		t.Errorf("keys not in time order:\n%s", strings.Join(keys, "\n"))
	}
	for _, k := range keys {
		tm, id, err := ddbitem.ParseReceivedKey(k)
		if err != nil || ddbitem.ReceivedKey(tm, id) != k {
			t.Errorf("ParseReceivedKey(%q) = %v, %q, %v", k, tm, id, err)
		}
	}
	for _, bad := range []string{"", "x", "2026-01-02T03:04:05Z#a", "2026-01-02T03:04:05.000000000Z#", "nope#a"} {
		if _, _, err := ddbitem.ParseReceivedKey(bad); err == nil {
			t.Errorf("ParseReceivedKey(%q) accepted", bad)
		}
	}
}

func TestSourceGroup(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ source, typ, want string }{
		{"github", "issues.opened", "github#issues"},
		{"github", "push", "github#push"},
		{"shop", "orders/create", "shop#orders"},
		{"billing", "customer.subscription.created", "billing#customer.subscription"},
		{"odd", "a#b.c", "odd#a#b"}, // a type may hold '#': the source never does
	} {
		sg := ddbitem.SourceGroup(tt.source, tt.typ)
		if sg != tt.want {
			t.Errorf("SourceGroup(%q, %q) = %q, want %q", tt.source, tt.typ, sg, tt.want)
		}
		src, group, ok := ddbitem.SplitSourceGroup(sg)
		if !ok || src != tt.source || group != event.TypeGroup(tt.typ) {
			t.Errorf("SplitSourceGroup(%q) = %q, %q, %v", sg, src, group, ok)
		}
	}
	if !ddbitem.IsControl("~groups") || ddbitem.IsControl("0195f0a4-7b1c-7d2e-8f3a-4b5c6d7e8f90") {
		t.Error("IsControl")
	}
}

// TestStreamNestedErrors: a value neither side can convert, inside a list or a map, fails the
// conversion (rather than being dropped or zeroed) and the error names where it sits.
func TestStreamNestedErrors(t *testing.T) {
	t.Parallel()
	bad := &types.UnknownUnionMember{Tag: "X"}
	for name, tt := range map[string]struct {
		item    map[string]types.AttributeValue
		mention string
	}{
		"in a list": {map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "ok"}, bad}}}, "attribute l: [1]: unsupported"},
		"in a map": {map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"inner": bad}}}, "attribute m: attribute inner: unsupported"},
	} {
		if img, err := ddbitem.ToStreamImage(tt.item); err == nil || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ToStreamImage %s = %v, %v; want an error mentioning %q", name, img, err, tt.mention)
		}
	}
	var zero events.DynamoDBAttributeValue // claims to be binary, holds nothing
	for name, tt := range map[string]struct {
		img     map[string]events.DynamoDBAttributeValue
		mention string
	}{
		"in a list": {map[string]events.DynamoDBAttributeValue{"l": events.NewListAttribute([]events.DynamoDBAttributeValue{
			events.NewStringAttribute("ok"), zero})}, "attribute l: [1]: empty"},
		"in a map": {map[string]events.DynamoDBAttributeValue{"m": events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{
			"inner": zero})}, "attribute m: attribute inner: empty"},
	} {
		if r, err := ddbitem.FromStreamImage(tt.img); err == nil || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("FromStreamImage %s = %v, %v; want an error mentioning %q", name, r, err, tt.mention)
		}
	}
}
