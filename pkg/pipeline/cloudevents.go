package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	"hookline/pkg/event"
	"hookline/pkg/source"
	"hookline/pkg/verify"
)

// CloudEvents media types (CloudEvents HTTP protocol binding 1.0).
const (
	ceStructured = "application/cloudevents+json"
	ceBatch      = "application/cloudevents-batch+json"
)

// MaxBatchEvents is the most events one batched post may hold. Each is published on its own,
// so a batch must be acknowledged within the ingest function's timeout (10 s on AWS); a larger
// one would answer 5xx after publishing part of it, and every retry would publish it again.
// Locally a 20,000-event batch (1.8 MB) held its request 19 s.
const MaxBatchEvents = 100

// batchTooLarge refuses a batch of n > MaxBatchEvents events (413).
type batchTooLarge struct{ n int }

func (e batchTooLarge) Error() string {
	return fmt.Sprintf("the batch holds %d events; at most %d are taken per request: send it in parts", e.n, MaxBatchEvents)
}

// incomingCE is one CloudEvent a sender posted, in any content mode.
type incomingCE struct {
	ID, Source, Type string
	Time             time.Time
	ContentType      string
	Data             json.RawMessage // structured mode: the data member, as sent
	DataBase64       []byte          // structured mode: data_base64, decoded
	Body             []byte          // binary mode: the HTTP body is the data
	Binary           bool
	Extensions       []event.Extension
}

// acceptCloudEvents stores every event of a CloudEvents post (structured, binary or batched).
// Identity is ce-source + ce-id where that is trusted: a token source's sender, or an HMAC
// over a structured or batched body (the ids are inside the signed bytes). In binary mode
// with an HMAC the ce-* headers are unsigned: the id is the signed {id} of the template
// (delivery header ce-id) when there is one, else the body.
func (s *Ingest) acceptCloudEvents(ctx context.Context, src *source.Source, r IngestRequest, res verify.Result, received time.Time) (Accepted, error) {
	ces, err := parseCloudEvents(r.Header, r.Body)
	if err != nil {
		kind := KindInvalid
		if errors.As(err, new(batchTooLarge)) {
			kind = KindTooLarge
		}
		return Accepted{}, &Error{Kind: kind, Detail: err.Error(), Err: err}
	}
	bodySum := sha256.Sum256(r.Body)
	acc := Accepted{IDs: make([]string, 0, len(ces))}
	events := make([]*event.Event, 0, len(ces))
	for i, ce := range ces {
		e := &event.Event{
			Source: src.Name, Type: ce.Type, Time: received, ReceivedAt: received, DeliveryID: ce.ID,
			Verification: event.Verification{Scheme: src.Scheme, Key: res.Key, BodySHA256: bodySum},
			Extensions:   append([]event.Extension{{Name: event.ExtSenderSource, Value: jsonString(ce.Source)}}, ce.Extensions...),
		}
		if !ce.Time.IsZero() {
			e.Time = ce.Time.UTC()
		}
		if !res.Timestamp.IsZero() {
			e.Verification.SkewMS, e.Verification.HasSkew = res.Timestamp.Sub(received).Milliseconds(), true
		}
		signedIDs := src.TrustKey || !ce.Binary // token holders are trusted; HMAC signs the ids in the body
		switch {
		case signedIDs:
			e.ID = event.DeliveryID(src.Name, ce.Source+"\n"+ce.ID)
			e.Verification.SignedID = !src.TrustKey
		case res.ID != "":
			e.ID = event.DeliveryID(src.Name, res.ID)
			e.Verification.SignedID = true
		default:
			e.ID = event.BodyHashID(src.Name, bodySum)
			e.Verification.SignedID = true
		}
		if err := setCloudEventData(e, ce); err != nil {
			kind := KindInvalid
			if errors.Is(err, event.ErrUnsupportedMedia) {
				kind = KindUnsupportedMedia
			}
			return Accepted{}, &Error{Kind: kind, Detail: fmt.Sprintf("event %d (id %q): %v", i, ce.ID, err), Err: err}
		}
		if err := e.Validate(); err != nil {
			return Accepted{}, &Error{Kind: KindInvalid, Detail: fmt.Sprintf("event %d (id %q): %v", i, ce.ID, err), Err: err}
		}
		events = append(events, e)
	}
	// Everything was checked before anything is published: a bad entry refuses the whole batch.
	// A failure halfway through a batch answers 503; the retry republishes the same ids, which
	// the subscriber's conditional write stores once.
	for i, e := range events {
		// A binary-mode body is the request body, so a large one can take the claim check
		// (its hash is the evidence's); a structured entry's data is not bytes anyone sent alone.
		var body []byte
		if ces[i].Binary {
			body = ces[i].Body
		}
		if err := s.publish(ctx, e, body); err != nil {
			return Accepted{ID: e.ID, Type: e.Type}, err // the log line names the event that failed
		}
		acc.IDs = append(acc.IDs, e.ID)
	}
	acc.ID, acc.Type, acc.Verification = events[0].ID, events[0].Type, events[0].Verification
	mt, _, _ := strings.Cut(r.Header.Get("content-type"), ";")
	acc.Batch = strings.EqualFold(strings.TrimSpace(mt), ceBatch)
	return acc, nil
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always encodes
	return b
}

