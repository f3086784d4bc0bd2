package store

import (
	"context"
	"testing"

	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// TestGCCancelledKeepsPins: a collection whose context is cancelled (gc's
// client hung up, Ctrl-C) must never delete a pinned block. The pinner's
// stream closes without an error when its context is done, which looked
// like "no pins" and let the sweep delete what it reached before it
// noticed the cancel. Cancelled before it starts is the sharpest case: a
// gc that waited for the lock behind a pull while its client went away.
func TestGCCancelledKeepsPins(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	parent := merkledag.NodeWithData(nil)
	var kept []cid.Cid
	for i := 0; i < 64; i++ {
		b := randomBlock(t, 8<<10)
		if err := r.Blocks.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
		parent.AddRawLink("", &ipld.Link{Cid: b.Cid(), Size: 8 << 10})
		kept = append(kept, b.Cid())
	}
	if err := r.Blocks.Put(ctx, parent); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, parent.Cid())
	if err := r.Pins.PinWithMode(ctx, parent.Cid(), pin.Recursive, ""); err != nil {
		t.Fatal(err)
	}
	// The race is between the pinner's and the sweep's selects on a done
	// context: many rounds make a loss near certain if there is one.
	for round := 0; round < 50; round++ {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		res, err := r.GC(cctx)
		if err == nil {
			t.Fatalf("round %d: GC with a cancelled context succeeded (%+v)", round, res)
		}
		if res.Blocks != 0 {
			t.Fatalf("round %d: a cancelled GC deleted %d blocks (%v)", round, res.Blocks, err)
		}
		for _, c := range kept {
			if has, err := r.Blocks.Has(ctx, c); err != nil || !has {
				t.Fatalf("round %d: pinned block %s is gone after a cancelled GC (%v)", round, c, err)
			}
		}
	}
}
