package ddbstore_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"hookline/pkg/ddbitem"
	"hookline/pkg/ddbstore"
	"hookline/pkg/pipeline"
)

// sdkRejectedItem is the layout rejections were written with by the SDK's attributevalue
// package before MarshalRejection built the attribute values itself: items in tables today
// look like this, and new ones must too.
type sdkRejectedItem struct {
	ID           string            `dynamodbav:"id"`
	Day          string            `dynamodbav:"rejected_day"`
	Key          string            `dynamodbav:"rejected_key"`
	Source       string            `dynamodbav:"source"`
	Reason       string            `dynamodbav:"reason"`
	Detail       string            `dynamodbav:"detail"`
	SourceIP     string            `dynamodbav:"source_ip,omitempty"`
	RawPath      string            `dynamodbav:"raw_path,omitempty"`
	RawQuery     string            `dynamodbav:"raw_query,omitempty"`
	Header       map[string]string `dynamodbav:"header"`
	Sealed       []byte            `dynamodbav:"sealed,omitempty"`
	Body         []byte            `dynamodbav:"body"`
	BodySize     int               `dynamodbav:"body_size"`
	ExpiresAt    int64             `dynamodbav:"expires_at"`
	ReadmittedAt string            `dynamodbav:"readmitted_at,omitempty"`
	EventID      string            `dynamodbav:"event_id,omitempty"`
}

func sdkItem(t *testing.T, r *pipeline.Rejection) map[string]types.AttributeValue {
	t.Helper()
	header, body := r.Header, r.Body
	if header == nil {
		header = map[string]string{}
	}
	if body == nil {
		body = []byte{}
	}
	at := r.ReceivedAt.UTC()
	it := sdkRejectedItem{
		ID: ddbstore.RejectedPrefix + r.ID, Day: at.Format("2006-01-02"), Key: ddbitem.ReceivedKey(at, r.ID),
		Source: r.Source, Reason: r.Reason, Detail: r.Detail, SourceIP: r.SourceIP, RawPath: r.RawPath, RawQuery: r.RawQuery,
		Header: header, Sealed: r.Sealed, Body: body, BodySize: r.BodySize, ExpiresAt: at.Add(pipeline.KeptFor).Unix(),
	}
	if !r.ReadmittedAt.IsZero() {
		it.ReadmittedAt, it.EventID = r.ReadmittedAt.Format(time.RFC3339Nano), r.EventID
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		t.Fatal(err)
	}
	return item
}

// TestRejectionItemLayout: MarshalRejection writes the item the attributevalue package wrote,
// attribute for attribute, and unmarshalRejection reads such items (also once readmitted) back
// into the same rejection.
func TestRejectionItemLayout(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 20, 30, 0, 123456789, time.UTC)
	full := &pipeline.Rejection{
		ID: "01a2a000-0000-7000-8000-000000000001", Source: "github", Reason: pipeline.ReasonUnauthorized,
		Detail: "signature does not match", ReceivedAt: at, SourceIP: "192.0.2.7", RawPath: "/webhooks/github",
		RawQuery: "a=1&b=2", Header: map[string]string{"content-type": "application/json", "x-hub-signature-256": pipeline.Redacted},
		Sealed: []byte{1, 2, 3}, Body: []byte(`{"zen":"x"}`), BodySize: 11,
	}
	readmitted := *full
	readmitted.ReadmittedAt, readmitted.EventID = at.Add(time.Hour), "0190b4c2-0000-7000-8000-000000000009"
	for name, r := range map[string]*pipeline.Rejection{
		"every attribute": full,
		// Empty strings stay (as S ""), empty optional ones are left out, a nil header and
		// body become an empty map and an empty binary, a zero size is N "0".
		"empty": {ID: "01a2a000-0000-7000-8000-000000000002", ReceivedAt: at},
		"empty body, not nil": {ID: "01a2a000-0000-7000-8000-000000000003", Source: "slack", Reason: pipeline.ReasonNotFound,
			ReceivedAt: at, Header: map[string]string{}, Body: []byte{}, BodySize: 0, Sealed: []byte{}},
		"readmitted": &readmitted,
	} {
		t.Run(name, func(t *testing.T) {
			want := sdkItem(t, r)
			if r.ReadmittedAt.IsZero() { // MarshalRejection writes a new rejection; a readmit marks it later
				got, err := ddbstore.MarshalRejection(r)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("MarshalRejection:\n got %s\nwant %s", image(t, got), image(t, want))
				}
			}
			back, expires, err := ddbstore.UnmarshalRejection(want)
			if err != nil {
				t.Fatal(err)
			}
			wantBack := *r
			if wantBack.Header == nil {
				wantBack.Header = map[string]string{}
			}
			if len(wantBack.Body) == 0 {
				wantBack.Body = []byte{}
			}
			if d := cmp.Diff(&wantBack, back); d != "" {
				t.Errorf("unmarshal (-want +got):\n%s", d)
			}
			if want := at.Add(pipeline.KeptFor).Unix(); expires != want {
				t.Errorf("expires_at %d, want %d", expires, want)
			}
		})
	}
}

// TestUnmarshalRejectionRefuses: an attribute of the wrong type, or keys that disagree, is an
// error naming the item, not a rejection with a field silently left empty.
func TestUnmarshalRejectionRefuses(t *testing.T) {
	t.Parallel()
	r := &pipeline.Rejection{ID: "01a2a000-0000-7000-8000-000000000001", Source: "github", ReceivedAt: time.Now(), BodySize: 3}
	for name, edit := range map[string]func(map[string]types.AttributeValue){
		"body_size not a number": func(m map[string]types.AttributeValue) { m["body_size"] = &types.AttributeValueMemberS{Value: "3"} },
		"body_size not an integer": func(m map[string]types.AttributeValue) {
			m["body_size"] = &types.AttributeValueMemberN{Value: "3.5"}
		},
		"body a string": func(m map[string]types.AttributeValue) { m["body"] = &types.AttributeValueMemberS{Value: "abc"} },
		"header value a number": func(m map[string]types.AttributeValue) {
			m["header"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": &types.AttributeValueMemberN{Value: "1"}}}
		},
		"key of another id": func(m map[string]types.AttributeValue) {
			m["id"] = &types.AttributeValueMemberS{Value: ddbstore.RejectedPrefix + "01a2a000-0000-7000-8000-000000000002"}
		},
		"readmitted_at not a time": func(m map[string]types.AttributeValue) {
			m["readmitted_at"] = &types.AttributeValueMemberS{Value: "yesterday"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			item, err := ddbstore.MarshalRejection(r)
			if err != nil {
				t.Fatal(err)
			}
			edit(item)
			if got, _, err := ddbstore.UnmarshalRejection(item); err == nil {
				t.Errorf("unmarshal = %+v, nil; want an error", got)
			}
		})
	}
	if _, err := ddbstore.MarshalRejection(&pipeline.Rejection{ReceivedAt: time.Now()}); err == nil {
		t.Error("MarshalRejection of a rejection without an id: no error")
	}
}

func image(t *testing.T, item map[string]types.AttributeValue) string {
	t.Helper()
	img, err := ddbitem.ToStreamImage(item)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(img, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
