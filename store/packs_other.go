//go:build !linux

package store

import (
	"errors"
	"os"
)

// errNoDirectIO: direct I/O is used on Linux only; elsewhere packs are
// written and read through the page cache.
var errNoDirectIO = errors.New("direct I/O not supported")

func writeDirectAt(string, [][]byte, int64) error { return errNoDirectIO }

func openDirect(string) (*os.File, error) { return nil, errNoDirectIO }

// punchHoles is Linux-only; elsewhere a deleted record's space comes back
// with its whole pack.
func punchHoles(string, []span) error { return errNoPunch }

func isAligned([]byte) bool { return true }

func alignedBuffer(n int) []byte { return make([]byte, n) }
