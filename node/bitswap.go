package node

import (
	"context"
	"sync"

	"github.com/ipfs/boxo/bitswap"
	bsmsg "github.com/ipfs/boxo/bitswap/message"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/imgp2p/imgp2p/store"
)

// newBitswap starts bitswap tuned for a few fast peers on small machines:
// more bytes in flight per peer than the 1 MiB default (one of our blocks),
// fewer blockstore workers than the 128 meant for big servers.
func newBitswap(ctx context.Context, h host.Host, r contentRouter, repo *store.Repo, t *tally) *bitswap.Bitswap {
	return bitswap.New(ctx, bsnet.NewFromIpfsHost(h), r, repo.Blocks,
		bitswap.MaxOutstandingBytesPerPeer(16<<20),
		bitswap.EngineBlockstoreWorkerCount(16),
		bitswap.EngineTaskWorkerCount(8),
		bitswap.TaskWorkerCount(8),
		// A tracer, not a BlockReceivedNotifier: bitswap gives that slot to
		// its own server, silently replacing ours.
		bitswap.WithTracer(t),
	)
}

// Stats counts what a node fetched from peers and served to them.
type Stats struct {
	Blocks int64
	Bytes  int64
	// SentBlocks and SentBytes count blocks served to peers.
	SentBlocks int64
	SentBytes  int64
	// PeerBytes is bytes received per peer.
	PeerBytes map[peer.ID]int64
}

// tally counts distinct blocks received from peers; duplicates sent by a
// second peer are not counted twice.
type tally struct {
	mu    sync.Mutex
	seen  map[string]struct{}
	stats Stats
}

func newTally() *tally {
	return &tally{seen: map[string]struct{}{}, stats: Stats{PeerBytes: map[peer.ID]int64{}}}
}

// MessageReceived implements bitswap's tracer.Tracer.
func (t *tally) MessageReceived(p peer.ID, msg bsmsg.BitSwapMessage) {
	blks := msg.Blocks()
	if len(blks) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range blks {
		key := string(b.Cid().Hash())
		if _, dup := t.seen[key]; dup {
			continue
		}
		t.seen[key] = struct{}{}
		t.stats.Blocks++
		t.stats.Bytes += int64(len(b.RawData()))
		t.stats.PeerBytes[p] += int64(len(b.RawData()))
	}
}

// MessageSent implements bitswap's tracer.Tracer.
func (t *tally) MessageSent(_ peer.ID, msg bsmsg.BitSwapMessage) {
	blks := msg.Blocks()
	if len(blks) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range blks {
		t.stats.SentBlocks++
		t.stats.SentBytes += int64(len(b.RawData()))
	}
}

// Stats returns what the node has fetched from peers since it started.
func (n *Node) Stats() Stats {
	n.tally.mu.Lock()
	defer n.tally.mu.Unlock()
	s := n.tally.stats
	s.PeerBytes = make(map[peer.ID]int64, len(n.tally.stats.PeerBytes))
	for p, b := range n.tally.stats.PeerBytes {
		s.PeerBytes[p] = b
	}
	return s
}
