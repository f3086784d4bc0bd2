package store

import (
	"context"
	"testing"

	pin "github.com/ipfs/boxo/pinning/pinner"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// gc forgets that a collected blob file was verified: the records would
// otherwise pile up, one per blob of every image the repo ever held (a
// daemon updating an app daily adds a few a day), while a kept file's
// record stays and spares its next read a hash.
func TestGCDropsVerifiedRecordsOfCollectedFiles(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	kept, gone := randomBlock(t, 1000), randomBlock(t, 1000)
	if err := r.Blocks.PutMany(ctx, []blocks.Block{kept, gone}); err != nil {
		t.Fatal(err)
	}
	if err := r.Pins.PinWithMode(ctx, kept.Cid(), pin.Recursive, ""); err != nil {
		t.Fatal(err)
	}
	const digest = "sha256:aaaa"
	for _, c := range []cid.Cid{kept.Cid(), gone.Cid()} {
		if err := r.Verified.Add(ctx, c, digest); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if !r.Verified.Has(ctx, kept.Cid(), digest) {
		t.Error("gc dropped the verified record of a pinned file")
	}
	if r.Verified.Has(ctx, gone.Cid(), digest) {
		t.Error("gc kept the verified record of a file it collected")
	}
}
