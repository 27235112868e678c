package main

// The rehearsal's reading of the synthesized template: what each function, event source
// mapping, route and role says, with CloudFormation's intrinsic functions resolved to the
// names and ARNs the resources get in the rehearsal's fake account.

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"hookline/internal/fakeaws"
)

// cfnTemplate is a synthesized template as plain data.
type cfnTemplate struct {
	resources map[string]cfnResource
	params    map[string]any
}

type cfnResource struct {
	Type       string
	Properties map[string]any
}

func newCfnTemplate(doc map[string]any) (*cfnTemplate, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Resources  map[string]cfnResource
		Parameters map[string]any
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	return &cfnTemplate{resources: raw.Resources, params: raw.Parameters}, nil
}

// ofType returns the logical ids of every resource of type typ, sorted.
func (t *cfnTemplate) ofType(typ string) []string {
	var ids []string
	for id, r := range t.resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// account is where the rehearsal pretends the stack is deployed.
type account struct {
	stack, region, id string
	fake              *fakeaws.Server // queue URLs point at it
}

// resolve replaces every intrinsic function in v (Ref, Fn::GetAtt, Fn::Join, Fn::Select,
// Fn::Sub) with its value in the rehearsal account. What it cannot resolve is an error, never a
// guess.
func (a *account) resolve(t *cfnTemplate, v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return a.intrinsic(t, k, arg)
				}
			}
		}
		out := map[string]any{}
		for k, x := range v {
			r, err := a.resolve(t, x)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := a.resolve(t, x)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// str resolves v and requires a string.
func (a *account) str(t *cfnTemplate, v any) (string, error) {
	r, err := a.resolve(t, v)
	if err != nil {
		return "", err
	}
	s, ok := r.(string)
	if !ok {
		return "", fmt.Errorf("%v resolves to %v, not a string", v, r)
	}
	return s, nil
}

func (a *account) intrinsic(t *cfnTemplate, fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		id, _ := arg.(string)
		return a.ref(t, id)
	case "Fn::GetAtt":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt %v", arg)
		}
		id, _ := parts[0].(string)
		attr, _ := parts[1].(string)
		return a.getAtt(t, id, attr)
	case "Fn::Join":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, fmt.Errorf("Fn::Join %v", arg)
		}
		sep, _ := parts[0].(string)
		list, err := a.resolve(t, parts[1])
		if err != nil {
			return nil, err
		}
		items, _ := list.([]any)
		strs := make([]string, len(items))
		for i, x := range items {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("Fn::Join of %v", x)
			}
			strs[i] = s
		}
		return strings.Join(strs, sep), nil
	case "Fn::Select":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, fmt.Errorf("Fn::Select %v", arg)
		}
		list, err := a.resolve(t, parts[1])
		if err != nil {
			return nil, err
		}
		i, _ := parts[0].(float64)
		items, _ := list.([]any)
		if int(i) < 0 || int(i) >= len(items) {
			return nil, fmt.Errorf("Fn::Select %v of %v", parts[0], items)
		}
		return items[int(i)], nil
	case "Fn::Sub":
		tmpl, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub with variables is not supported: %v", arg)
		}
		var b strings.Builder
		for {
			i := strings.Index(tmpl, "${")
			if i < 0 {
				b.WriteString(tmpl)
				return b.String(), nil
			}
			j := strings.Index(tmpl[i:], "}")
			if j < 0 {
				return nil, fmt.Errorf("Fn::Sub %q", arg)
			}
			b.WriteString(tmpl[:i])
			name := tmpl[i+2 : i+j]
			var v any
			var err error
			if id, attr, ok := strings.Cut(name, "."); ok {
				v, err = a.getAtt(t, id, attr)
			} else {
				v, err = a.ref(t, name)
			}
			if err != nil {
				return nil, err
			}
			fmt.Fprint(&b, v)
			tmpl = tmpl[i+j+1:]
		}
	}
	return nil, fmt.Errorf("intrinsic %s is not resolved by the rehearsal", fn)
}

// physical is the name CloudFormation would generate for a resource: stack-logicalId-suffix.
func (a *account) physical(id string) string { return a.stack + "-" + id + "-R3HRSL" }

func (a *account) arn(service, resource string) string {
	return "arn:aws:" + service + ":" + a.region + ":" + a.id + ":" + resource
}