// setCloudEventData puts the event's data into the envelope as hookline keeps any body: JSON
// as JSON, text as text, anything else base64.
func setCloudEventData(e *event.Event, ce incomingCE) error {
	switch {
	case ce.Binary:
		return e.SetData(ce.ContentType, ce.Body)
	case ce.DataBase64 != nil:
		ct := ce.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		e.DataContentType, e.DataBase64 = ct, ce.DataBase64
		return nil
	case len(ce.Data) == 0 || bytes.Equal(ce.Data, []byte("null")):
		e.DataContentType = ce.ContentType
		return nil
	}
	ct := ce.ContentType
	if ct == "" {
		ct = "application/json" // the CloudEvents JSON format's default
	}
	// In structured mode JSON data is a JSON value and text data a JSON string: either way the
	// member is already what the envelope holds.
	e.DataContentType, e.Data = ct, ce.Data
	return nil
}

// parseCloudEvents reads the events of a request by its content mode.
func parseCloudEvents(h verify.Header, body []byte) ([]incomingCE, error) {
	ct := h.Get("content-type")
	mt, _, _ := strings.Cut(ct, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case ceStructured:
		ce, err := structuredCE(body)
		if err != nil {
			return nil, err
		}
		return []incomingCE{ce}, nil
	case ceBatch:
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, fmt.Errorf("a %s body is a JSON array of events: %v", ceBatch, err)
		}
		if len(raws) == 0 {
			return nil, errors.New("the batch holds no events")
		}
		if len(raws) > MaxBatchEvents {
			return nil, batchTooLarge{len(raws)}
		}
		out := make([]incomingCE, 0, len(raws))
		seen := map[string]int{}
		for i, raw := range raws {
			ce, err := structuredCE(raw)
			if err != nil {
				return nil, fmt.Errorf("event %d: %w", i, err)
			}
			k := ce.Source + "\n" + ce.ID
			if j, dup := seen[k]; dup {
				return nil, fmt.Errorf("events %d and %d have the same source and id %q", j, i, ce.ID)
			}
			seen[k] = i
			out = append(out, ce)
		}
		return out, nil
	}
	if h.Get("ce-specversion") == "" {
		return nil, fmt.Errorf("not a CloudEvent: send Content-Type %s or %s, or the ce-* headers of binary mode", ceStructured, ceBatch)
	}
	return binaryCE(h, ct, body)
}

