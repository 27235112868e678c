package ddbjson_test

import (
	"testing"
	"time"

	"hookline/pkg/ddbjson"
)

// TestNamesOnTheWire pins the names of the control items, the indexes and their attributes as
// tables already hold them (ddbitem's item golden pins an event item's): ddbstore and the
// adapters without the SDK both take them from here, so their tests comparing one side's
// requests with the other's cannot see a name changed here; a renamed item or attribute would
// orphan what a deployed table holds, and a renamed index would not match the stack's.
func TestNamesOnTheWire(t *testing.T) {
	due := time.Date(2026, 12, 2, 15, 0, 0, 0, time.FixedZone("CET", 3600))
	for _, n := range []struct{ got, want string }{
		{ddbjson.IndexByGroup, "by_group"},
		{ddbjson.GroupsID, "~groups"},
		{ddbjson.AttrGroups, "groups"},
		{ddbjson.DigestID("github", due, 3), "~digest#github#1796220000#3"},
		{ddbjson.AttrDigestIDs, "ids"},
		{ddbjson.AttrDigestTaken, "taken"},
		{ddbjson.AttrDigestDone, "done"},
		{ddbjson.RejectedPrefix, "~rejected#"},
		{ddbjson.KeptCounterID(29401234, "gh"), "~kept#29401234#gh"},
		{ddbjson.KeptCounterID(29401234, ""), "~kept#29401234#"},
		{ddbjson.IndexRejected, "rejected_by_day"},
		{due.UTC().Format(ddbjson.RejectedDayFormat), "2026-12-02"},
		{ddbjson.AttrRejectedDay, "rejected_day"},
		{ddbjson.AttrRejectedKey, "rejected_key"},
		{ddbjson.AttrReason, "reason"},
		{ddbjson.AttrDetail, "detail"},
		{ddbjson.AttrSourceIP, "source_ip"},
		{ddbjson.AttrRawPath, "raw_path"},
		{ddbjson.AttrRawQuery, "raw_query"},
		{ddbjson.AttrHeader, "header"},
		{ddbjson.AttrSealed, "sealed"},
		{ddbjson.AttrBody, "body"},
		{ddbjson.AttrBodySize, "body_size"},
		{ddbjson.AttrReadmittedAt, "readmitted_at"},
		{ddbjson.AttrEventID, "event_id"},
		{ddbjson.AttrKeptCount, "n"},
		{ddbjson.SourceGroup("github", "issues.opened"), "github#issues"},
	} {
		if n.got != n.want {
			t.Errorf("got %q, want %q", n.got, n.want)
		}
	}
	if ddbjson.DigestShards != 4 || ddbjson.DigestKeep != 48*time.Hour {
		t.Errorf("digests: %d shards kept %v, want 4 kept 48h", ddbjson.DigestShards, ddbjson.DigestKeep)
	}
}

// TestDigestShard: FNV-1a of the id mod 4, as the shards of digests already stored were
// chosen (the values computed apart from Go's hash/fnv).
func TestDigestShard(t *testing.T) {
	for id, want := range map[string]int{"a": 0, "b": 1, "c": 2, "d": 3, "e2": 2, "0195f0a4-7b1c-7d2e-8f3a-4b5c6d7e8f90": 3} {
		if got := ddbjson.DigestShard(id); got != want {
			t.Errorf("DigestShard(%q) = %d, want %d", id, got, want)
		}
	}
}
