package node

import (
	"context"
	"sync"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Stats counts what a node fetched from peers and served to them.
type Stats struct {
	Blocks int64
	Bytes  int64
	// SentBlocks and SentBytes count blocks served to peers.
	SentBlocks int64
	SentBytes  int64
	// PeerBytes is bytes received per peer.
	PeerBytes map[peer.ID]int64
	// Incoming counts bitswap bytes from peers that owe blocks as they
	// arrive, whole blocks or not: on a slow link it moves for seconds
	// before Bytes does. It is no counter: the bytes of a message that
	// held no block are taken back once it is read, so it dips; only a
	// new high is progress.
	Incoming int64
}

// arrivalWindow bounds how many received-but-not-yet-stored blocks the
// tally remembers. Blocks nobody wanted (a duplicate from a second peer,
// junk from a lying one) are never stored and age out of the window.
const arrivalWindow = 16384

// tally counts a block as fetched when it is stored after arriving from a
// peer, and credits the peer it came from. Counting at the store rather
// than on arrival means junk and unwanted blocks never count, a block two
// readers were waiting for counts once, and a block fetched again after
// garbage collection counts again.
type tally struct {
	mu sync.Mutex
	// arrived maps a block's multihash to the first peer that sent it, in
	// two generations: when current fills, it becomes previous.
	arrived, previous map[string]peer.ID
	stats             Stats
}

func newTally() *tally {
	return &tally{arrived: map[string]peer.ID{}, stats: Stats{PeerBytes: map[peer.ID]int64{}}}
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
		if _, ok := t.arrived[key]; ok {
			continue
		}
		if len(t.arrived) >= arrivalWindow {
			t.previous, t.arrived = t.arrived, make(map[string]peer.ID, arrivalWindow)
		}
		t.arrived[key] = p
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

// stored counts blocks written to the repo that arrived from a peer.
func (t *tally) stored(blks ...blocks.Block) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range blks {
		key := string(b.Cid().Hash())
		p, ok := t.arrived[key]
		if ok {
			delete(t.arrived, key)
		} else if p, ok = t.previous[key]; ok {
			delete(t.previous, key)
		} else {
			continue
		}
		n := int64(len(b.RawData()))
		t.stats.Blocks++
		t.stats.Bytes += n
		t.stats.PeerBytes[p] += n
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
	if n.live != nil {
		s.Incoming = n.live.incoming.Load()
	}
	return s
}

// countingBlockstore is the blockstore under the node's block service,
// which stores every block the exchange delivers: the one place a fetched
// block is known to be wanted and whole.
type countingBlockstore struct {
	blockstore.Blockstore
	tally *tally
}

func (c countingBlockstore) Put(ctx context.Context, b blocks.Block) error {
	if err := c.Blockstore.Put(ctx, b); err != nil {
		return err
	}
	c.tally.stored(b)
	return nil
}

func (c countingBlockstore) PutMany(ctx context.Context, bs []blocks.Block) error {
	if err := c.Blockstore.PutMany(ctx, bs); err != nil {
		return err
	}
	c.tally.stored(bs...)
	return nil
}
