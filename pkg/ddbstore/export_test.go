package ddbstore

import "time"

// SetRejectedClock makes q read the time from now, so a test can put a rejection's seven days
// and the days List walks at an exact second.
func SetRejectedClock(q *Rejected, now func() time.Time) { q.now = now }

// UnmarshalRejection is unmarshalRejection, for the item layout test.
var UnmarshalRejection = unmarshalRejection