// structuredCE reads one event in the JSON event format.
func structuredCE(b []byte) (incomingCE, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return incomingCE{}, fmt.Errorf("not a JSON object: %v", err)
	}
	str := func(k string) (string, error) {
		raw, ok := m[k]
		if !ok {
			return "", nil
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", fmt.Errorf("%s is not a string", k)
		}
		return v, nil
	}
	var ce incomingCE
	var spec, t string
	var err error
	for _, f := range []struct {
		name string
		dst  *string
	}{{"specversion", &spec}, {"id", &ce.ID}, {"source", &ce.Source}, {"type", &ce.Type}, {"time", &t}, {"datacontenttype", &ce.ContentType}} {
		if *f.dst, err = str(f.name); err != nil {
			return incomingCE{}, err
		}
	}
	if err := checkRequired(spec, ce.ID, ce.Source, ce.Type); err != nil {
		return incomingCE{}, err
	}
	if t != "" {
		if ce.Time, err = time.Parse(time.RFC3339Nano, t); err != nil {
			return incomingCE{}, fmt.Errorf("time %q is not RFC 3339", t)
		}
	}
	if raw, ok := m["data_base64"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return incomingCE{}, errors.New("data_base64 is not a string")
		}
		if ce.DataBase64, err = decodeBase64(s); err != nil {
			return incomingCE{}, errors.New("data_base64 is not base64")
		}
		if _, both := m["data"]; both {
			return incomingCE{}, errors.New("both data and data_base64 are set")
		}
	}
	ce.Data = m["data"]
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch k {
		case "specversion", "id", "source", "type", "time", "datacontenttype", "data", "data_base64":
			continue
		}
		if err := event.CheckExtension(k, m[k]); err != nil {
			return incomingCE{}, err
		}
		ce.Extensions = append(ce.Extensions, event.Extension{Name: k, Value: m[k]})
	}
	return ce, nil
}

// binaryCE reads one event in binary mode: attributes in ce-* headers, data in the body.
func binaryCE(h verify.Header, ct string, body []byte) ([]incomingCE, error) {
	ce := incomingCE{ID: h.Get("ce-id"), Source: h.Get("ce-source"), Type: h.Get("ce-type"), ContentType: ct, Body: body, Binary: true}
	if err := checkRequired(h.Get("ce-specversion"), ce.ID, ce.Source, ce.Type); err != nil {
		return nil, err
	}
	if t := h.Get("ce-time"); t != "" {
		var err error
		if ce.Time, err = time.Parse(time.RFC3339Nano, t); err != nil {
			return nil, fmt.Errorf("ce-time %q is not RFC 3339", t)
		}
	}
	lister, ok := h.(interface{ Names() []string })
	if !ok {
		return []incomingCE{ce}, nil
	}
	for _, n := range lister.Names() {
		name, ok := strings.CutPrefix(n, "ce-")
		if !ok {
			continue
		}
		switch name {
		case "specversion", "id", "source", "type", "time":
			continue
		}
		v := jsonString(h.Get(n))
		if err := event.CheckExtension(name, v); err != nil {
			return nil, err
		}
		ce.Extensions = append(ce.Extensions, event.Extension{Name: name, Value: v})
	}
	return []incomingCE{ce}, nil
}

func checkRequired(spec, id, src, typ string) error {
	switch {
	case spec != "1.0":
		return fmt.Errorf("specversion is %q; hookline takes CloudEvents 1.0", spec)
	case id == "":
		return errors.New("id is missing")
	case src == "":
		return errors.New("source is missing")
	case typ == "":
		return errors.New("type is missing")
	case len(typ) > source.MaxMetaLen:
		// The history indexes events by type (a DynamoDB key holds at most 2,048 bytes): a longer
		// one would be answered 202 and then fail every write on AWS. Other schemes cut theirs.
		return fmt.Errorf("type is %d bytes; at most %d are taken", len(typ), source.MaxMetaLen)
	}
	for _, a := range [...]struct{ name, v string }{{"id", id}, {"source", src}, {"type", typ}} {
		if strings.ContainsFunc(a.v, unicode.IsControl) {
			return fmt.Errorf("%s holds a control character, which a CloudEvents 1.0 String may not", a.name)
		}
	}
	return nil
}

func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return b, nil
}
