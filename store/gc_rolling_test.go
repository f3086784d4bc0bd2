package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// A repo that takes a new version of an app every day, sharing a base
// layer with the one before, and lets the old one go: after each gc it
// must hold the live version plus a fixed overhead, however many versions
// came before. Reopened is the one-shot commands' case; the same process
// is a daemon's, where garbage sits in the value-log file badger appends
// to (see sealHeadValueLog). Image chunks live in packs; smaller
// blocks in badger, whose value log gc must compact.
func TestRollingUpdatesStayBounded(t *testing.T) {
	for _, size := range []int{1 << 20, badgerBlock} {
		for _, reopen := range []bool{true, false} {
			name := fmt.Sprintf("%d KiB blocks, %s", size>>10, map[bool]string{true: "reopened", false: "same process"}[reopen])
			t.Run(name, func(t *testing.T) {
				testRollingUpdates(t, size, reopen)
			})
		}
	}
}

// badgerBlock is a block size badger's value log keeps (see packBlockMin).
const badgerBlock = 64 << 10

const (
	rollingCycles = 10
	rollingBase   = 4  // MiB shared by every version
	rollingOwn    = 16 // MiB of each version's own
	rollingLive   = (rollingBase + rollingOwn) << 20
	// rollingSlack is what a repo may hold beyond its live blocks: badger's
	// tables, manifest, discard stats and memtable file take about 1 MiB
	// here. One version's garbage kept back (20 MiB) would exceed it.
	rollingSlack = 8 << 20
)

func testRollingUpdates(t *testing.T, size int, reopen bool) {
	ctx := context.Background()
	dir := t.TempDir()
	// With less room than this the daemon case cannot seal the value log's
	// head file (sealHeadValueLog), and up to one file's worth of garbage
	// stays: by design, but not what this test measures.
	if free, err := freeSpace(dir); err != nil || free < 512<<20 {
		t.Skipf("needs 512 MiB free in %s (free %d, %v)", dir, free, err)
	}
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { r.Close() }()
	var base []cid.Cid
	for i := 0; i < rollingBase<<20/size; i++ {
		b := randomBlock(t, size)
		if err := r.Blocks.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
		base = append(base, b.Cid())
	}
	var prev cid.Cid
	var worst int64
	for cycle := 1; cycle <= rollingCycles; cycle++ {
		root := putVersion(t, r, base, size)
		if err := r.Pins.PinWithMode(ctx, root, pin.Recursive, ""); err != nil {
			t.Fatal(err)
		}
		if prev.Defined() {
			if err := r.Pins.Unpin(ctx, prev, true); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Pins.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if reopen {
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if r, err = Open(ctx, dir); err != nil {
				t.Fatal(err)
			}
		}
		res, err := r.GC(ctx)
		if err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		if own := int64(rollingOwn << 20 / size); cycle > 1 && res.Blocks != own+1 {
			t.Fatalf("cycle %d: gc removed %d blocks, want the old version's %d", cycle, res.Blocks, own+1)
		}
		du := diskUsage(t, dir)
		worst = max(worst, du)
		t.Logf("cycle %d: du %.1f MiB after gc (live %d MiB)", cycle, float64(du)/(1<<20), rollingLive>>20)
		if du > rollingLive+rollingSlack {
			t.Fatalf("cycle %d: repo takes %.1f MiB after gc, more than the live %d MiB + %d MiB: garbage is piling up",
				cycle, float64(du)/(1<<20), rollingLive>>20, rollingSlack>>20)
		}
		prev = root
	}
	t.Logf("worst du after gc over %d cycles: %.1f MiB", rollingCycles, float64(worst)/(1<<20))
}

// putVersion stores a version: a node linking the base blocks and
// rollingOwn MiB of new ones, of size bytes each.
func putVersion(t *testing.T, r *Repo, base []cid.Cid, size int) cid.Cid {
	t.Helper()
	ctx := context.Background()
	nd := merkledag.NodeWithData(nil)
	for _, c := range base {
		nd.AddRawLink("", &ipld.Link{Cid: c, Size: uint64(size)})
	}
	for i := 0; i < rollingOwn<<20/size; i++ {
		b := randomBlock(t, size)
		if err := r.Blocks.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
		nd.AddRawLink("", &ipld.Link{Cid: b.Cid(), Size: uint64(size)})
	}
	if err := r.Blocks.Put(ctx, nd); err != nil {
		t.Fatal(err)
	}
	return nd.Cid()
}
