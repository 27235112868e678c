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
	if err := s.allow(req, "dynamodb:"+req.op, resources); err != nil {
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
