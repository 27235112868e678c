package ddbjson

import (
	"hash/fnv"
	"strconv"
	"time"
)

// The names of the events table's indexes, control items and the attributes only those items
// carry: the one home of what ddbstore writes and reads through the SDK and the adapters without
// it (ddbput, ddbnotify, ddbhistory, ddbkeep) as DynamoDB JSON, so a name changed here changes
// every side. An event item's attributes are in record.go (AttrID, ...), the control items'
// prefix in keys.go (ControlPrefix); ddbstore's doc.go describes the table.

// The history index and its registry of partitions.
const (
	// IndexByGroup is the events table's one history index: pk source_group (SourceGroup),
	// sk received_key (ReceivedKey).
	IndexByGroup = "by_group"
	// GroupsID is the control item that lists every history partition (source_group) the index
	// holds, in its string set AttrGroups.
	GroupsID   = ControlPrefix + "groups"
	AttrGroups = "groups"
)

// A digest lives in DigestShards control items (DigestID), each a string set AttrDigestIDs of
// event ids (an id goes to DigestShard(id)); AttrDigestTaken closes a shard to adds,
// AttrDigestDone records that the email went out. The items expire DigestKeep after they are
// due. ddbstore's digest.go says why.
const (
	DigestShards    = 4
	DigestKeep      = 48 * time.Hour
	AttrDigestIDs   = "ids"
	AttrDigestTaken = "taken"
	AttrDigestDone  = "done"
)

// DigestID is the id of shard n of the digest of source due at due:
// "~digest#<source>#<due, unix seconds>#<n>".
func DigestID(source string, due time.Time, shard int) string {
	return ControlPrefix + "digest#" + source + "#" + strconv.FormatInt(due.Unix(), 10) + "#" + strconv.Itoa(shard)
}

// DigestShard is the shard that lists event id: FNV-1a(id) mod DigestShards.
func DigestShard(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % DigestShards)
}

// The quarantine: refused requests kept in the events table (ddbstore's "Refused requests").
const (
	// RejectedPrefix starts the id of every kept rejection: "~rejected#<uuid>".
	RejectedPrefix = ControlPrefix + "rejected#"
	// KeptCounterPrefix starts the id of the per-source, per-minute counters that cap how many
	// rejections all ingest instances keep together (KeptCounterID).
	KeptCounterPrefix = ControlPrefix + "kept#"
	// IndexRejected lists kept rejections newest first: pk AttrRejectedDay, sk AttrRejectedKey.
	// Only rejections carry these attributes, so no event is copied into it.
	IndexRejected = "rejected_by_day"
	// RejectedDayFormat is AttrRejectedDay's format, in UTC.
	RejectedDayFormat = "2006-01-02"
)

// Attribute names of a rejection item besides AttrID, AttrSource and AttrExpiresAt (the
// table's TTL), and of a counter.
const (
	AttrRejectedDay  = "rejected_day" // IndexRejected's partition key: RejectedDayFormat
	AttrRejectedKey  = "rejected_key" // IndexRejected's sort key: ReceivedKey(received, uuid)
	AttrReason       = "reason"
	AttrDetail       = "detail"
	AttrSourceIP     = "source_ip"     // absent when empty
	AttrRawPath      = "raw_path"      // absent when empty
	AttrRawQuery     = "raw_query"     // absent when empty
	AttrHeader       = "header"        // a map of strings
	AttrSealed       = "sealed"        // binary, absent when nil
	AttrBody         = "body"          // binary, empty (not absent) for an empty body
	AttrBodySize     = "body_size"     // the body's size as received
	AttrReadmittedAt = "readmitted_at" // set when the request is admitted after all
	AttrEventID      = "event_id"      // the event it was admitted as
	AttrKeptCount    = "n"             // a counter's count
)

// KeptCounterID is the id of the counter of the rejections kept for key (a source name, ""
// for names no source has) in minute (unix minutes).
func KeptCounterID(minute int64, key string) string {
	return KeptCounterPrefix + strconv.FormatInt(minute, 10) + "#" + key
}
