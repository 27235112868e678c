package fakeaws

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
)

// serveDynamoDB attributes and authorizes a DynamoDB call, then forwards it to the configured
// server, or answers as an empty table when there is none.
func (s *Server) serveDynamoDB(req *request, r *http.Request) {
	var in struct {
		TableName     string
		IndexName     string
		RequestItems  map[string]json.RawMessage
		TransactItems []map[string]struct{ TableName string }
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		jsonError(req.w, http.StatusBadRequest, "com.amazon.coral.validate#ValidationException", err.Error())
		return
	}
	var tables []string
	if in.TableName != "" {
		tables = append(tables, in.TableName)
	}
	for t := range in.RequestItems {
		tables = append(tables, t)
	}
	for _, item := range in.TransactItems {
		for _, op := range item {
			tables = append(tables, op.TableName)
		}
	}
	slices.Sort(tables)
	var resources []string
	for _, t := range slices.Compact(tables) {
		arn := s.TableARN(t)
		if in.IndexName != "" {
			arn += "/index/" + in.IndexName
		}
		resources = append(resources, arn)
	}
	if len(resources) == 0 {
		resources = []string{"*"} // ListTables and friends act on no table
	}
	var keys Keys
	if len(tables) > 0 {
		keys = Keys{"dynamodb:LeadingKeys": s.leadingKeys(req.op, req.body, tables)}
	}
	if err := s.allow(req, "dynamodb:"+req.op, resources, keys); err != nil {
		jsonError(req.w, http.StatusBadRequest, "com.amazon.coral.service#AccessDeniedException", err.Error())
		return
	}
	if s.dynamodb != "" {
		s.forward(req, r)
		return
	}
	switch req.op {
	case "GetItem", "PutItem", "UpdateItem":
		// An empty table: GetItem finds nothing, every conditional write succeeds.
		jsonReply(req.w, map[string]any{})
	case "Query":
		jsonReply(req.w, map[string]any{"Count": 0, "Items": []any{}, "ScannedCount": 0})
	default:
		s.unknown(req, "DynamoDB "+req.op)
	}
}

// DeclareTable tells the fake the partition key attribute of a table, so that its calls'
// dynamodb:LeadingKeys can be read (a table the fake was not told of has Unknowable ones).
func (s *Server) DeclareTable(name, partitionKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partitionKeys[name] = partitionKey
}

// leadingKeys reads the partition key values of a call on tables, the way IAM's
// dynamodb:LeadingKeys sees them: the Key or Item of a single-item call, every key of a batch.
// Any call it cannot read (Query, Scan, transactions, an undeclared table) gets Unknowable.
func (s *Server) leadingKeys(op string, body []byte, tables []string) []string {
	unknowable := []string{Unknowable}
	s.mu.Lock()
	pk := map[string]string{}
	for _, t := range tables {
		name, ok := s.partitionKeys[t]
		if !ok {
			s.mu.Unlock()
			return unknowable
		}
		pk[t] = name
	}
	s.mu.Unlock()
	type item = map[string]map[string]any
	var in struct {
		TableName    string
		Key, Item    item
		RequestItems map[string]json.RawMessage
	}
	if json.Unmarshal(body, &in) != nil {
		return unknowable
	}
	var values []string
	add := func(table string, it item) bool {
		av, ok := it[pk[table]]
		if !ok {
			return false
		}
		for _, v := range av { // {"S": "…"} or {"N": "…"}
			if str, ok := v.(string); ok {
				values = append(values, str)
				return true
			}
		}
		return false
	}
	switch op {
	case "GetItem", "DeleteItem", "UpdateItem":
		if !add(in.TableName, in.Key) {
			return unknowable
		}
	case "PutItem":
		if !add(in.TableName, in.Item) {
			return unknowable
		}
	case "BatchGetItem":
		for t, raw := range in.RequestItems {
			var get struct{ Keys []item }
			if json.Unmarshal(raw, &get) != nil || len(get.Keys) == 0 {
				return unknowable
			}
			for _, k := range get.Keys {
				if !add(t, k) {
					return unknowable
				}
			}
		}
	case "BatchWriteItem":
		for t, raw := range in.RequestItems {
			var writes []struct {
				PutRequest    *struct{ Item item }
				DeleteRequest *struct{ Key item }
			}
			if json.Unmarshal(raw, &writes) != nil || len(writes) == 0 {
				return unknowable
			}
			for _, w := range writes {
				ok := false
				switch {
				case w.PutRequest != nil:
					ok = add(t, w.PutRequest.Item)
				case w.DeleteRequest != nil:
					ok = add(t, w.DeleteRequest.Key)
				}
				if !ok {
					return unknowable
				}
			}
		}
	default:
		return unknowable
	}
	slices.Sort(values)
	return slices.Compact(values)
}

// TableARN is the ARN of the table with this name.
func (s *Server) TableARN(name string) string {
	return "arn:aws:dynamodb:" + s.Region + ":" + s.Account + ":table/" + name
}

// forward passes the request to the DynamoDB server unchanged and its answer back unchanged
// (the SDK checks the answer's X-Amz-Crc32 against its body).
func (s *Server) forward(req *request, r *http.Request) {
	out, err := http.NewRequestWithContext(req.ctx, http.MethodPost, s.dynamodb+r.URL.Path, bytes.NewReader(req.body))
	if err != nil {
		jsonError(req.w, http.StatusInternalServerError, "InternalServerError", err.Error())
		return
	}
	for k, vs := range r.Header {
		out.Header[k] = vs
	}
	resp, err := s.proxy.Do(out)
	if err != nil {
		jsonError(req.w, http.StatusServiceUnavailable, "ServiceUnavailable", "forward to DynamoDB: "+err.Error())
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		if k != "Content-Length" && k != "Connection" {
			req.w.Header()[k] = vs
		}
	}
	req.w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(req.w, resp.Body)
}
