// Package ddbstore is the pipeline.Store on DynamoDB: the subscriber's conditional write, the
// notifier's "notified" mark and the history behind GET /events and `hookline events`. Items
// are encoded by package ddbitem; TableSchema is the table's shape as data, which the CDK stack
// builds the table from and the tests create it with.
//
// # Table design
//
// Base table: partition key id (S). The id is the idempotency key, so the subscriber's PutItem
// with attribute_not_exists(id) is what makes at-least-once delivery effectively-once, and
// GetItem by id is "find an event by id" (strongly consistent). The stream (INSERT of an event
// only, filtered by the trigger) feeds the notifier; expires_at (unix seconds, ReceivedAt +
// retention, 90 days by default) is the TTL attribute.
//
// One history index, by_group: partition key source_group = the source and the type group
// (event.TypeGroup: the type without its last segment), "github#issues" for issues.opened from
// github; sort key received_key = received_at (UTC, fixed nine-digit fraction) + "#" + id.
// Strings compare like the times they start with, and the id makes the key unique, so
// newest-first is a total order with ties broken by id descending, a cursor is a single key,
// and since (inclusive) / until (exclusive) are plain key ranges: a bare timestamp sorts before
// every key that starts with it. The index projects the keys and the type, nothing else.
//
// Why one index, projecting so little: every event writes one entry to each index, and
// `hookline cost` shows what that costs — at a million 1 KB events a month, each index entry is
// $0.625 per million, against a budget of $5.00 for the whole pipeline (see the README's cost
// section). Three indexes projecting ALL (the design before) wrote four 2 KB copies of every
// event, and the notified mark rewrote all four. Now a new event costs its base item plus one
// small entry, and the mark rewrites only the base item (notified_at is not projected).
//
// Access patterns, all flat in the size of the table (each reads one page per partition):
//
//   - event by id: GetItem on the base table.
//   - by sender and type, or type prefix ("?source=github&type=issues."): one partition,
//     source#group, with FilterExpression type = :t, or begins_with(type, :p) for a prefix —
//     within one group that keeps exactly the types one segment below the prefix
//     (event.MatchesType). An exact type reads its siblings too and drops them after reading;
//     that costs at most its group's share, never the table's.
//   - by sender: every registered partition of that source, merged newest first.
//   - by type or prefix across senders: every registered partition of that type group.
//   - newest across all ("what arrived in the last hour"): every registered partition.
//
// The registry is one control item (id "~groups", ddbitem.IsControl: event ids are UUIDs and
// never start with "~") whose string set lists every source_group ever written. PutNew adds the
// event's group before writing the event (once per Store, i.e. per Lambda instance: ADD to a
// set is idempotent), so a listed event's partition is always registered. A List that spans
// partitions reads it with one consistent GetItem, queries the partitions in parallel (each for
// about its share of the page, refilled when short) and merges them. The fan-out is the number
// of (source, type group) pairs a query spans — a handful per source for most senders, a few
// dozen for a busy GitHub organisation — not the number of events. Pairs are never removed: a
// source that stops sending leaves partitions that answer empty.
//
// A page is built from index entries (keys and type), then its items are read with one
// BatchGetItem (up to 100 keys a request, unprocessed keys retried), eventually consistent like
// the index: reads are occasional human queries, writes are every event, so the design pays at
// read time. An item that expired between the two reads is left out of the page.
//
// Hot partitions: one index partition takes about 1,000 write units per second, so a single
// source and type group above ~1,000 events per second would throttle (and, through GSI
// back-pressure, slow the subscriber's writes). Spreading such a group over suffixed partitions
// ("github#push#0".."#3") is what the registry's merge already supports, if a sender ever needs it.
//
// Index change (issue 12): by_source, by_type_group and by_time (all projecting ALL, the last
// sharded over "all#<n>") became by_group. DynamoDB creates or deletes one GSI per UpdateTable,
// so a deployed stack would move in steps: add by_group and backfill source_group on the
// existing items (and the registry item), then drop the old indexes one deploy at a time. No
// deployed stack predates it.
//
// Pagination: the cursor (pkg/ddbhistory's, like List's algorithm, which the history function
// runs without the SDK) is base64url JSON holding the received_key of the last record
// returned; the next page is every matching record with a smaller key, in every partition.
// List fetches one entry more than the page to know whether a next page exists, so the last
// page has no cursor. GSIs are eventually consistent: a record stored a moment ago can be
// missing from List (never from Get), and a record whose received_at is older than a cursor
// position but that is stored after the page was read is not seen by the next page.
//
// # Refused requests
//
// Rejected is the quarantine in the same table (pipeline.RejectedStore): a refused request is
// the item "~rejected#<uuid>" (a "~" id, so never an event) with the keys rejected_day (UTC
// date) and rejected_key (ReceivedKey) of the sparse index rejected_by_day, which projects
// only source and reason. It has no source_group and no envelope: it is in no history index,
// and the notifier's stream filter drops its INSERT. List reads at most eight day partitions
// (the 7 days a rejection is kept: expires_at, the TTL), newest first, and the page's items
// with one BatchGetItem per 100. Take caps how many all ingest instances keep: one conditional
// UpdateItem on "~kept#<unix minute>#<source>" (ADD n while n < the limit), deleted by TTL.
// The ingest function makes those two writes with pkg/ddbkeep instead, which does not link the
// SDK's DynamoDB package (its cold start); its tests hold both to the same requests.
//
// Errors: a duplicate PutNew is (false, nil); a missing id (or a control item's) is
// pipeline.ErrNotFound with KindNotFound; throttling that outlasted the SDK's retries is
// KindThrottled; other failures are wrapped with the operation and id and stay internal.
package ddbstore
