package commands

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/ipfs/go-cid"

	"github.com/imgp2p/imgp2p/image"
	"github.com/imgp2p/imgp2p/store"
)

func (b *localBackend) GC(ctx context.Context) (gcResult, error) {
	res, err := b.repo.GC(ctx)
	out := gcResult{Blocks: res.Blocks, Bytes: res.Bytes}
	for _, c := range res.Forgotten {
		out.Forgotten = append(out.Forgotten, c.String())
	}
	return out, err
}

// Verify re-hashes blocks against their CIDs and blobs against their
// digests: the whole repo, or one image.
func (b *localBackend) Verify(ctx context.Context, req verifyRequest) (verifyResult, error) {
	var res verifyResult
	var damaged []cid.Cid
	report := func(d store.Damage) {
		res.Problems = append(res.Problems, fmt.Sprintf("block %s: %s", d.CID, d.Problem))
		if d.Corrupt {
			damaged = append(damaged, d.CID)
		}
	}
	// A damaged table hides the keys in it rather than failing on them:
	// without this, the walks below would just see fewer blocks.
	if err := b.repo.CheckTables(); err != nil {
		res.Problems = append(res.Problems, err.Error())
	}
	var roots []cid.Cid
	if req.Root != "" {
		root, err := b.resolveRoot(ctx, req.Root)
		if err != nil {
			return res, err
		}
		roots = []cid.Cid{root}
	} else {
		recs, err := b.repo.Images.List(ctx)
		if err != nil {
			return res, err
		}
		for _, r := range recs {
			roots = append(roots, r.Root)
		}
	}
	var err error
	var blockRoots []cid.Cid
	if req.Root != "" {
		blockRoots = roots
	}
	if res.Blocks, err = b.repo.VerifyBlocks(ctx, blockRoots, report); err != nil {
		return res, err
	}
	for _, root := range roots {
		r, err := image.Open(ctx, b.repo.OfflineDAG(), root)
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("image %s: %v", root, err))
			continue
		}
		n, err := r.VerifyBlobs(ctx, func(d v1.Descriptor, err error) {
			res.Problems = append(res.Problems, fmt.Sprintf("image %s: %v", root, err))
		})
		res.Blobs += n
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("image %s: %v", root, err))
		}
	}
	if res.Problems == nil {
		res.Problems = []string{}
	}
	if req.Repair && len(damaged) > 0 {
		n, err := b.repo.RemoveDamaged(ctx, damaged)
		for _, c := range damaged[:n] {
			res.Removed = append(res.Removed, c.String())
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}
