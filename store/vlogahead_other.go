//go:build !linux

package store

// valueLogAhead is Linux-only; elsewhere badger's writer does it all.
type valueLogAhead struct {
	dir      string
	fileSize int64
}

func (*valueLogAhead) kick() {}

func (*valueLogAhead) stop() {}