func (a *account) ref(t *cfnTemplate, id string) (any, error) {
	switch id {
	case "AWS::Region":
		return a.region, nil
	case "AWS::AccountId":
		return a.id, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return a.stack, nil
	}
	if p, ok := t.params[id].(map[string]any); ok {
		if d, ok := p["Default"]; ok {
			return d, nil
		}
		return nil, fmt.Errorf("parameter %s has no default", id)
	}
	r, ok := t.resources[id]
	if !ok {
		return nil, fmt.Errorf("Ref to %s: no such resource or parameter", id)
	}
	name := a.physical(id)
	switch r.Type {
	case "AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Logs::LogGroup", "AWS::ApiGatewayV2::Integration":
		return name, nil
	case "AWS::SNS::Topic":
		return a.arn("sns", name), nil
	case "AWS::SQS::Queue":
		return a.fake.QueueURL(a.arn("sqs", name)), nil
	case "AWS::SecretsManager::Secret":
		return a.arn("secretsmanager", "secret:"+name+"-AbCdEf"), nil
	case "AWS::KMS::Key":
		return fmt.Sprintf("00000000-0000-4000-8000-%012x", crc32.ChecksumIEEE([]byte(id))), nil
	case "AWS::S3::Bucket":
		return strings.ToLower(name), nil // bucket names are lower case
	}
	return nil, fmt.Errorf("Ref to %s (%s) is not resolved by the rehearsal", id, r.Type)
}

func (a *account) getAtt(t *cfnTemplate, id, attr string) (any, error) {
	r, ok := t.resources[id]
	if !ok {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: no such resource", id, attr)
	}
	name := a.physical(id)
	switch r.Type + "." + attr {
	case "AWS::DynamoDB::Table.Arn":
		return a.arn("dynamodb", "table/"+name), nil
	case "AWS::DynamoDB::Table.StreamArn":
		return a.arn("dynamodb", "table/"+name+"/stream/2026-01-01T00:00:00.000"), nil
	case "AWS::SQS::Queue.Arn":
		return a.arn("sqs", name), nil
	case "AWS::SQS::Queue.QueueName":
		return name, nil
	case "AWS::SNS::Topic.TopicArn":
		return a.arn("sns", name), nil
	case "AWS::SNS::Topic.TopicName":
		return name, nil
	case "AWS::KMS::Key.Arn":
		key, _ := a.ref(t, id)
		return a.arn("kms", "key/"+key.(string)), nil
	case "AWS::Logs::LogGroup.Arn":
		return a.arn("logs", "log-group:"+name+":*"), nil
	case "AWS::Lambda::Function.Arn":
		return a.arn("lambda", "function:"+name), nil
	case "AWS::IAM::Role.Arn":
		return "arn:aws:iam::" + a.id + ":role/" + name, nil
	case "AWS::S3::Bucket.Arn":
		return "arn:aws:s3:::" + strings.ToLower(name), nil
	}
	return nil, fmt.Errorf("Fn::GetAtt %s.%s (%s) is not resolved by the rehearsal", id, attr, r.Type)
}

// lambdaFunction is one AWS::Lambda::Function as the rehearsal runs it.
type lambdaFunction struct {
	name      string // its directory under functions/
	id        string // logical id
	env       map[string]string
	timeout   time.Duration
	memoryMB  int
	logFormat string
	role      string              // the role's logical id
	policy    []fakeaws.Statement // every statement of every policy attached to the role
}

func (a *account) function(t *cfnTemplate, name, id string) (*lambdaFunction, error) {
	r, ok := t.resources[id]
	if !ok || r.Type != "AWS::Lambda::Function" {
		return nil, fmt.Errorf("%s: no function %s in the template", name, id)
	}
	p := r.Properties
	fn := &lambdaFunction{name: name, id: id, env: map[string]string{}, timeout: 3 * time.Second, memoryMB: 128}
	if v, ok := p["Timeout"].(float64); ok {
		fn.timeout = time.Duration(v) * time.Second
	}
	if v, ok := p["MemorySize"].(float64); ok {
		fn.memoryMB = int(v)
	}
	if lc, ok := p["LoggingConfig"].(map[string]any); ok {
		fn.logFormat, _ = lc["LogFormat"].(string)
	}
	if e, ok := p["Environment"].(map[string]any); ok {
		vars, _ := e["Variables"].(map[string]any)
		for k, v := range vars {
			s, err := a.str(t, v)
			if err != nil {
				return nil, fmt.Errorf("%s: environment %s: %w", name, k, err)
			}
			fn.env[k] = s
		}
	}
	roleAtt, ok := p["Role"].(map[string]any)["Fn::GetAtt"].([]any)
	if !ok || len(roleAtt) != 2 {
		return nil, fmt.Errorf("%s: Role %v is not a role of this stack", name, p["Role"])
	}
	fn.role, _ = roleAtt[0].(string)
	policy, err := a.rolePolicy(t, fn.role)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	fn.policy = policy
	return fn, nil
}

