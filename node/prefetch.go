package node

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"golang.org/x/sync/errgroup"
)

// How many blocks one fetch wants at a time. From a single peer, 16 keep
// it busy; more only queue there. With several peers connected, twice as
// many: a want that waits behind others at a busy peer (the seeder of a
// fan-out) times out there and moves to a peer that has the block, so
// more wants in flight spread the load. Measured on 100 Mbit/s links, 64
// MiB to 8 pullers, two runs each: 16 wants 25.7/26.3 s, seeder sent
// 4.65/4.57 images; 32 wants 20.4/20.1 s, 3.64/3.62 images. From one
// peer, 32 were no faster and cost a loopback pull more system time
// (1.3-2.4 s against 1.1-1.3 s, six runs each).
const (
	soloWants  = 16
	swarmWants = 32
)

// maxAskAllPeers bounds the peers a fetch asks about every block (see
// StartFetch): each want-have and its answer cost about 100 bytes against
// a block of up to 1 MiB, under 1% up to 64 peers. With more connected (a
// public node's DHT neighbours), one session asks only the peers that
// answered before.
const maxAskAllPeers = 64

// A Fetch brings whole DAGs into the repo through bitswap (StartFetch says
// how), and is the only thing that asks peers for their blocks: readers
// of the same DAGs (the pull's writer) read through DAG, which waits for
// the fetch and moves the blocks a reader is stuck on to the front of the
// queue.
//
// Apart from those, blocks are fetched in random order. Pullers of the
// same image then hold different parts of it at any moment and serve each
// other, instead of all asking the seeder for the same block at once.
// One asker per block also avoids a bitswap trap: two sessions wanting the
// same block a moment apart can leave a want that the serving peer drops
// and the asking peer never repeats.
type Fetch struct {
	ctx     context.Context
	cancel  context.CancelFunc
	fetcher exchange.Fetcher // see StartFetch
	swarm   bool             // several peers were connected as it started
	n       *Node
	local   ipld.DAGService // the repo alone, decoding blocks into nodes

	mu       sync.Mutex
	wake     *sync.Cond
	urgent   []cid.Cid
	queue    []cid.Cid
	walking  bool
	inflight map[string]bool
	waiters  map[string][]chan blocks.Block
	err      error

	done chan struct{}
}

// StartFetch starts fetching the complete DAGs under roots; Wait returns
// when every block is in the repo. Offline, there is nothing to fetch
// from: readers see what the repo holds, and Wait returns at once.
func (n *Node) StartFetch(ctx context.Context, roots []cid.Cid) *Fetch {
	f := &Fetch{
		n:        n,
		local:    merkledag.NewDAGService(blockservice.New(n.store, nil)),
		inflight: map[string]bool{},
		waiters:  map[string][]chan blocks.Block{},
		done:     make(chan struct{}),
		walking:  true,
	}
	f.wake = sync.NewCond(&f.mu)
	f.ctx, f.cancel = context.WithCancel(ctx)
	if !n.Online() {
		f.finish(nil)
		return f
	}
	peers := len(n.ConnectedPeers())
	f.swarm = peers > 1
	// From one peer, one session for the whole fetch. From several,
	// bitswap's own GetBlock, a session per block: a new session asks
	// every peer whether it has the block and takes it from the first to
	// say yes, where a session that has served many blocks sends each
	// request straight to the peer that delivered most so far. In a
	// fan-out that is the seeder, every time, and its uplink carries the
	// image many times over (spreadingNetwork is the other half).
	f.fetcher = n.exchange
	if sm, ok := n.exchange.(exchange.SessionExchange); ok && (!f.swarm || peers > maxAskAllPeers) {
		f.fetcher = sm.NewSession(f.ctx)
	}
	go func() {
		<-f.ctx.Done()
		f.finish(f.ctx.Err())
	}()
	go f.run(roots)
	return f
}

// Fetch brings the complete DAGs under roots into the repo.
func (n *Node) Fetch(ctx context.Context, roots []cid.Cid) error {
	f := n.StartFetch(ctx, roots)
	defer f.Stop()
	return f.Wait()
}

// Wait returns once every block is local, or the fetch failed.
func (f *Fetch) Wait() error {
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Done is closed when the fetch has ended, complete or failed.
func (f *Fetch) Done() <-chan struct{} { return f.done }

// Stop ends the fetch; blocks already stored stay.
func (f *Fetch) Stop() { f.cancel() }

// DAG reads the fetched DAGs, waiting for blocks not yet local.
func (f *Fetch) DAG() ipld.DAGService { return fetchDAG{f} }

func (f *Fetch) run(roots []cid.Cid) {
	g := new(errgroup.Group)
	for range f.wantLimit() {
		g.Go(f.work)
	}
	err := f.walk(roots)
	f.mu.Lock()
	f.walking = false
	f.wake.Broadcast()
	f.mu.Unlock()
	if err == nil {
		err = g.Wait()
	}
	f.finish(err)
}

// enqueue adds leaves to the queue, each at a random place in it (an
// inside-out shuffle), so the queue stays in random order however the
// leaves come in.
func (f *Fetch) enqueue(leaves []cid.Cid) {
	if len(leaves) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range leaves {
		f.queue = append(f.queue, c)
		i, j := len(f.queue)-1, rand.IntN(len(f.queue))
		f.queue[i], f.queue[j] = f.queue[j], f.queue[i]
	}
	f.wake.Broadcast()
}

// work fetches queued blocks until none is left.
func (f *Fetch) work() error {
	for {
		c, ok := f.next()
		if !ok {
			return nil
		}
		err := f.fetchOne(c)
		f.mu.Lock()
		delete(f.inflight, c.KeyString())
		f.mu.Unlock()
		if err != nil {
			f.finish(err)
			return err
		}
	}
}

// next takes the next block to fetch: one a reader waits for first, then
// the shuffled queue. It reports false when both are empty for good.
func (f *Fetch) next() (cid.Cid, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		if f.err != nil || f.ctx.Err() != nil {
			return cid.Undef, false
		}
		var c cid.Cid
		switch {
		case len(f.urgent) > 0:
			c, f.urgent = f.urgent[0], f.urgent[1:]
		case len(f.queue) > 0:
			c, f.queue = f.queue[0], f.queue[1:]
		case f.walking:
			f.wake.Wait()
			continue
		default:
			return cid.Undef, false
		}
		if !f.inflight[c.KeyString()] {
			f.inflight[c.KeyString()] = true
			return c, true
		}
	}
}

