package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/ipfs/boxo/blockstore"
	pin "github.com/ipfs/boxo/pinning/pinner"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	dsq "github.com/ipfs/go-datastore/query"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

func TestLargeBlocksLiveInPacksAndSmallOnesInBadger(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	chunk := randomBlock(t, 1<<20)
	tail := randomBlock(t, 300<<10+17) // a blob's last chunk: odd length
	small := randomBlock(t, packBlockMin-1)
	want := []blocks.Block{chunk, tail, small}
	if err := r.Blocks.PutMany(ctx, want); err != nil {
		t.Fatal(err)
	}
	for _, b := range want {
		_, err := r.packs.locate(ctx, b.Cid())
		if packed := err == nil; packed != (len(b.RawData()) >= packBlockMin) {
			t.Errorf("block of %d bytes: packed %v", len(b.RawData()), packed)
		}
		// badger's sizes of value-log entries are estimates (a byte over,
		// from the varint header it does not read); a pack's are exact.
		if n, err := r.Blocks.GetSize(ctx, b.Cid()); err != nil || n != len(b.RawData()) && len(b.RawData()) >= packBlockMin {
			t.Errorf("GetSize of a block of %d bytes: %d, %v", len(b.RawData()), n, err)
		}
		if ok, err := r.Blocks.Has(ctx, b.Cid()); !ok || err != nil {
			t.Errorf("Has of a block of %d bytes: %v, %v", len(b.RawData()), ok, err)
		}
	}
	checkBlocks(t, r, want)
	if got := allKeys(t, r); len(got) != len(want) {
		t.Errorf("AllKeysChan listed %d blocks, want %d", len(got), len(want))
	}
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	r, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkBlocks(t, r, want)
	for _, b := range want {
		if err := r.Blocks.DeleteBlock(ctx, b.Cid()); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Blocks.Get(ctx, b.Cid()); !ipld.IsNotFound(err) {
			t.Errorf("Get of a deleted block of %d bytes: %v", len(b.RawData()), err)
		}
	}
	if got := allKeys(t, r); len(got) != 0 {
		t.Errorf("AllKeysChan listed %d blocks after every one was deleted", len(got))
	}
}

// A record that is not what was written is an error naming the damage,
// never bytes handed on; verify finds it and repair removes it, so that
// the next pull fetches the block again.
func TestDamagedRecordIsFoundAndRemoved(t *testing.T) {
	ctx := context.Background()
	flip := func(path string, at int64) error {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		b := make([]byte, 1)
		if _, err := f.ReadAt(b, at); err != nil {
			return err
		}
		_, err = f.WriteAt([]byte{b[0] ^ 4}, at)
		return err
	}
	for _, tc := range []struct {
		name   string
		damage func(path string, rec location) error
	}{
		{"a flipped bit", func(path string, rec location) error { return flip(path, rec.offset+recordHeaderSize+1000) }},
		{"a flipped bit in the header", func(path string, rec location) error { return flip(path, rec.offset+2) }},
		{"another block's name", func(path string, rec location) error { return flip(path, rec.offset+30) }},
		{"cut short", func(path string, rec location) error { return os.Truncate(path, rec.offset+recordHeaderSize+4096) }},
		{"pack gone", func(path string, _ location) error { return os.Remove(path) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openTestRepo(t)
			b := randomBlock(t, 1<<20)
			if err := r.Blocks.Put(ctx, b); err != nil {
				t.Fatal(err)
			}
			rec, err := r.packs.locate(ctx, b.Cid())
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.damage(r.packs.packPath(rec.pack), rec); err != nil {
				t.Fatal(err)
			}
			_, err = r.Blocks.Get(ctx, b.Cid())
			if !errors.Is(err, blockstore.ErrHashMismatch) || !strings.Contains(err.Error(), "damaged on disk") || !strings.Contains(err.Error(), b.Cid().String()) {
				t.Fatalf("Get of a damaged record: %v; want a damage error naming the block", err)
			}
			var found []cid.Cid
			if _, err := r.VerifyBlocks(ctx, nil, func(d Damage) {
				if d.Corrupt {
					found = append(found, d.CID)
				}
			}); err != nil {
				t.Fatal(err)
			}
			if len(found) != 1 || !found[0].Equals(b.Cid()) {
				t.Fatalf("verify found %v damaged, want %s", found, b.Cid())
			}
			if _, err := r.RemoveDamaged(ctx, found); err != nil {
				t.Fatal(err)
			}
			if ok, _ := r.Blocks.Has(ctx, b.Cid()); ok {
				t.Error("the damaged block is still there after repair")
			}
			if err := r.Blocks.Put(ctx, b); err != nil {
				t.Fatal(err)
			}
			checkBlocks(t, r, []blocks.Block{b})
		})
	}
}