// rolePolicy collects the statements of the role's inline policies and of every
// AWS::IAM::Policy attached to it. A managed policy cannot be read here, so it is an error:
// the rehearsal would otherwise judge calls on part of the role.
func (a *account) rolePolicy(t *cfnTemplate, role string) ([]fakeaws.Statement, error) {
	r, ok := t.resources[role]
	if !ok || r.Type != "AWS::IAM::Role" {
		return nil, fmt.Errorf("role %s: not an AWS::IAM::Role of this stack", role)
	}
	if m, ok := r.Properties["ManagedPolicyArns"]; ok {
		return nil, fmt.Errorf("role %s has managed policies %v, which the rehearsal cannot read", role, m)
	}
	var docs []any
	if inline, ok := r.Properties["Policies"].([]any); ok {
		for _, p := range inline {
			docs = append(docs, p.(map[string]any)["PolicyDocument"])
		}
	}
	for _, id := range t.ofType("AWS::IAM::Policy") {
		p := t.resources[id].Properties
		roles, _ := p["Roles"].([]any)
		if slices.ContainsFunc(roles, func(x any) bool {
			ref, _ := x.(map[string]any)
			return ref["Ref"] == role
		}) {
			docs = append(docs, p["PolicyDocument"])
		}
	}
	var out []fakeaws.Statement
	for _, d := range docs {
		resolved, err := a.resolve(t, d)
		if err != nil {
			return nil, fmt.Errorf("role %s: policy: %w", role, err)
		}
		doc, _ := resolved.(map[string]any)
		st, err := fakeaws.ParseStatements(doc)
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", role, err)
		}
		out = append(out, st...)
	}
	return out, nil
}

// eventSourceMapping is one AWS::Lambda::EventSourceMapping, resolved.
type eventSourceMapping struct {
	id                 string
	source             string // the queue or stream ARN
	batchSize          int
	window             time.Duration
	filters            fakeaws.Filters
	patterns           []string
	reportItemFailures bool
	bisect             bool
	onFailure          string // destination ARN, "" for none
	startingPosition   string
}

