package store

import (
	"context"
	"testing"

	"github.com/ipfs/boxo/datastore/dshelp"
	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"
)

func TestVerifyFindsCorruptAndMissingBlocks(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	good, bad, gone := randomBlock(t, 1000), randomBlock(t, 1000), randomBlock(t, 1000)
	parent := merkledag.NodeWithData(nil)
	for _, b := range []interface{ Cid() cid.Cid }{good, bad, gone} {
		parent.AddRawLink("", &ipld.Link{Cid: b.Cid(), Size: 1000})
	}
	r.Blocks.PutMany(ctx, []blocks.Block{good, bad, parent})
	// Rot the stored bytes of one block behind the blockstore's back.
	key := ds.NewKey("/blocks").Child(dshelp.MultihashToDsKey(bad.Cid().Hash()))
	if err := r.Datastore.Put(ctx, key, []byte("rotten")); err != nil {
		t.Fatal(err)
	}
	problems := map[cid.Cid]string{}
	report := func(d Damage) { problems[d.CID] = d.Problem }
	if n, err := r.VerifyBlocks(ctx, nil, report); err != nil || n != 3 || len(problems) != 1 || problems[bad.Cid()] == "" {
		t.Fatalf("whole repo: checked %d, problems %v, err %v", n, problems, err)
	}
	problems = map[cid.Cid]string{}
	if n, err := r.VerifyBlocks(ctx, []cid.Cid{parent.Cid()}, report); err != nil || n != 4 || problems[bad.Cid()] == "" || problems[gone.Cid()] != "missing" || len(problems) != 2 {
		t.Fatalf("one DAG: checked %d, problems %v, err %v", n, problems, err)
	}
}
