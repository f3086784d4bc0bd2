package store

import (
	"context"
	"path/filepath"
	"sync/atomic"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// trimEvery is how many bytes of blocks pass between trims of badger's
// mappings: it bounds the file-backed part of the process's RSS.
const trimEvery = 16 << 20

// aheadEvery is how many bytes of block writes pass between rounds of
// work ahead of badger's value-log writer (see valueLogAhead).
const aheadEvery = 8 << 20

// trimmingBlockstore counts the block bytes read and written and, every
// trimEvery bytes, drops this process's page-table entries for badger's
// memory-mapped files. badger reads and writes its value log through
// shared mmaps, so every block that passes through stays counted in the
// process's RSS (page cache, reclaimable, but a 1 GiB pull would otherwise
// show over 1 GiB of RSS). The data stays in the page cache; the next
// access maps it again.
type trimmingBlockstore struct {
	blockstore.Blockstore
	dir     string
	counter atomic.Int64
	ahead   *valueLogAhead
	written atomic.Int64
}

func (t *trimmingBlockstore) account(n int) {
	if t.counter.Add(int64(n)) >= trimEvery {
		t.counter.Store(0)
		trimMappings(t.dir)
	}
}

// wrote counts block writes for both the trims and the rounds ahead of
// the writer. Rounds trim too, but one can wait on a busy disk for as long
// as it takes; the trims here bound RSS regardless.
func (t *trimmingBlockstore) wrote(n int) {
	t.account(n)
	if t.written.Add(int64(n)) >= aheadEvery {
		t.written.Store(0)
		t.ahead.kick()
	}
}

func (t *trimmingBlockstore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b, err := t.Blockstore.Get(ctx, c)
	if err == nil {
		t.account(len(b.RawData()))
	}
	return b, err
}

func (t *trimmingBlockstore) Put(ctx context.Context, b blocks.Block) error {
	t.wrote(len(b.RawData()))
	return t.Blockstore.Put(ctx, b)
}

func (t *trimmingBlockstore) PutMany(ctx context.Context, bs []blocks.Block) error {
	for _, b := range bs {
		t.wrote(len(b.RawData()))
	}
	return t.Blockstore.PutMany(ctx, bs)
}

// ReleaseMappedPages drops this process's page-table entries for the
// repo's memory-mapped files (the data stays in the page cache). Opening
// the repo and serving peers touch those files outside the block paths
// that trim themselves; a long-running daemon calls this now and then.
func (r *Repo) ReleaseMappedPages() { trimMappings(filepath.Join(r.Path, "datastore")) }
