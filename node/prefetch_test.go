package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"

	"github.com/imgp2p/imgp2p/store"
)

func loopbackNode(t *testing.T, ctx context.Context) *Node {
	t.Helper()
	repo, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	n, err := New(ctx, repo, Options{Mode: ModeLAN, Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// A fetch brings a whole DAG from a peer while a reader walks it in order:
// the reader gets every block with the right bytes, and afterwards every
// block is in the repo, fetched once.
func TestFetchWholeDAGWhileReading(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seeder, puller := loopbackNode(t, ctx), loopbackNode(t, ctx)

	const leaves, leafSize = 64, 64 << 10
	parent, want := putRandomDAG(t, ctx, []*Node{seeder}, leaves, leafSize)
	addrs := seeder.Addrs()
	if err := puller.Connect(ctx, []string{addrs[0].String()}); err != nil {
		t.Fatal(err)
	}

	f := puller.StartFetch(ctx, []cid.Cid{parent.Cid()})
	defer f.Stop()
	dag := f.DAG()
	root, err := dag.Get(ctx, parent.Cid())
	if err != nil {
		t.Fatal(err)
	}
	var cids []cid.Cid
	for _, l := range root.Links() {
		cids = append(cids, l.Cid)
	}
	i := 0
	for opt := range dag.GetMany(ctx, cids) {
		if opt.Err != nil {
			t.Fatalf("block %d: %v", i, opt.Err)
		}
		if !bytes.Equal(opt.Node.RawData(), want[i]) {
			t.Fatalf("block %d: wrong bytes", i)
		}
		i++
	}
	if i != leaves {
		t.Fatalf("read %d blocks, want %d", i, leaves)
	}
	if err := f.Wait(); err != nil {
		t.Fatal(err)
	}
	wantFetchedOnce(t, ctx, puller, parent.Cid(), leaves+1)
}

// putRandomDAG stores on each node a parent over leaves random raw
// blocks and returns it with the leaves' bytes, in link order.
func putRandomDAG(t *testing.T, ctx context.Context, nodes []*Node, leaves, leafSize int) (*merkledag.ProtoNode, [][]byte) {
	t.Helper()
	parent := merkledag.NodeWithData(nil)
	var want [][]byte
	var all []blocks.Block
	for range leaves {
		data := make([]byte, leafSize)
		rand.Read(data)
		h, _ := mh.Sum(data, mh.SHA2_256, -1)
		b, _ := blocks.NewBlockWithCid(data, cid.NewCidV1(cid.Raw, h))
		all = append(all, b)
		parent.AddRawLink("", &ipld.Link{Cid: b.Cid(), Size: uint64(leafSize)})
		want = append(want, data)
	}
	all = append(all, parent)
	for _, n := range nodes {
		if err := n.Repo.Blocks.PutMany(ctx, all); err != nil {
			t.Fatal(err)
		}
	}
	return parent, want
}

// With several peers connected a fetch wants more blocks at once (so that
// wants queued at a busy peer can move to another), and still brings the
// whole DAG once.
func TestFetchFromSeveralPeersWantsMore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b, puller := loopbackNode(t, ctx), loopbackNode(t, ctx), loopbackNode(t, ctx)
	const leaves = 96
	parent, _ := putRandomDAG(t, ctx, []*Node{a, b}, leaves, 32<<10)

	if err := puller.Connect(ctx, []string{a.Addrs()[0].String()}); err != nil {
		t.Fatal(err)
	}
	if got := wantLimitNow(ctx, puller); got != soloWants {
		t.Errorf("one peer connected: want limit %d, want %d", got, soloWants)
	}
	if err := puller.Connect(ctx, []string{b.Addrs()[0].String()}); err != nil {
		t.Fatal(err)
	}
	if got := wantLimitNow(ctx, puller); got != swarmWants {
		t.Errorf("two peers connected: want limit %d, want %d", got, swarmWants)
	}
	if err := puller.Fetch(ctx, []cid.Cid{parent.Cid()}); err != nil {
		t.Fatal(err)
	}
	wantFetchedOnce(t, ctx, puller, parent.Cid(), leaves+1)
}

// wantLimitNow is the want limit of a fetch started now.
func wantLimitNow(ctx context.Context, n *Node) int {
	f := n.StartFetch(ctx, nil)
	defer f.Stop()
	return f.wantLimit()
}

// wantFetchedOnce checks that the repo holds the whole DAG under root, all
// blocks of it fetched from peers, each counted once.
func wantFetchedOnce(t *testing.T, ctx context.Context, n *Node, root cid.Cid, want int64) {
	t.Helper()
	st, err := n.Repo.Local(ctx, []cid.Cid{root})
	if err != nil || !st.Complete() || st.Blocks != want {
		t.Fatalf("after the fetch the repo holds %+v (%v), want all %d blocks", st, err, want)
	}
	if got := n.Stats(); got.Blocks != want {
		t.Errorf("stored %d fetched blocks, want each of the %d once", got.Blocks, want)
	}
}

// A fetch walks a DAG of several levels, in which one subtree is linked
// from two parents, and brings every block once.
func TestFetchDeepDAGWithSharedSubtree(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seeder, puller := loopbackNode(t, ctx), loopbackNode(t, ctx)

	// root → a, b, shared; a → shared, b → shared: 4 inner nodes, 3×8 leaves.
	a, _ := putRandomDAG(t, ctx, []*Node{seeder}, 8, 4<<10)
	b, _ := putRandomDAG(t, ctx, []*Node{seeder}, 8, 4<<10)
	shared, _ := putRandomDAG(t, ctx, []*Node{seeder}, 8, 4<<10)
	for _, nd := range []*merkledag.ProtoNode{a, b} {
		if err := nd.AddNodeLink("", shared); err != nil {
			t.Fatal(err)
		}
	}
	root := merkledag.NodeWithData(nil)
	for _, nd := range []*merkledag.ProtoNode{a, b, shared} {
		if err := root.AddNodeLink("", nd); err != nil {
			t.Fatal(err)
		}
	}
	if err := seeder.Repo.Blocks.PutMany(ctx, []blocks.Block{a, b, root}); err != nil {
		t.Fatal(err)
	}
	if err := puller.Connect(ctx, []string{seeder.Addrs()[0].String()}); err != nil {
		t.Fatal(err)
	}
	if err := puller.Fetch(ctx, []cid.Cid{root.Cid()}); err != nil {
		t.Fatal(err)
	}
	wantFetchedOnce(t, ctx, puller, root.Cid(), 4+3*8)
}

// A fetch whose DAG links a node no peer has fails when its context ends,
// instead of waiting for ever, and says why.
func TestFetchOfMissingInnerNodeEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seeder, puller := loopbackNode(t, ctx), loopbackNode(t, ctx)
	missing := merkledag.NodeWithData([]byte("nobody has this"))
	root := merkledag.NodeWithData(nil)
	if err := root.AddNodeLink("", missing); err != nil {
		t.Fatal(err)
	}
	if err := seeder.Repo.Blocks.Put(ctx, root); err != nil {
		t.Fatal(err)
	}
	if err := puller.Connect(ctx, []string{seeder.Addrs()[0].String()}); err != nil {
		t.Fatal(err)
	}
	short, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	err := puller.Fetch(short, []cid.Cid{root.Cid()})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("fetch of a DAG with a missing node: %v, want the context's deadline", err)
	}
	if has, _ := puller.Repo.Blocks.Has(ctx, root.Cid()); !has {
		t.Error("the root, which the peer had, was not kept")
	}
}
