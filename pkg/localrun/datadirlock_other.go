//go:build !unix

package localrun

// lockDataDir has no flock here: a second server on the same data dir is not refused.
func lockDataDir(string) (func(), error) { return func() {}, nil }
