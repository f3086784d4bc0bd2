package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// recentWindow is how many blocks written or hashed by this process are
// remembered as already hashed, per generation.
const recentWindow = 1 << 14

// hashingBlockstore re-hashes every block it reads against its CID, so a
// block damaged on disk is an error, never bytes handed to a reader, a
// pull's output or a peer. badger keeps no checksum it checks on read.
//
// Blocks this process wrote or already hashed lately are exempt: their
// CIDs were computed from (or checked against) those very bytes, by an
// import, by bitswap or by an earlier read. A pull reads each block right
// after fetching it, and a daemon serves the same blocks to every peer and
// gateway client that asks; hashing them each time cost a pull a second
// sha256 of every byte, and the gateway 40% of its throughput (0.6x
// docker-registry instead of 1.1x on a warm blob).
type hashingBlockstore struct {
	blockstore.Blockstore

	mu             sync.Mutex
	recent, before map[string]struct{}
}

func newHashingBlockstore(bs blockstore.Blockstore) *hashingBlockstore {
	return &hashingBlockstore{Blockstore: bs, recent: map[string]struct{}{}}
}

// remember exempts blocks from hashing: they were just written or hashed.
func (h *hashingBlockstore) remember(bs ...blocks.Block) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, b := range bs {
		if len(h.recent) >= recentWindow {
			h.before, h.recent = h.recent, make(map[string]struct{}, recentWindow)
		}
		h.recent[string(b.Cid().Hash())] = struct{}{}
	}
}

// forget drops blocks from the exemption: they are about to be deleted,
// and a later write of the same CID must earn it again.
func (h *hashingBlockstore) forget(c cid.Cid) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.recent, string(c.Hash()))
	delete(h.before, string(c.Hash()))
}

func (h *hashingBlockstore) isRecent(c cid.Cid) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, now := h.recent[string(c.Hash())]
	_, before := h.before[string(c.Hash())]
	return now || before
}

func (h *hashingBlockstore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b, err := h.Blockstore.Get(ctx, c)
	if err != nil || h.isRecent(c) {
		return b, err
	}
	sum, err := c.Prefix().Sum(b.RawData())
	if err != nil {
		return nil, fmt.Errorf("block %s: %w", c, err)
	}
	if !sum.Equals(c) {
		return nil, fmt.Errorf("block %s: %w (damaged on disk: run imgp2p verify)", c, blockstore.ErrHashMismatch)
	}
	h.remember(b)
	return b, nil
}

func (h *hashingBlockstore) Put(ctx context.Context, b blocks.Block) error {
	if err := h.Blockstore.Put(ctx, b); err != nil {
		return err
	}
	h.remember(b)
	return nil
}

func (h *hashingBlockstore) PutMany(ctx context.Context, bs []blocks.Block) error {
	if err := h.Blockstore.PutMany(ctx, bs); err != nil {
		return err
	}
	h.remember(bs...)
	return nil
}

func (h *hashingBlockstore) DeleteBlock(ctx context.Context, c cid.Cid) error {
	h.forget(c)
	return h.Blockstore.DeleteBlock(ctx, c)
}
