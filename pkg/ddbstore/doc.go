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
//   - by type across senders: Query GSI by_type_group (pk type_group, sk received_key) with
//     FilterExpression type = :t. type_group is event.TypeGroup(type): the type without its last
//     segment ("issues.opened" → "issues", "customer.subscription.created" →
//     "customer.subscription", Shopify's "orders/create" → "orders"), or the type itself when it
//     has one segment ("push").
//   - by type prefix ("?type=issues."): the same partition, type_group = "issues", with
//     FilterExpression begins_with(type, "issues."). A prefix selects the types one segment
//     below it (issues.opened, issues.closed; "customer." selects customer.created but not
//     customer.subscription.created, which "customer.subscription." selects). Both levels of
//     GitHub's <event>.<action> types are selectable this way, and a query reads one partition,
//     so it stays flat however large the table grows. An exact type reads its siblings too and
//     drops them after reading; that costs at most its group's share (for GitHub: one event's
//     actions), never the table's. The group is the type minus its LAST segment rather than its
//     first, so reverse-DNS CloudEvents types (com.example.object.deleted) do not all land in
//     one hot "com" partition.
//   - by sender and type (or type prefix): Query by_source with the same FilterExpression (plus
//     type_group = :g for a prefix). This reads the source's events of other types too
//     (DynamoDB filters after reading, so a page may take several reads). It is acceptable
//     because these are occasional human queries, a sender has a handful of event types, and a
//     since/until range bounds the read; a composite source#type index would instead make every
//     ingest write pay for a fourth full copy.
//   - newest across all sources ("what arrived in the last hour"): GSI by_time, pk time_shard
//     = "all#<n>" with n = FNV-1a(id) mod shards, sk received_key. A List queries every shard
//     (in parallel, ScanIndexForward=false, the same key range) and merges newest first.
//
// Why shard by_time: every event is written to it, and one index partition takes about 1,000
// write units per second; with a single constant partition key a burst of ingest would throttle
// that partition and, through GSI back-pressure, the base table writes of the subscriber. Four
// shards (wiring.DefaultTimeShards) give headroom of several thousand small events per second while a
// List over everything costs only four small queries; raise it with WithTimeShards (readers
// first) if ingest outgrows it. by_source and by_type_group are not sharded: each receives only
// its sender's or type group's share of traffic. A single sender above ~1,000 writes per second would
// need the same treatment (the merge in List already handles several partitions).
//
// Index change (issue 16): by_type (pk type) became by_type_group (pk type_group), which
// answers exact types and prefixes from one index: still three GSIs, so a write still costs
// four copies, not five. DynamoDB creates or deletes only one GSI per UpdateTable (API
// reference, UpdateTable GlobalSecondaryIndexUpdates), so a stack deployed before this change
// moves in two deploys: first add by_type_group beside by_type and backfill type_group on the
// existing items (items without the attribute are not in the new index), then remove by_type.
// No deployed stack predates it; new stacks get by_type_group directly.
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