// mappingOf returns the one event source mapping of the function with this logical id.
func (a *account) mappingOf(t *cfnTemplate, fnID string) (*eventSourceMapping, error) {
	var found []string
	for _, id := range t.ofType("AWS::Lambda::EventSourceMapping") {
		if ref, _ := t.resources[id].Properties["FunctionName"].(map[string]any); ref["Ref"] == fnID {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("function %s has %d event source mappings (%v), the rehearsal drives exactly one", fnID, len(found), found)
	}
	p := t.resources[found[0]].Properties
	m := &eventSourceMapping{id: found[0], batchSize: 10}
	var err error
	if m.source, err = a.str(t, p["EventSourceArn"]); err != nil {
		return nil, fmt.Errorf("mapping %s: %w", m.id, err)
	}
	if v, ok := p["BatchSize"].(float64); ok {
		m.batchSize = int(v)
	}
	if v, ok := p["MaximumBatchingWindowInSeconds"].(float64); ok {
		m.window = time.Duration(v) * time.Second
	}
	if fc, ok := p["FilterCriteria"].(map[string]any); ok {
		filters, _ := fc["Filters"].([]any)
		for _, f := range filters {
			pattern, _ := f.(map[string]any)["Pattern"].(string)
			flt, err := fakeaws.NewFilter(pattern)
			if err != nil {
				return nil, fmt.Errorf("mapping %s: %w", m.id, err)
			}
			m.filters = append(m.filters, flt)
			m.patterns = append(m.patterns, pattern)
		}
	}
	types, _ := p["FunctionResponseTypes"].([]any)
	m.reportItemFailures = slices.Contains(types, any("ReportBatchItemFailures"))
	m.bisect, _ = p["BisectBatchOnFunctionError"].(bool)
	m.startingPosition, _ = p["StartingPosition"].(string)
	if dc, ok := p["DestinationConfig"].(map[string]any); ok {
		if of, ok := dc["OnFailure"].(map[string]any); ok {
			if m.onFailure, err = a.str(t, of["Destination"]); err != nil {
				return nil, fmt.Errorf("mapping %s: on-failure destination: %w", m.id, err)
			}
		}
	}
	return m, nil
}

// httpRoute is one AWS::ApiGatewayV2::Route with the function its integration invokes.
type httpRoute struct {
	key           string // "ANY /webhooks/{source}"
	fnID          string
	payloadFormat string
	auth          string
}

func (a *account) routes(t *cfnTemplate) ([]httpRoute, error) {
	var out []httpRoute
	for _, id := range t.ofType("AWS::ApiGatewayV2::Route") {
		p := t.resources[id].Properties
		rt := httpRoute{}
		rt.key, _ = p["RouteKey"].(string)
		rt.auth, _ = p["AuthorizationType"].(string)
		target, err := a.str(t, p["Target"]) // "integrations/<Ref of the integration>"
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", rt.key, err)
		}
		integration := strings.TrimPrefix(target, "integrations/")
		// The integration's Ref resolved to its physical name; find it back by logical id.
		var ip map[string]any
		for _, iid := range t.ofType("AWS::ApiGatewayV2::Integration") {
			if a.physical(iid) == integration {
				ip = t.resources[iid].Properties
			}
		}
		if ip == nil {
			return nil, fmt.Errorf("route %s: target %s is no integration of this stack", rt.key, target)
		}
		rt.payloadFormat, _ = ip["PayloadFormatVersion"].(string)
		att, _ := ip["IntegrationUri"].(map[string]any)["Fn::GetAtt"].([]any)
		if len(att) != 2 || att[1] != "Arn" {
			return nil, fmt.Errorf("route %s: integration URI %v is not a function of this stack", rt.key, ip["IntegrationUri"])
		}
		rt.fnID, _ = att[0].(string)
		out = append(out, rt)
	}
	return out, nil
}

// match returns the route API Gateway picks for a request, and the path parameters; HTTP APIs
// prefer a route with the exact method over ANY.
func matchRoute(routes []httpRoute, method, path string) (httpRoute, map[string]string, bool) {
	var best httpRoute
	var params map[string]string
	found := false
	for _, rt := range routes {
		m, tmpl, _ := strings.Cut(rt.key, " ")
		if m != method && m != "ANY" {
			continue
		}
		p, ok := matchPath(tmpl, path)
		if !ok || (found && m == "ANY") {
			continue
		}
		best, params, found = rt, p, true
	}
	return best, params, found
}

func matchPath(tmpl, path string) (map[string]string, bool) {
	ts, ps := strings.Split(strings.Trim(tmpl, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	if len(ts) != len(ps) {
		return nil, false
	}
	params := map[string]string{}
	for i, seg := range ts {
		switch {
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") && ps[i] != "":
			params[seg[1:len(seg)-1]] = ps[i]
		case seg != ps[i]:
			return nil, false
		}
	}
	return params, true
}

func TestMatchRoute(t *testing.T) {
	t.Parallel()
	routes := []httpRoute{{key: "ANY /webhooks/{source}", fnID: "Ingest"}, {key: "GET /events", fnID: "History"},
		{key: "GET /events/{id}", fnID: "History"}, {key: "POST /webhooks/special", fnID: "Special"}}
	for _, tc := range []struct {
		method, path, fn string
		params           map[string]string
	}{
		{"POST", "/webhooks/github", "Ingest", map[string]string{"source": "github"}},
		{"GET", "/webhooks/github", "Ingest", map[string]string{"source": "github"}},
		{"POST", "/webhooks/special", "Special", map[string]string{}}, // an exact method wins over ANY
		{"GET", "/events", "History", map[string]string{}},
		{"GET", "/events/abc", "History", map[string]string{"id": "abc"}},
		{"POST", "/events", "", nil},
		{"GET", "/events/abc/more", "", nil},
		{"POST", "/webhooks/", "", nil},
	} {
		rt, params, ok := matchRoute(routes, tc.method, tc.path)
		if ok != (tc.fn != "") || rt.fnID != tc.fn || (ok && !maps.Equal(params, tc.params)) {
			t.Errorf("%s %s → %q %v %v, want %q %v", tc.method, tc.path, rt.fnID, params, ok, tc.fn, tc.params)
		}
	}
}
