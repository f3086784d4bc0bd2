package store

import (
	"context"
	"errors"
	"testing"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

func TestHashingBlockstoreRefusesDamagedBlocks(t *testing.T) {
	ctx := context.Background()
	inner := blockstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()), blockstore.WriteThrough(true))
	good := randomBlock(t, 4096)
	if err := inner.Put(ctx, good); err != nil {
		t.Fatal(err)
	}
	// Same CID, other bytes: what a flipped bit on disk looks like.
	damaged, _ := blocks.NewBlockWithCid(append([]byte{good.RawData()[0] ^ 1}, good.RawData()[1:]...), good.Cid())
	if err := inner.Put(ctx, damaged); err != nil {
		t.Fatal(err)
	}
	h := newHashingBlockstore(inner)
	if _, err := h.Get(ctx, good.Cid()); !errors.Is(err, blockstore.ErrHashMismatch) {
		t.Fatalf("Get of a damaged block: err = %v, want ErrHashMismatch", err)
	}

	// A block found whole once is not hashed again on the next read.
	if err := inner.Put(ctx, good); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Get(ctx, good.Cid()); err != nil {
		t.Fatalf("Get of a repaired block: %v", err)
	}
	if !h.isRecent(good.Cid()) {
		t.Fatal("a block just read and hashed is not remembered as hashed")
	}

	// A block this process just wrote is trusted without a second hash...
	fresh := randomBlock(t, 4096)
	if err := h.Put(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if !h.isRecent(fresh.Cid()) {
		t.Fatal("a block just written is not remembered as hashed")
	}
	if b, err := h.Get(ctx, fresh.Cid()); err != nil || string(b.RawData()) != string(fresh.RawData()) {
		t.Fatalf("Get of a fresh block: %v", err)
	}
	// ...until it is deleted: a later copy must be hashed again.
	if err := h.DeleteBlock(ctx, fresh.Cid()); err != nil {
		t.Fatal(err)
	}
	if h.isRecent(fresh.Cid()) {
		t.Fatal("a deleted block is still exempt from hashing")
	}
}
