package store

import (
	"context"
	"crypto/rand"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

func randomBlock(t *testing.T, size int) blocks.Block {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	h, _ := mh.Sum(data, mh.SHA2_256, -1)
	b, _ := blocks.NewBlockWithCid(data, cid.NewCidV1(cid.Raw, h))
	return b
}

// diskUsage counts allocated blocks, as du does: badger's files are
// sparse, so their apparent sizes say little.
func diskUsage(t *testing.T, dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Sys().(*syscall.Stat_t).Blocks * 512
			}
		}
		return nil
	})
	return n
}

func TestGCKeepsPinsAndGivesSpaceBack(t *testing.T) {
	// reopen: the garbage sits in a value-log file badger may rewrite; not
	// reopening is a daemon's case, garbage in the file being appended to.
	for _, reopen := range []bool{true, false} {
		t.Run(map[bool]string{true: "reopened", false: "same process"}[reopen], func(t *testing.T) {
			testGCGivesSpaceBack(t, reopen)
		})
	}
}

func testGCGivesSpaceBack(t *testing.T, reopen bool) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	// A pinned file of 4 blocks and 60 MiB of unpinned blocks.
	parent := merkledag.NodeWithData(nil)
	var kept []cid.Cid
	for i := 0; i < 4; i++ {
		b := randomBlock(t, 1<<20)
		r.Blocks.Put(ctx, b)
		parent.AddRawLink("", &ipld.Link{Cid: b.Cid(), Size: 1 << 20})
		kept = append(kept, b.Cid())
	}
	r.Blocks.Put(ctx, parent)
	if err := r.Pins.PinWithMode(ctx, parent.Cid(), pin.Recursive, ""); err != nil {
		t.Fatal(err)
	}
	var garbage []cid.Cid
	for i := 0; i < 60; i++ {
		b := randomBlock(t, 1<<20)
		r.Blocks.Put(ctx, b)
		garbage = append(garbage, b.Cid())
	}
	if reopen {
		r.Close()
		if r, err = Open(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	defer r.Close()
	before := diskUsage(t, dir)
	res, err := r.GC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Blocks != 60 {
		t.Fatalf("GC removed %d blocks, want 60", res.Blocks)
	}
	for _, c := range append(kept, parent.Cid()) {
		if has, _ := r.Blocks.Has(ctx, c); !has {
			t.Fatalf("GC removed pinned block %s", c)
		}
	}
	for _, c := range garbage {
		if has, _ := r.Blocks.Has(ctx, c); has {
			t.Fatalf("unpinned block %s survived", c)
		}
	}
	after := diskUsage(t, dir)
	if after > before-40<<20 {
		t.Fatalf("disk usage went from %d to %d bytes: the space did not come back", before, after)
	}
	t.Logf("disk usage %d MiB -> %d MiB", before>>20, after>>20)
}
