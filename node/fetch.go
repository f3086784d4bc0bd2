package node

import (
	"context"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	"golang.org/x/sync/errgroup"
)

// Fetch pulls the complete DAGs under roots into the repo, a few roots at a
// time in the given order, so that a reader streaming them in that order
// finds its blocks already local. Offline it does nothing.
func (n *Node) Fetch(ctx context.Context, roots []cid.Cid) error {
	if !n.Online() {
		return nil
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(3)
	for _, root := range roots {
		g.Go(func() error {
			return merkledag.FetchGraph(ctx, root, n.DAGService, merkledag.Concurrency(16))
		})
	}
	return g.Wait()
}

// Provide announces roots to the DHT in the background: image roots and
// blob roots, never every chunk, since a session that finds a peer for a
// root asks that peer for the children. Failures (no DHT peers yet) are
// expected on a fresh network and ignored; the daemon reprovides.
func (n *Node) Provide(ctx context.Context, roots []cid.Cid) {
	if !n.Online() {
		return
	}
	go func() {
		for _, c := range roots {
			pctx, cancel := context.WithTimeout(ctx, time.Minute)
			_ = n.DHT.Provide(pctx, c, true)
			cancel()
			if ctx.Err() != nil {
				return
			}
		}
	}()
}
