// Package historyapi holds the wire types of the history API — GET /events and
// GET /events/{id}, served by the history Lambda (pkg/lambdaio) on AWS and in `hookline local`
// — so that its clients (the CLI's --json output, the load generator, tests) read the same
// structs without importing the Lambda adapter.
package historyapi

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"hookline/pkg/event"
)

// EventView is the JSON shape of one event in the history API and the CLI's --json output.
type EventView struct {
	ID              string     `json:"id"`
	Source          string     `json:"source"`
	Type            string     `json:"type"`
	Status          string     `json:"status"`
	Time            time.Time  `json:"time"`
	ReceivedAt      time.Time  `json:"received_at"`
	StoredAt        time.Time  `json:"stored_at"`
	NotifiedAt      *time.Time `json:"notified_at"`
	DeliveryID      string     `json:"delivery_id,omitempty"`
	DataVersion     string     `json:"dataversion,omitempty"`
	DataContentType string     `json:"datacontenttype,omitempty"`
	// Extensions are an incoming CloudEvent's own attributes (and its sender's source), each
	// value as JSON.
	Extensions map[string]json.RawMessage `json:"extensions,omitempty"`
	Data       json.RawMessage            `json:"data,omitempty"`
	DataBase64 string                     `json:"data_base64,omitempty"`
	// DataRef is where a body too large for the bus was stored (the claim check): s3://… on
	// AWS, blob:… locally. The data is still answered inline when it fits the answer; else
	// DataURL is a short-lived link to it.
	DataRef string `json:"dataref,omitempty"`
	DataURL string `json:"data_url,omitempty"`
	// Verification is how the sender was verified; absent on events stored before hookline
	// kept the evidence.
	Verification *Verification `json:"verification,omitempty"`
}

// Verification is the JSON shape of event.Verification:
// {"scheme": "stripe", "key": 1, "skew_ms": -412, "body_sha256": "<hex>", "signed_id": true}.
type Verification struct {
	Scheme     string `json:"scheme"`
	Key        int    `json:"key"`               // 0-based index of the secret that matched, in config order
	SkewMS     *int64 `json:"skew_ms,omitempty"` // signed timestamp minus receipt; absent when the scheme signs none
	BodySHA256 string `json:"body_sha256"`
	SignedID   bool   `json:"signed_id"` // identity came from signed material
}

// VerificationView renders v, nil when the event carries no evidence.
func VerificationView(v event.Verification) *Verification {
	if !v.Present() {
		return nil
	}
	out := &Verification{Scheme: v.Scheme, Key: v.Key, BodySHA256: v.BodySHA256Hex(), SignedID: v.SignedID}
	if v.HasSkew {
		skew := v.SkewMS
		out.SkewMS = &skew
	}
	return out
}

// ListView is the JSON shape of a page of events.
type ListView struct {
	Events     []EventView `json:"events"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// View renders r; withData includes the payload (the list leaves it out to stay small).
func View(r *event.Record, withData bool) EventView {
	e := r.Event
	v := EventView{
		ID: e.ID, Source: e.Source, Type: e.Type, Status: r.Status(),
		Time: e.Time.UTC(), ReceivedAt: e.ReceivedAt.UTC(), StoredAt: r.StoredAt.UTC(),
		DeliveryID: e.DeliveryID, DataVersion: e.DataVersion, DataContentType: e.DataContentType,
		Verification: VerificationView(e.Verification),
	}
	for _, x := range e.Extensions {
		if v.Extensions == nil {
			v.Extensions = map[string]json.RawMessage{}
		}
		v.Extensions[x.Name] = x.Value
	}
	if !r.NotifiedAt.IsZero() {
		t := r.NotifiedAt.UTC()
		v.NotifiedAt = &t
	}
	if withData {
		v.Data = e.Data
		if e.DataBase64 != nil {
			v.DataBase64 = base64.StdEncoding.EncodeToString(e.DataBase64)
		}
	}
	return v
}
