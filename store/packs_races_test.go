package store

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	pin "github.com/ipfs/boxo/pinning/pinner"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	ipld "github.com/ipfs/go-ipld-format"
)

// A power cut after gc removed the newest pack can lose badger's deletions
// of the entries that named it. The next process must not make a pack of
// the same id, and deleting the stale entries must not punch out a live
// record.
func TestStaleEntriesAfterAPowerCutNeverTakeLiveRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	x := randomBlock(t, 1<<20)
	if err := r.Blocks.Put(ctx, x); err != nil {
		t.Fatal(err)
	}
	r.Sync(ctx)
	r.Close()
	durable := filepath.Join(t.TempDir(), "datastore")
	copyDir(t, filepath.Join(dir, "datastore"), durable)
	if r, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GC(ctx); err != nil { // x is unpinned: its pack goes
		t.Fatal(err)
	}
	r.Close()
	// The power cut: the pack's removal reached the disk, the deletion of
	// x's entry did not.
	os.RemoveAll(filepath.Join(dir, "datastore"))
	copyDir(t, durable, filepath.Join(dir, "datastore"))

	if r, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	y := randomBlock(t, 1<<20)
	if err := r.Blocks.Put(ctx, y); err != nil {
		t.Fatal(err)
	}
	if err := r.Pins.PinWithMode(ctx, y.Cid(), pin.Recursive, ""); err != nil {
		t.Fatal(err)
	}
	xAt, _ := r.packs.locate(ctx, x.Cid())
	yAt, _ := r.packs.locate(ctx, y.Cid())
	if xAt.pack == yAt.pack {
		t.Errorf("the new block went to pack %d, which x's stale entry names", yAt.pack)
	}
	if _, err := r.GC(ctx); err != nil {
		t.Fatal(err)
	}
	checkBlocks(t, r, []blocks.Block{y})
}

// hookedIndex runs a hook after the index answers Has or Get.
type hookedIndex struct {
	ds.Batching
	afterHas func()
	afterGet func()
}

func (h *hookedIndex) Has(ctx context.Context, k ds.Key) (bool, error) {
	ok, err := h.Batching.Has(ctx, k)
	if f := h.afterHas; f != nil {
		f()
	}
	return ok, err
}

func (h *hookedIndex) Get(ctx context.Context, k ds.Key) ([]byte, error) {
	v, err := h.Batching.Get(ctx, k)
	if f := h.afterGet; f != nil {
		h.afterGet = nil
		f()
	}
	return v, err
}

func packsWithIndex(t *testing.T, index ds.Datastore) *packBlocks {
	t.Helper()
	p, err := openPackBlocks(context.Background(), t.TempDir(), dssync.MutexWrap(ds.NewMapDatastore()))
	if err != nil {
		t.Fatal(err)
	}
	p.index = index
	return p
}

// A writer that looked (Has: no) before another finished storing the same
// block, and took the write after it, must not write a second record.
func TestAWriterThatLookedBeforeAnotherFinishedWritesNothing(t *testing.T) {
	ctx := context.Background()
	h := &hookedIndex{Batching: dssync.MutexWrap(ds.NewMapDatastore())}
	p := packsWithIndex(t, h)
	b := randomBlock(t, 1<<20)
	looked, firstDone := make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	h.afterHas = func() {
		if once.CompareAndSwap(false, true) {
			close(looked)
			<-firstDone
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := p.put(ctx, b); err != nil {
			t.Error(err)
		}
	}()
	<-looked
	if err := p.put(ctx, b); err != nil {
		t.Fatal(err)
	}
	close(firstDone)
	wg.Wait()
	at, err := p.locate(ctx, b.Cid())
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(p.packPath(at.pack)); err != nil || st.Size() != at.recordLen() {
		t.Errorf("the pack holds %v bytes (%v) for one record of %d", st.Size(), err, at.recordLen())
	}
}

// A read that loses the race with a delete (gc, repair) finds the block
// gone, not damaged.
func TestAReadRacingADeleteFindsTheBlockGone(t *testing.T) {
	ctx := context.Background()
	h := &hookedIndex{Batching: dssync.MutexWrap(ds.NewMapDatastore())}
	p := packsWithIndex(t, h)
	b := randomBlock(t, 1<<20)
	if err := p.put(ctx, b); err != nil {
		t.Fatal(err)
	}
	h.afterGet = func() {
		if _, err := p.delete(ctx, b.Cid()); err != nil {
			t.Error(err)
		}
	}
	if _, err := p.get(ctx, b.Cid()); !ipld.IsNotFound(err) {
		t.Errorf("a read racing a delete: %v; want not found", err)
	}
}

// Repair removes a block whose index entry is damaged.
func TestRepairRemovesADamagedIndexEntry(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t)
	b := randomBlock(t, 1<<20)
	if err := r.Blocks.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := r.packs.index.Put(ctx, dshelp.MultihashToDsKey(b.Cid().Hash()), make([]byte, 15)); err != nil {
		t.Fatal(err)
	}
	var found []cid.Cid
	if _, err := r.VerifyBlocks(ctx, nil, func(d Damage) {
		if d.Corrupt {
			found = append(found, d.CID)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 {
		t.Fatalf("verify found %v damaged, want %s", found, b.Cid())
	}
	if _, err := r.RemoveDamaged(ctx, found); err != nil {
		t.Fatalf("repair of a damaged index entry: %v", err)
	}
	if ok, _ := r.Blocks.Has(ctx, b.Cid()); ok {
		t.Error("the block is still there after repair")
	}
}

// A block larger than a pack's reads take is kept by badger, and reads back.
func TestOversizeBlocksAreKeptOutOfPacks(t *testing.T) {
	ctx := context.Background()
	r := openTestRepo(t)
	b := randomBlock(t, maxPackBlock+1)
	if err := r.Blocks.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := r.packs.locate(ctx, b.Cid()); !ipld.IsNotFound(err) {
		t.Errorf("a block of %d bytes was packed: %v", maxPackBlock+1, err)
	}
	checkBlocks(t, r, []blocks.Block{b})
}
