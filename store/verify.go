package store

import (
	"context"
	"fmt"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Damage is a block that is not what its CID says, or is missing.
type Damage struct {
	CID     cid.Cid
	Problem string
	// Corrupt is set when the repo's copy cannot be read or does not
	// match its CID: a copy fetched again would be whole.
	Corrupt bool
}

// VerifyBlocks re-hashes blocks, like `ipfs repo verify`: every block in
// the repo when roots is empty, else every block under roots (missing
// ones count as damage). It reports the blocks checked and the damage
// found; err is for failures to check at all.
func (r *Repo) VerifyBlocks(ctx context.Context, roots []cid.Cid, report func(Damage)) (checked int64, err error) {
	check := func(c cid.Cid) ([]byte, bool) {
		checked++
		blk, err := r.Blocks.Get(ctx, c)
		if ipld.IsNotFound(err) {
			report(Damage{CID: c, Problem: "missing"})
			return nil, false
		}
		if err != nil {
			report(Damage{CID: c, Problem: err.Error(), Corrupt: true})
			return nil, false
		}
		sum, err := c.Prefix().Sum(blk.RawData())
		if err != nil || !sum.Equals(c) {
			report(Damage{CID: c, Problem: "content does not match its hash", Corrupt: true})
			return nil, false
		}
		return blk.RawData(), true
	}
	if len(roots) == 0 {
		keys, err := r.Blocks.AllKeysChan(ctx)
		if err != nil {
			return 0, err
		}
		for c := range keys {
			check(c)
		}
		return checked, ctx.Err()
	}
	seen := map[string]bool{}
	var walk func(c cid.Cid)
	walk = func(c cid.Cid) {
		if seen[string(c.Hash())] {
			return
		}
		seen[string(c.Hash())] = true
		data, ok := check(c)
		if !ok || c.Type() != cid.DagProtobuf {
			return
		}
		nd, err := merkledag.DecodeProtobuf(data)
		if err != nil {
			report(Damage{CID: c, Problem: fmt.Sprintf("not a valid dag-pb node: %v", err)})
			return
		}
		for _, l := range nd.Links() {
			walk(l.Cid)
		}
	}
	for _, c := range roots {
		walk(c)
	}
	return checked, ctx.Err()
}

// RemoveDamaged deletes blocks found damaged, so that the next pull of an
// image holding them fetches them again from peers: left in place, a
// damaged block counts as present, is never fetched, and fails every read
// of its image for good. Pushes and pulls in flight are waited for, as by
// gc. It returns how many it removed.
func (r *Repo) RemoveDamaged(ctx context.Context, damaged []cid.Cid) (int, error) {
	unlock, err := r.gcLock.gcLock(ctx)
	if err != nil {
		return 0, fmt.Errorf("wait for pushes and pulls in flight: %w", err)
	}
	defer unlock.Unlock(ctx)
	removed := 0
	for _, c := range damaged {
		if err := r.Blocks.DeleteBlock(ctx, c); err != nil && !ipld.IsNotFound(err) {
			return removed, fmt.Errorf("remove damaged block %s: %w", c, err)
		}
		removed++
	}
	return removed, r.Sync(ctx)
}
