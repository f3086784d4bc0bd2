package node

import (
	"context"

	"github.com/ipfs/boxo/bitswap"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/imgp2p/imgp2p/store"
)

// newBitswap starts bitswap tuned for a few fast peers on small machines:
// more bytes in flight per peer than the 1 MiB default (one of our blocks),
// fewer blockstore workers than the 128 meant for big servers.
func newBitswap(ctx context.Context, h host.Host, r contentRouter, repo *store.Repo, t *tally, onLiar func(peer.ID), live *liveness) *bitswap.Bitswap {
	net := newSpreadingNetwork(ctx, newHonestNetwork(live.network(bsnet.NewFromIpfsHost(h)), onLiar), repo.Blocks.Has)
	return bitswap.New(ctx, net, r, peerReads{repo.Blocks},
		bitswap.MaxOutstandingBytesPerPeer(16<<20),
		bitswap.EngineBlockstoreWorkerCount(16),
		bitswap.EngineTaskWorkerCount(8),
		bitswap.TaskWorkerCount(8),
		// A tracer, not a BlockReceivedNotifier: bitswap gives that slot to
		// its own server, silently replacing ours.
		bitswap.WithTracer(t),
	)
}

// peerReads is the repo's blockstore as bitswap sees it: every block it
// reads, it reads to send to a peer (see store.ForPeer).
type peerReads struct{ blockstore.Blockstore }

func (b peerReads) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	return b.Blockstore.Get(store.ForPeer(ctx), c)
}
