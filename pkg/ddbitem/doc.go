// Package ddbitem is the one codec between an event.Record and a DynamoDB item of the "events"
// table. Every path that touches an item goes through it: the subscriber's conditional PutItem
// (via ddbstore), the history reads, the notifier decoding a stream record's NewImage, and the
// local engine, which writes the stream records it fakes with ToStreamImage so the notifier
// sees the same JSON shape Lambda delivers.
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
