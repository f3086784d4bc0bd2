package store

import (
	"context"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	logging "github.com/ipfs/go-log/v2"
)

var log = logging.Logger("imgp2p/store")

// splitBlockstore keeps blocks of packBlockMin bytes or more in packs and
// the rest in badger. Reads look in both, so a repo written before packs
// existed (format 1) reads as it did, its large blocks in badger.
type splitBlockstore struct {
	small blockstore.Blockstore
	packs *packBlocks
}

var _ blockstore.Blockstore = (*splitBlockstore)(nil)

func (s *splitBlockstore) Has(ctx context.Context, c cid.Cid) (bool, error) {
	if ok, err := s.packs.has(ctx, c); ok || err != nil {
		return ok, err
	}
	return s.small.Has(ctx, c)
}

func (s *splitBlockstore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b, err := s.packs.get(ctx, c)
	if ipld.IsNotFound(err) {
		return s.small.Get(ctx, c)
	}
	return b, err
}

func (s *splitBlockstore) GetSize(ctx context.Context, c cid.Cid) (int, error) {
	n, err := s.packs.size(ctx, c)
	if ipld.IsNotFound(err) {
		return s.small.GetSize(ctx, c)
	}
	return n, err
}

func (s *splitBlockstore) Put(ctx context.Context, b blocks.Block) error {
	if !packable(b) {
		return s.small.Put(ctx, b)
	}
	return s.putPacked(ctx, b)
}

// packable reports whether b goes to a pack: large enough, and no larger
// than a pack's reads take (a 5 MiB block would be stored and then never
// read back), with a multihash its record's header page can hold.
func packable(b blocks.Block) bool {
	n := len(b.RawData())
	return n >= packBlockMin && n <= maxPackBlock && len(b.Cid().Hash()) <= maxRecordHash
}

func (s *splitBlockstore) putPacked(ctx context.Context, b blocks.Block) error {
	// A format-1 repo's copy in badger is as good as a packed one.
	if ok, err := s.small.Has(ctx, b.Cid()); ok && err == nil {
		return nil
	}
	return s.packs.put(ctx, b)
}

func (s *splitBlockstore) PutMany(ctx context.Context, bs []blocks.Block) error {
	var small []blocks.Block
	for _, b := range bs {
		if !packable(b) {
			small = append(small, b)
			continue
		}
		if err := s.putPacked(ctx, b); err != nil {
			return err
		}
	}
	if len(small) == 0 {
		return nil
	}
	return s.small.PutMany(ctx, small)
}

// DeleteBlock deletes the block wherever it is: a format-1 repo may hold
// a large block in badger.
func (s *splitBlockstore) DeleteBlock(ctx context.Context, c cid.Cid) error {
	if packed, err := s.packs.delete(ctx, c); packed || err != nil {
		return err
	}
	return s.small.DeleteBlock(ctx, c)
}

// AllKeysChan lists the packed blocks, then badger's. A listing that
// fails part way ends early with the error logged, as boxo's does.
func (s *splitBlockstore) AllKeysChan(ctx context.Context) (<-chan cid.Cid, error) {
	small, err := s.small.AllKeysChan(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan cid.Cid, 64)
	go func() {
		defer close(out)
		if err := s.packs.keys(ctx, out); err != nil {
			if ctx.Err() == nil {
				log.Errorf("list packed blocks: %v", err)
			}
			// Drain so badger's iterator is let go.
			for range small {
			}
			return
		}
		for c := range small {
			select {
			case out <- c:
			case <-ctx.Done():
				for range small {
				}
				return
			}
		}
	}()
	return out, nil
}
