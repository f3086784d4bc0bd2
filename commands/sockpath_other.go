//go:build !linux

package commands

// viaShortPath runs fn with path as it is: there is no /proc/self/fd to
// shorten it through, so a repo path too long for a socket address fails
// to bind or connect.
func viaShortPath(path string, fn func(path string) error) error { return fn(path) }
