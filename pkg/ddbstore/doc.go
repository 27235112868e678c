// Package ddbstore is the pipeline.Store on DynamoDB: the subscriber's conditional write, the
// notifier's "notified" mark and the history behind GET /events and `hookline events`. Items
// are encoded by package ddbitem; TableSchema is the table's shape as data, which the CDK stack
// builds the table from and the tests create it with.
//
// # Table design
//
// Base table: partition key id (S). The id is the idempotency key, so the subscriber's PutItem
// with attribute_not_exists(id) is what makes at-least-once delivery effectively-once, and
// GetItem by id is "find an event by id" (strongly consistent). The stream (INSERT only, filtered
// by the trigger) feeds the notifier; expires_at (unix seconds, ReceivedAt + retention, 90 days
// by default) is the TTL attribute.
//
// Every history index sorts by received_key = received_at (UTC, fixed nine-digit fraction) +
// "#" + id. Strings compare like the times they start with, and the id makes the key unique,
// so newest-first is a total order with ties broken by id descending, a cursor is a single key,
// and since (inclusive) / until (exclusive) are plain key ranges: a bare timestamp sorts before
// every key that starts with it. All GSIs project ALL attributes, so a page is answered from the
// index alone, without a GetItem per record; the price is that every write is copied in full
// to each index, which is fine for webhook-sized items.
//
// Access patterns:
//
//   - event by id: GetItem on the base table.
//   - by sender (source), newest first: Query GSI by_source (pk source, sk received_key).
//   - by type across senders: Query GSI by_type (pk type, sk received_key).
//   - by sender and type: Query by_source with FilterExpression type = :t. This reads the
//     source's events of other types too (DynamoDB filters after reading, so a page may take
//     several reads). It is acceptable because these are occasional human queries, a sender
//     has a handful of event types, and a since/until range bounds the read; a composite
//     source#type index would instead make every ingest write pay for a fourth full copy.
//   - newest across all sources ("what arrived in the last hour"): GSI by_time, pk time_shard
//     = "all#<n>" with n = FNV-1a(id) mod shards, sk received_key. A List queries every shard
//     (in parallel, ScanIndexForward=false, the same key range) and merges newest first.
//
// Why shard by_time: every event is written to it, and one index partition takes about 1,000
// write units per second; with a single constant partition key a burst of ingest would throttle
// that partition and, through GSI back-pressure, the base table writes of the subscriber. Four
// shards (wiring.DefaultTimeShards) give headroom of several thousand small events per second while a
// List over everything costs only four small queries; raise it with WithTimeShards (readers
// first) if ingest outgrows it. by_source and by_type are not sharded: each receives only its
// sender's or type's share of traffic. A single sender above ~1,000 writes per second would
// need the same treatment (the merge in List already handles several partitions).
//
// Pagination: the cursor is base64url JSON holding the received_key of the last record
// returned; the next page is every matching record with a smaller key, in every partition.
// List fetches one record more than the page to know whether a next page exists, so the last
// page has no cursor. GSIs are eventually consistent: a record stored a moment ago can be
// missing from List (never from Get), and a record whose received_at is older than a cursor
// position but that is stored after the page was read is not seen by the next page.
//
// Errors: a duplicate PutNew is (false, nil); a missing id is pipeline.ErrNotFound with
// KindNotFound; throttling that outlasted the SDK's retries is KindThrottled; other failures
// are wrapped with the operation and id and stay internal.
package ddbstore
