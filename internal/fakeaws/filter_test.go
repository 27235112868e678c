package fakeaws

import (
	"encoding/json"
	"testing"
)

func TestFilterMatch(t *testing.T) {
	t.Parallel()
	insert := `{"eventName":"INSERT","dynamodb":{"NewImage":{"source":{"S":"github"},"n":{"N":"3"}}},"tags":["a","b"],"n":7,"ok":true,"nothing":null}`
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{`{"eventName":["INSERT"]}`, true},
		{`{"eventName":["MODIFY","REMOVE"]}`, false},
		{`{"dynamodb":{"NewImage":{"source":{"S":["github"]}}}}`, true},
		{`{"dynamodb":{"NewImage":{"source":{"S":["stripe"]}}}}`, false},
		{`{"dynamodb":{"NewImage":{"source":["github"]}}}`, false}, // an object is not a value
		{`{"eventName":[{"prefix":"INS"}]}`, true},
		{`{"eventName":[{"suffix":"ERT"}]}`, true},
		{`{"eventName":[{"prefix":{"equals-ignore-case":"ins"}}]}`, true},
		{`{"eventName":[{"equals-ignore-case":"insert"}]}`, true},
		{`{"eventName":[{"wildcard":"I*T"}]}`, true},
		{`{"eventName":[{"anything-but":"INSERT"}]}`, false},
		{`{"eventName":[{"anything-but":["MODIFY","REMOVE"]}]}`, true},
		{`{"eventName":[{"anything-but":{"prefix":"IN"}}]}`, false},
		{`{"missing":[{"anything-but":"x"}]}`, false},
		{`{"missing":[{"exists":false}]}`, true},
		{`{"missing":[{"exists":true}]}`, false},
		{`{"eventName":[{"exists":true}]}`, true},
		{`{"dynamodb":[{"exists":true}]}`, false}, // exists matches leaves only
		{`{"n":[{"numeric":[">",5,"<=",7]}]}`, true},
		{`{"n":[{"numeric":["<",5]}]}`, false},
		{`{"n":[7]}`, true},
		{`{"n":["7"]}`, false},
		{`{"tags":["b"]}`, true}, // an array value matches when any element does
		{`{"tags":["c"]}`, false},
		{`{"ok":[true]}`, true},
		{`{"nothing":[null]}`, true},
		{`{"eventName":["INSERT"],"n":[8]}`, false}, // every key must match
	} {
		f, err := NewFilter(tc.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tc.pattern, err)
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(insert), &ev); err != nil {
			t.Fatal(err)
		}
		if got := f.Match(ev); got != tc.want {
			t.Errorf("%s matches: %v, want %v", tc.pattern, got, tc.want)
		}
	}
}

func TestFilterRefusesWhatItCannotEvaluate(t *testing.T) {
	t.Parallel()
	for _, p := range []string{
		`["INSERT"]`,
		`{"eventName":"INSERT"}`,
		`{"eventName":[]}`,
		`{"ip":[{"cidr":"10.0.0.0/8"}]}`,
		`{"n":[{"numeric":["~",1]}]}`,
		`{"x":[{"prefix":"a","suffix":"b"}]}`,
		`{"x":[{"anything-but":[{"prefix":"a"}]}]}`,
	} {
		if _, err := NewFilter(p); err == nil {
			t.Errorf("NewFilter(%s) accepted a pattern it cannot evaluate", p)
		}
	}
}

func TestFiltersAnyOrNone(t *testing.T) {
	t.Parallel()
	a, _ := NewFilter(`{"k":["a"]}`)
	b, _ := NewFilter(`{"k":["b"]}`)
	ev := map[string]any{"k": "b"}
	if !(Filters{a, b}).Match(ev) || (Filters{a}).Match(ev) || !(Filters{}).Match(ev) {
		t.Error("Filters must pass an event any pattern matches, and every event when there are none")
	}
}

func TestGlob(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p, s string
		fold bool
		want bool
	}{
		{"*", "anything", false, true},
		{"kms:GenerateDataKey*", "kms:GenerateDataKey", false, true},
		{"kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext", false, true},
		{"kms:GenerateDataKey*", "kms:Decrypt", false, false},
		{"arn:aws:dynamodb:*:*:table/t/index/*", "arn:aws:dynamodb:us-east-1:0:table/t/index/by_source", false, true},
		{"arn:aws:dynamodb:*:*:table/t", "arn:aws:dynamodb:us-east-1:0:table/t/index/x", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"SNS:publish", "sns:Publish", true, true},
		{"SNS:publish", "sns:Publish", false, false},
	} {
		if got := glob(tc.p, tc.s, tc.fold); got != tc.want {
			t.Errorf("glob(%q, %q, %v) = %v, want %v", tc.p, tc.s, tc.fold, got, tc.want)
		}
	}
}
