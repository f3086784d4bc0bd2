//go:build !linux

package store

// trimMappings is Linux-only; elsewhere the kernel's own reclaim applies.
func trimMappings(string) {}
