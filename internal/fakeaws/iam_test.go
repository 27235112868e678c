package fakeaws

import (
	"encoding/json"
	"strings"
	"testing"
)

func statements(t *testing.T, doc string) []Statement {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	st, err := ParseStatements(m)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestDecide(t *testing.T) {
	t.Parallel()
	const table = "arn:aws:dynamodb:us-east-1:000000000000:table/events"
	st := statements(t, `{"Statement":[
		{"Effect":"Allow","Action":["dynamodb:Query","dynamodb:GetItem"],"Resource":["`+table+`","`+table+`/index/by_source"]},
		{"Effect":"Allow","Action":"kms:GenerateDataKey*","Resource":"arn:aws:kms:us-east-1:000000000000:key/k"},
		{"Effect":"Allow","Action":"sns:Publish","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"1"}}},
		{"Effect":"Deny","Action":"dynamodb:GetItem","Resource":"`+table+`/index/*"}
	]}`)
	for _, tc := range []struct {
		action    string
		resources []string
		deny      string // a substring of the refusal, "" when allowed
	}{
		{"dynamodb:Query", []string{table}, ""},
		{"dynamodb:Query", []string{table + "/index/by_source"}, ""},
		{"DynamoDB:query", []string{table}, ""}, // actions are case-insensitive
		{"kms:GenerateDataKey", []string{"arn:aws:kms:us-east-1:000000000000:key/k"}, ""},
		{"dynamodb:GetItem", []string{table + "/index/by_source"}, "explicit Deny"},
		{"sns:Publish", []string{"arn:aws:s3:::b"}, "no statement allows sns:Publish"}, // conditioned allow grants nothing
		{"iam:PassRole", []string{"arn:aws:iam::0:role/r"}, "no statement allows"},
		{"dynamodb:Query", []string{table, table + "/index/by_type"}, "on " + table + "/index/by_type"},
	} {
		err := Decide(st, tc.action, tc.resources, nil)
		switch {
		case tc.deny == "" && err != nil:
			t.Errorf("%s on %v: %v, want allowed", tc.action, tc.resources, err)
		case tc.deny != "" && (err == nil || !strings.Contains(err.Error(), tc.deny)):
			t.Errorf("%s on %v: %v, want a refusal with %q", tc.action, tc.resources, err, tc.deny)
		}
	}
}

func TestDecideNotActionNotResource(t *testing.T) {
	t.Parallel()
	st := statements(t, `{"Statement":{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::*"}}`)
	if err := Decide(st, "lambda:InvokeFunction", []string{"arn:aws:lambda:us-east-1:0:function:f"}, nil); err != nil {
		t.Errorf("outside both Not lists: %v, want allowed", err)
	}
	if Decide(st, "iam:PassRole", []string{"arn:aws:iam::0:role/r"}, nil) == nil {
		t.Error("iam:PassRole is in NotAction: want refused")
	}
	if Decide(st, "s3:GetObject", []string{"arn:aws:s3:::b/k"}, nil) == nil {
		t.Error("the bucket is in NotResource: want refused")
	}
}

func TestParseStatementsRefusesUnresolved(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		`{"Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":{"Ref":"Topic"}}]}`,
		`{"Statement":[{"Effect":"Maybe","Action":"sns:Publish","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*","Principal":"*"}]}`,
		`{}`,
	} {
		var m map[string]any
		_ = json.Unmarshal([]byte(doc), &m)
		if _, err := ParseStatements(m); err == nil {
			t.Errorf("ParseStatements(%s) accepted it", doc)
		}
	}
}

// TestDecideConditions evaluates the condition operators a role's grant may carry, with
// IAM's semantics for a key the request lacks.
func TestDecideConditions(t *testing.T) {
	t.Parallel()
	const table = "arn:aws:dynamodb:us-east-1:000000000000:table/events"
	st := statements(t, `{"Statement":[
		{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"`+table+`",
		 "Condition":{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["~rejected#*","~kept#*"]}}},
		{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"`+table+`",
		 "Condition":{"ForAnyValue:StringEquals":{"dynamodb:leadingkeys":"a"}}},
		{"Effect":"Allow","Action":"dynamodb:UpdateItem","Resource":"`+table+`",
		 "Condition":{"StringLike":{"dynamodb:LeadingKeys":"a?"},"StringEquals":{"aws:PrincipalTag/team":"ops"}}},
		{"Effect":"Deny","Action":"dynamodb:PutItem","Resource":"`+table+`",
		 "Condition":{"ForAnyValue:StringEquals":{"dynamodb:LeadingKeys":"~rejected#forbidden"}}},
		{"Effect":"Allow","Action":"dynamodb:DeleteItem","Resource":"`+table+`",
		 "Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}}
	]}`)
	leading := func(v ...string) Keys { return Keys{"dynamodb:LeadingKeys": v} }
	for _, tc := range []struct {
		name   string
		action string
		keys   Keys
		deny   string // a substring of the refusal, "" when allowed
	}{
		{"every key under a granted prefix", "dynamodb:PutItem", leading("~rejected#1", "~kept#9#github"), ""},
		{"one key outside the prefixes", "dynamodb:PutItem", leading("~rejected#1", "0b9c4f0e-event"), "no statement allows"},
		{"an event id", "dynamodb:PutItem", leading("0b9c4f0e-event"), "with dynamodb:LeadingKeys=0b9c4f0e-event"},
		{"keys the fake could not read", "dynamodb:PutItem", leading(Unknowable), "no statement allows"},
		{"ForAllValues holds without the key", "dynamodb:PutItem", nil, ""},
		{"a conditioned Deny that holds", "dynamodb:PutItem", leading("~rejected#forbidden"), "explicit Deny"},
		{"ForAnyValue, names case-insensitive", "dynamodb:GetItem", leading("b", "a"), ""},
		{"ForAnyValue fails without the key", "dynamodb:GetItem", nil, "no statement allows"},
		{"every operator must hold", "dynamodb:UpdateItem", Keys{"dynamodb:LeadingKeys": {"ab"}, "aws:PrincipalTag/team": {"ops"}}, ""},
		{"one operator fails", "dynamodb:UpdateItem", Keys{"dynamodb:LeadingKeys": {"ab"}, "aws:PrincipalTag/team": {"dev"}}, "no statement allows"},
		{"a single-valued operator on two values", "dynamodb:UpdateItem", Keys{"dynamodb:LeadingKeys": {"ab", "ac"}, "aws:PrincipalTag/team": {"ops"}}, "no statement allows"},
		{"an operator Decide does not evaluate grants nothing", "dynamodb:DeleteItem", Keys{"aws:MultiFactorAuthAge": {"1"}}, "no statement allows"},
	} {
		err := Decide(st, tc.action, []string{table}, tc.keys)
		switch {
		case tc.deny == "" && err != nil:
			t.Errorf("%s: %s with %v: %v, want allowed", tc.name, tc.action, tc.keys, err)
		case tc.deny != "" && (err == nil || !strings.Contains(err.Error(), tc.deny)):
			t.Errorf("%s: %s with %v: %v, want a refusal with %q", tc.name, tc.action, tc.keys, err, tc.deny)
		}
	}
}