// wantLimit is how many blocks to want at once, by the peers connected as
// the fetch starts.
func (f *Fetch) wantLimit() int {
	if f.swarm {
		return swarmWants
	}
	return soloWants
}

func (f *Fetch) fetchOne(c cid.Cid) error {
	has, err := f.n.store.Has(f.ctx, c)
	if err != nil {
		return err
	}
	if has {
		f.arrived(c, nil)
		return nil
	}
	blk, err := f.fetcher.GetBlock(f.ctx, c)
	if err != nil {
		return err
	}
	return f.store(blk)
}

// store keeps a block and tells bitswap, which serves it to any peer
// asking, so pullers trade blocks while they pull.
func (f *Fetch) store(blk blocks.Block) error {
	if err := f.n.store.Put(f.ctx, blk); err != nil {
		return err
	}
	if err := f.n.exchange.NotifyNewBlocks(f.ctx, blk); err != nil {
		return err
	}
	f.arrived(blk.Cid(), blk)
	return nil
}

// arrived wakes the readers waiting for c, handing them blk when it was
// just fetched: reading it back from the repo would cost a copy of every
// chunk, and the allocation and collection of one, for bytes already here.
func (f *Fetch) arrived(c cid.Cid, blk blocks.Block) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.waiters[c.KeyString()] {
		ch <- blk
	}
	delete(f.waiters, c.KeyString())
}

func (f *Fetch) finish(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.done:
		return
	default:
	}
	f.err = err
	close(f.done)
	f.wake.Broadcast()
}

// get returns c's node, from the repo or, once fetched, from a peer: c
// jumps the queue.
func (f *Fetch) get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	return f.await(ctx, c, f.want(ctx, c))
}

// want puts c at the front of the queue unless it is local, and returns
// what it arrives on (nil when it is local already): the block, or nil
// when it is in the repo.
func (f *Fetch) want(ctx context.Context, c cid.Cid) chan blocks.Block {
	if has, err := f.n.store.Has(ctx, c); err == nil && has {
		return nil
	}
	ch := make(chan blocks.Block, 1)
	f.mu.Lock()
	f.waiters[c.KeyString()] = append(f.waiters[c.KeyString()], ch)
	f.urgent = append(f.urgent, c)
	f.wake.Signal()
	f.mu.Unlock()
	return ch
}

func (f *Fetch) await(ctx context.Context, c cid.Cid, arrived chan blocks.Block) (ipld.Node, error) {
	if arrived != nil {
		blk, ok := f.receive(ctx, c, arrived)
		if ok && blk != nil && c.Type() == cid.Raw {
			// Chunks, almost all the bytes; other nodes are few and are
			// decoded as the repo's DAG service does.
			return merkledag.DecodeRawBlock(blk)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	nd, err := f.local.Get(ctx, c)
	if ipld.IsNotFound(err) {
		if ferr := f.Wait(); ferr != nil && f.ctx.Err() == nil {
			return nil, ferr
		}
	}
	return nd, err
}

// receive waits for c on arrived, unless it came in between want's look
// and its registration, which nothing would report.
func (f *Fetch) receive(ctx context.Context, c cid.Cid, arrived chan blocks.Block) (blocks.Block, bool) {
	select {
	case blk := <-arrived:
		return blk, true
	default:
	}
	if has, err := f.n.store.Has(ctx, c); err == nil && has {
		return nil, false
	}
	select {
	case blk := <-arrived:
		return blk, true
	case <-f.done:
	case <-ctx.Done():
	}
	return nil, false
}

// fetchDAG is a read-only DAG service over a Fetch.
type fetchDAG struct{ f *Fetch }

func (d fetchDAG) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) { return d.f.get(ctx, c) }

func (d fetchDAG) GetMany(ctx context.Context, cids []cid.Cid) <-chan *ipld.NodeOption {
	out := make(chan *ipld.NodeOption, len(cids))
	// All jump the queue at once; they are handed over in order, as a
	// reader preloading the next blocks of a file wants them.
	arrivals := make([]chan blocks.Block, len(cids))
	for i, c := range cids {
		arrivals[i] = d.f.want(ctx, c)
	}
	go func() {
		defer close(out)
		for i, c := range cids {
			nd, err := d.f.await(ctx, c, arrivals[i])
			select {
			case out <- &ipld.NodeOption{Node: nd, Err: err}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

var errReadOnly = errors.New("a fetch's DAG is read-only")

func (fetchDAG) Add(context.Context, ipld.Node) error        { return errReadOnly }
func (fetchDAG) AddMany(context.Context, []ipld.Node) error  { return errReadOnly }
func (fetchDAG) Remove(context.Context, cid.Cid) error       { return errReadOnly }
func (fetchDAG) RemoveMany(context.Context, []cid.Cid) error { return errReadOnly }
