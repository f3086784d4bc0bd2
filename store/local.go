package store

import (
	"context"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// LocalStat says how much of a set of DAGs the repo already holds.
type LocalStat struct {
	Blocks  int64
	Bytes   int64
	Missing int64 // blocks known to be missing; children of a missing node are unknown
}

// Complete reports whether every block was found.
func (s LocalStat) Complete() bool { return s.Missing == 0 }

// Local walks the DAGs under roots through the blockstore alone, reading
// only interior nodes: raw leaves (the image bytes) are checked by size, so
// the walk costs little even for gigabytes.
func (r *Repo) Local(ctx context.Context, roots []cid.Cid) (LocalStat, error) {
	var st LocalStat
	seen := map[string]bool{}
	var walk func(c cid.Cid) error
	walk = func(c cid.Cid) error {
		if seen[string(c.Hash())] {
			return nil
		}
		seen[string(c.Hash())] = true
		if c.Type() == cid.Raw {
			size, err := r.Blocks.GetSize(ctx, c)
			if ipld.IsNotFound(err) {
				st.Missing++
				return nil
			}
			if err != nil {
				return err
			}
			st.Blocks++
			st.Bytes += int64(size)
			return nil
		}
		blk, err := r.Blocks.Get(ctx, c)
		if ipld.IsNotFound(err) {
			st.Missing++
			return nil
		}
		if err != nil {
			return err
		}
		st.Blocks++
		st.Bytes += int64(len(blk.RawData()))
		nd, err := merkledag.DecodeProtobufBlock(blk)
		if err != nil {
			// Not dag-pb: a leaf as far as image roots go.
			return nil
		}
		for _, l := range nd.Links() {
			if err := walk(l.Cid); err != nil {
				return err
			}
		}
		return nil
	}
	for _, c := range roots {
		if err := walk(c); err != nil {
			return st, err
		}
	}
	return st, nil
}