// A process killed mid-write can leave a half-written record at a pack's
// end; the next process appends to a new pack, so what it writes never
// lands after, or over, such a tail.
func TestEachProcessAppendsToANewPack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	first := randomBlock(t, 1<<20)
	if err := r.Blocks.Put(ctx, first); err != nil {
		t.Fatal(err)
	}
	firstAt, _ := r.packs.locate(ctx, first.Cid())
	r.Close()
	// The torn tail: a header page, and part of a block's bytes.
	f, err := os.OpenFile(r.packs.packPath(firstAt.pack), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, recordHeaderSize+5000))
	f.Close()

	r, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	second := randomBlock(t, 1<<20)
	if err := r.Blocks.Put(ctx, second); err != nil {
		t.Fatal(err)
	}
	if secondAt, _ := r.packs.locate(ctx, second.Cid()); secondAt.pack == firstAt.pack || secondAt.offset != 0 {
		t.Errorf("the second process wrote at %+v, after the first's pack %d: want the start of a new pack", secondAt, firstAt.pack)
	}
	checkBlocks(t, r, []blocks.Block{first, second})
}

// gc gives a deleted block's space back at once (its record is punched
// out of the pack), and a pack nothing names any more goes whole; the pack
// being appended to stays.
func TestGCRemovesPacksItEmpties(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	// 100 MiB: a full pack and part of a second, unpinned.
	for range 100 {
		if err := r.Blocks.Put(ctx, randomBlock(t, 1<<20)); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	if r, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	kept := randomBlock(t, 1<<20)
	if err := r.Blocks.Put(ctx, kept); err != nil {
		t.Fatal(err)
	}
	if err := r.Pins.PinWithMode(ctx, kept.Cid(), pin.Recursive, ""); err != nil {
		t.Fatal(err)
	}
	if before := diskUsage(t, dir); before < 100<<20 {
		t.Fatalf("the repo takes %d bytes before gc, want over 100 MiB", before)
	}
	if _, err := r.GC(ctx); err != nil {
		t.Fatal(err)
	}
	ids, err := r.packs.packIDs()
	if err != nil {
		t.Fatal(err)
	}
	keptAt, _ := r.packs.locate(ctx, kept.Cid())
	if len(ids) != 1 || ids[0] != keptAt.pack {
		t.Errorf("packs left after gc: %v, want only %d, which holds the pinned block", ids, keptAt.pack)
	}
	if after := diskUsage(t, dir); after > 16<<20 {
		t.Errorf("the repo takes %.1f MiB after gc, want under 16", float64(after)/(1<<20))
	}
	checkBlocks(t, r, []blocks.Block{kept})
}

// Two writers of one block at once (bitswap can hand a block over twice)
// store it once: a second record would be space nothing names.
func TestConcurrentPutsOfOneBlockStoreItOnce(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t)
	b := randomBlock(t, 1<<20)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Blocks.Put(ctx, b); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	at, err := r.packs.locate(ctx, b.Cid())
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(r.packs.packPath(at.pack))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != at.recordLen() {
		t.Errorf("the pack holds %d bytes for one block's record of %d", st.Size(), at.recordLen())
	}
	checkBlocks(t, r, []blocks.Block{b})
}

