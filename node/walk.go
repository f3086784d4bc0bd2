package node

import (
	"context"
	"sync"

	"github.com/ipfs/go-cid"
)

// walkers is how many inner nodes a fetch's walk asks for at once. Each
// answer waits at least bitswap's 20 ms between two messages to one peer,
// so a walk that asked for a level's nodes a few at a time took 20-40 ms
// per level: a 1 GiB pull spent its first 0.35 s learning the DAG's shape.
const walkers = 64

// walk fetches every inner node under roots and queues the raw leaves,
// which hold almost all the bytes. From one peer, each leaf is queued as
// soon as its parent arrives: the bulk of a pull flows while the rest of
// the DAG's shape is still being learned. In a swarm, all at once when
// the walk is over, shuffled as one: pullers that start together then ask
// their peers for different blocks from the first, rather than all for
// the first subtree any of them learns.
func (f *Fetch) walk(roots []cid.Cid) error {
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	w := &dagWalk{seen: map[string]bool{}}
	w.more = sync.NewCond(&w.mu)
	var held []cid.Cid // the swarm's leaves, until the walk is over
	var heldMu sync.Mutex
	queue := func(leaves []cid.Cid) {
		if !f.swarm {
			f.enqueue(leaves)
			return
		}
		heldMu.Lock()
		held = append(held, leaves...)
		heldMu.Unlock()
	}
	queue(w.add(roots))
	var g sync.WaitGroup
	for range walkers {
		g.Go(func() {
			for {
				c, ok := w.next()
				if !ok {
					return
				}
				nd, err := f.get(ctx, c)
				if err != nil {
					w.fail(err)
					cancel()
					return
				}
				var children []cid.Cid
				for _, l := range nd.Links() {
					children = append(children, l.Cid)
				}
				queue(w.add(children))
				w.done()
			}
		})
	}
	g.Wait()
	f.enqueue(held)
	return w.err
}

// dagWalk holds the inner nodes a walk has yet to fetch. It ends when none
// is left and none is being fetched (whose children would be more), or on
// the first failure.
type dagWalk struct {
	mu      sync.Mutex
	more    *sync.Cond
	pending []cid.Cid
	// Each inner node is fetched once however many parents link to it:
	// a DAG that links one child twice at every level would otherwise
	// cost a walk twice the work per level.
	seen map[string]bool
	busy int
	err  error // the first failure, which ends the walk
}

// add takes inner nodes to fetch from cids and returns the raw leaves.
func (w *dagWalk) add(cids []cid.Cid) (leaves []cid.Cid) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range cids {
		switch {
		case c.Type() == cid.Raw:
			leaves = append(leaves, c)
		case !w.seen[c.KeyString()]:
			w.seen[c.KeyString()] = true
			w.pending = append(w.pending, c)
		}
	}
	w.more.Broadcast()
	return leaves
}

// next takes an inner node to fetch, waiting while others are being
// fetched; false means the walk is over.
func (w *dagWalk) next() (cid.Cid, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.pending) == 0 && w.busy > 0 && w.err == nil {
		w.more.Wait()
	}
	if len(w.pending) == 0 || w.err != nil {
		return cid.Undef, false
	}
	c := w.pending[len(w.pending)-1]
	w.pending = w.pending[:len(w.pending)-1]
	w.busy++
	return c, true
}

// done marks a node fetched, after its children were added.
func (w *dagWalk) done() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.busy--
	w.more.Broadcast()
}

// fail ends the walk with err, unless it already ended with another.
func (w *dagWalk) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
	w.more.Broadcast()
}
