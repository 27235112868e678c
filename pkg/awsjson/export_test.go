package awsjson

import "time"

// SetClock makes c sign at now's time, so a test can hold its requests to ones the SDK signed.
func SetClock(c *Client, now func() time.Time) { c.now = now }
