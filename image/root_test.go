package image

import (
	"context"
	"sync"
	"testing"

	"github.com/ipfs/boxo/ipld/merkledag"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// countingGetter records which nodes were asked for.
type countingGetter struct {
	ipld.NodeGetter
	mu  sync.Mutex
	got []cid.Cid
}

func (g *countingGetter) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	g.mu.Lock()
	g.got = append(g.got, c)
	g.mu.Unlock()
	return g.NodeGetter.Get(ctx, c)
}

// followPath gets each node along the names and returns the last, and
// stops with nil at a name the current node does not link.
func TestFollowPathFollowsNamedLinks(t *testing.T) {
	ctx := context.Background()
	dag := mdtest.Mock()
	leaf := merkledag.NodeWithData([]byte("sha256 dir"))
	mid := merkledag.NodeWithData([]byte("blobs dir"))
	if err := mid.AddNodeLink("sha256", leaf); err != nil {
		t.Fatal(err)
	}
	root := merkledag.NodeWithData(nil)
	if err := root.AddNodeLink("blobs", mid); err != nil {
		t.Fatal(err)
	}
	for _, nd := range []ipld.Node{leaf, mid, root} {
		if err := dag.Add(ctx, nd); err != nil {
			t.Fatal(err)
		}
	}

	g := &countingGetter{NodeGetter: dag}
	nd := followPath(ctx, g, root, "blobs", "sha256")
	if nd == nil || nd.Cid() != leaf.Cid() {
		t.Errorf("blobs/sha256 is %v, want %v", nd, leaf.Cid())
	}
	if len(g.got) != 2 || g.got[0] != mid.Cid() || g.got[1] != leaf.Cid() {
		t.Errorf("following blobs/sha256 got %v, want %v then %v", g.got, mid.Cid(), leaf.Cid())
	}

	g = &countingGetter{NodeGetter: dag}
	if nd := followPath(ctx, g, root, "blobs", "sha512", "more"); nd != nil {
		t.Errorf("blobs/sha512/more is %v, want nil", nd.Cid())
	}
	if len(g.got) != 1 || g.got[0] != mid.Cid() {
		t.Errorf("following blobs/sha512/more got %v, want only %v", g.got, mid.Cid())
	}
}