// A repo of format 1 keeps its large blocks in badger: they read, count as
// present (no second copy in a file), and delete as before.
func TestFormatOneLargeBlocksStayReadable(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t)
	old := randomBlock(t, 1<<20)
	if err := blockstore.NewBlockstore(r.Datastore).Put(ctx, old); err != nil {
		t.Fatal(err)
	}
	checkBlocks(t, r, []blocks.Block{old})
	if n, err := r.Blocks.GetSize(ctx, old.Cid()); err != nil || n < 1<<20 || n > 1<<20+8 {
		t.Errorf("GetSize: %d, %v; want badger's estimate of 1 MiB", n, err)
	}
	if err := r.Blocks.Put(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := r.packs.locate(ctx, old.Cid()); !ipld.IsNotFound(err) {
		t.Errorf("putting a block badger holds packed it too: %v", err)
	}
	if got := allKeys(t, r); len(got) != 1 {
		t.Errorf("AllKeysChan listed %d blocks, want 1", len(got))
	}
	if err := r.Blocks.DeleteBlock(ctx, old.Cid()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.Blocks.Has(ctx, old.Cid()); ok {
		t.Error("a format-1 large block is still there after DeleteBlock")
	}
}

// openTestRepo opens a new repo, closed when the test ends.
func openTestRepo(t *testing.T) *Repo {
	t.Helper()
	r, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func allKeys(t *testing.T, r *Repo) []cid.Cid {
	t.Helper()
	keys, err := r.Blocks.AllKeysChan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var all []cid.Cid
	for c := range keys {
		all = append(all, c)
	}
	return all
}

// A seeder serving an image of many chunks again and again reads each
// one around the page cache only the first time, however many chunks
// the image has up to a generation of the served set (a first version
// wiped everything it remembered at 8192 blocks, so an image of 10,000
// chunks went around the cache at every serving); past that the set
// stays bounded, forgetting the blocks served longest ago.
func TestBlocksServedStayRemembered(t *testing.T) {
	r := openTestRepo(t)
	tag := func(i int) cid.Cid {
		h, _ := mh.Sum([]byte(fmt.Sprint(i)), mh.SHA2_256, -1)
		return cid.NewCidV1(cid.Raw, h)
	}
	const image = 10000
	for pass := range 3 {
		direct := 0
		for i := range image {
			if r.packs.readsDirect(tag(i), true) {
				direct++
			}
		}
		want := 0 // every block remembered from the first serving
		if pass == 0 {
			want = image
		}
		if direct != want {
			t.Fatalf("serving %d: %d of %d blocks read around the cache, want %d", pass+1, direct, image, want)
		}
	}
	for i := image; i < 3*tagsPerGeneration; i++ {
		r.packs.readsDirect(tag(i), true)
	}
	if n := r.packs.served.len(); n > 2*tagsPerGeneration {
		t.Fatalf("%d blocks remembered, want at most %d", n, 2*tagsPerGeneration)
	}
	if r.packs.readsDirect(tag(3*tagsPerGeneration-1), true) {
		t.Error("the block served last was forgotten")
	}
	// A block written and not yet read goes around the cache once,
	// whoever reads it.
	written := tag(-1)
	r.packs.wrote(written)
	if !r.packs.readsDirect(written, false) || r.packs.readsDirect(written, false) {
		t.Error("a block this process wrote: want its first read, and only that, around the cache")
	}
}

// A walk of the index cut short by its context must say so: gc's sweep
// takes what the walk did not see for bytes nothing names.
func TestIndexWalkCutShortIsAnError(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t)
	for range 3 {
		if err := r.Blocks.Put(ctx, randomBlock(t, 1<<20)); err != nil {
			t.Fatal(err)
		}
	}
	walk, cancel := context.WithCancel(ctx)
	defer cancel()
	seen := 0
	err := r.packs.eachIndexEntry(walk, true, func(dsq.Entry) error {
		seen++
		cancel()
		return nil
	})
	if err == nil {
		t.Fatalf("a walk cancelled after %d of 3 entries returned no error", seen)
	}
}
