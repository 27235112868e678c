// Package ddbitem is the codec between an event.Record and a DynamoDB item of the "events"
// table in the SDK's attribute values: ddbstore's writes and history reads, and the local
// engine, which writes the stream records it fakes with ToStreamImage so the notifier sees the
// same JSON shape Lambda delivers. The Lambdas that do not link the SDK's DynamoDB types hold
// to the same item: the subscriber's ddbput writes Marshal's item as DynamoDB JSON (its test
// compares the requests), and decoding is one function, ddbjson.DecodeRecord, under Unmarshal,
// FromStreamImage (the notifier's input) and ddbjson.Unmarshal.
//
// The item's "envelope" attribute holds the whole CloudEvents JSON and is the source of truth:
// Unmarshal decodes it with event.Decode and only adds the status timestamps (stored_at,
// notified_at). source and type are copies kept for humans reading the console and for the
// history index's filters; received_key and source_group are that index's keys (package
// ddbstore), and expires_at is the TTL attribute (unix seconds). Nothing else is copied: the
// item is as small as it can be without hiding anything from the console.
//
// Times are strings in UTC with exactly nine fractional digits (FormatTime), so that comparing
// them as strings — what DynamoDB does with sort keys — orders them by time.
package ddbitem
