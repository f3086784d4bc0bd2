package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// recentWindow is how many blocks written by this process are remembered
// as already hashed, per generation.
const recentWindow = 1 << 14

// hashingBlockstore re-hashes every block it reads against its CID, so a
// block damaged on disk is an error, never bytes handed to a reader, a
// pull's output or a peer. badger keeps no checksum it checks on read.
//
// Blocks this process wrote moments ago are exempt: their CIDs were just
// computed from (or checked against) those very bytes, by an import or by
// bitswap, and a pull reads each block right after fetching it. Hashing
// them again would cost a pull a second sha256 of every byte for nothing.
type hashingBlockstore struct {
	blockstore.Blockstore

	mu             sync.Mutex
	recent, before map[string]struct{}
}

func newHashingBlockstore(bs blockstore.Blockstore) *hashingBlockstore {
	return &hashingBlockstore{Blockstore: bs, recent: map[string]struct{}{}}
}

func (h *hashingBlockstore) wrote(bs ...blocks.Block) {
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
	return b, nil
}

func (h *hashingBlockstore) Put(ctx context.Context, b blocks.Block) error {
	if err := h.Blockstore.Put(ctx, b); err != nil {
		return err
	}
	h.wrote(b)
	return nil
}

func (h *hashingBlockstore) PutMany(ctx context.Context, bs []blocks.Block) error {
	if err := h.Blockstore.PutMany(ctx, bs); err != nil {
		return err
	}
	h.wrote(bs...)
	return nil
}

func (h *hashingBlockstore) DeleteBlock(ctx context.Context, c cid.Cid) error {
	h.forget(c)
	return h.Blockstore.DeleteBlock(ctx, c)
}
