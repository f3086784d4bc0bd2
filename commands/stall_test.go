package commands

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/imgp2p/imgp2p/node"
)

// hangingNode fetches nothing, and its redial hangs as a dial to a peer
// that accepts and never finishes the handshake does: until libp2p's 5 s
// limit, or its context.
type hangingNode struct{}

func (hangingNode) Stats() node.Stats         { return node.Stats{} }
func (hangingNode) ConnectedPeers() []peer.ID { return nil }
func (hangingNode) Redial(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
	}
}

// A stalled transfer ends about --timeout after its last block, even when
// the redial on the way hangs: with --timeout 3s it ended after 8 s.
func TestStallEndsOnTimeWhenTheRedialHangs(t *testing.T) {
	const limit = 3 * time.Second
	start := time.Now()
	_, ctx, stop := watchStalls(context.Background(), io.Discard, hangingNode{}, limit, func(string, ...any) {})
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(limit + 2*time.Second):
		t.Fatalf("still running %v after the last block, with --timeout %v", time.Since(start).Round(time.Millisecond), limit)
	}
	if took := time.Since(start); took < limit {
		t.Fatalf("ended after %v, before --timeout %v", took, limit)
	}
}

// redialTimer fetches nothing and notes how much time each redial had.
type redialTimer struct {
	mu   sync.Mutex
	left []time.Duration
}

func (*redialTimer) Stats() node.Stats         { return node.Stats{} }
func (*redialTimer) ConnectedPeers() []peer.ID { return nil }
func (r *redialTimer) Redial(ctx context.Context) {
	deadline, _ := ctx.Deadline()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.left = append(r.left, time.Until(deadline))
}

// At --timeout's own tick a stalled transfer ends, whatever the ticker's
// jitter: when it fell short, about half the time, the watch redialed with
// no time left to dial back (dropping the peers the error then counted as
// 0) and ended a tick late. With --timeout 5s it ticks every second and
// may redial every 2 s: at 2 s and 4 s of silence, then it ends at 5 s.
func TestStallEndsOnItsTickWithoutALastRedial(t *testing.T) {
	t.Parallel()
	const limit, tick = 5 * time.Second, time.Second
	n := &redialTimer{}
	start := time.Now()
	_, ctx, stop := watchStalls(context.Background(), io.Discard, n, limit, func(string, ...any) {})
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(limit + 3*tick):
		t.Fatalf("no stall %v after the watch started, with --timeout %v", limit+3*tick, limit)
	}
	// The first tick sees the transfer start; silence counts from there.
	if took := time.Since(start); took > tick+limit+tick/2 {
		t.Errorf("ended %v after the first tick, with --timeout %v", (took - tick).Round(time.Millisecond), limit)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.left) != 2 {
		t.Errorf("%d redials, want 2 (after 2 s and 4 s of silence); time left to each: %v", len(n.left), n.left)
	}
	for _, left := range n.left {
		if left < tick/2 {
			t.Errorf("a redial started with %v left; time left to each: %v", left.Round(time.Millisecond), n.left)
		}
	}
}

// trickleNode stores no block, but bytes of blocks keep arriving.
type trickleNode struct{ incoming atomic.Int64 }

func (n *trickleNode) Stats() node.Stats       { return node.Stats{Incoming: n.incoming.Add(transitFloor)} }
func (*trickleNode) ConnectedPeers() []peer.ID { return nil }
func (*trickleNode) Redial(context.Context)    {}

// Bytes of blocks still arriving are progress: on a slow link no block
// is whole for longer than --timeout, and the watch took the transfer for
// a stalled one, redialed (throwing away every block in flight) and ended
// it.
func TestStallWaitsForBlocksStillArriving(t *testing.T) {
	const limit = time.Second
	_, ctx, stop := watchStalls(context.Background(), io.Discard, &trickleNode{}, limit, func(format string, args ...any) {
		t.Errorf("the watch said: "+format, args...)
	})
	defer stop()
	select {
	case <-ctx.Done():
		t.Fatalf("ended while bytes kept arriving: %v", context.Cause(ctx))
	case <-time.After(3 * limit):
	}
}

// Bytes that never make a block are progress only for so long: a peer
// trickling them would otherwise hold the pull for ever.
func TestStallEndsWhenBytesNeverMakeABlock(t *testing.T) {
	t.Parallel()
	const limit = 400 * time.Millisecond
	start := time.Now()
	_, ctx, stop := watchStalls(context.Background(), io.Discard, &trickleNode{}, limit, func(string, ...any) {})
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(2 * partialLimit * limit):
		t.Fatalf("still going %v after the watch started, with --timeout %v and bytes but no block", 2*partialLimit*limit, limit)
	}
	if took := time.Since(start); took < partialLimit*limit {
		t.Errorf("ended after %v, before %d× --timeout", took.Round(time.Millisecond), partialLimit)
	}
	if cause := context.Cause(ctx); !errors.Is(cause, errStalled) || !strings.Contains(cause.Error(), "no whole block") {
		t.Errorf("ended with %v, want a stall naming no whole block", cause)
	}
}

// chatterNode stores no block; its Incoming rises as a message of wants
// is read and falls back once the node sees it held no block.
type chatterNode struct{ reads atomic.Int64 }

func (n *chatterNode) Stats() node.Stats {
	return node.Stats{Incoming: 100 * (n.reads.Add(1) % 2)}
}
func (*chatterNode) ConnectedPeers() []peer.ID { return nil }
func (*chatterNode) Redial(context.Context)    {}

// Messages without blocks are no progress even when a tick catches one
// half counted: the watch ends on --timeout, not 4× --timeout.
func TestStallSeesThroughChatter(t *testing.T) {
	t.Parallel()
	const limit = 400 * time.Millisecond
	_, ctx, stop := watchStalls(context.Background(), io.Discard, &chatterNode{}, limit, func(string, ...any) {})
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(partialLimit * limit):
		t.Fatalf("still going %v after the watch started, with --timeout %v and only chatter", partialLimit*limit, limit)
	}
	if cause := context.Cause(ctx); !errors.Is(cause, errStalled) || !strings.Contains(cause.Error(), "no block arrived") {
		t.Errorf("ended with %v, want a stall naming no block", cause)
	}
}

// echoNode stores no block and sends none, but each redial's new bitswap
// stream brings the peer's echo of the protocol negotiation, counted as
// bitswap bytes and never taken back.
type echoNode struct{ incoming atomic.Int64 }

func (n *echoNode) Stats() node.Stats       { return node.Stats{Incoming: n.incoming.Load()} }
func (*echoNode) ConnectedPeers() []peer.ID { return nil }
func (n *echoNode) Redial(context.Context)  { n.incoming.Add(41) }

// A residue that grows a little with every redial is no progress: the
// watch ends on --timeout (TestLANPartialHolder's pull from a peer with
// nothing more to send ran 4× --timeout, redialing every 2 s).
func TestStallSeesThroughRedialResidue(t *testing.T) {
	t.Parallel()
	const limit = 5 * time.Second // redials at 2 and 4 s, as in TestLANPartialHolder
	start := time.Now()
	_, ctx, stop := watchStalls(context.Background(), io.Discard, &echoNode{}, limit, func(string, ...any) {})
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(partialLimit * limit):
		t.Fatalf("still going %v after the watch started, with --timeout %v and only redial residue", partialLimit*limit, limit)
	}
	// The watch's first tick, a second in, is its starting point.
	if took := time.Since(start); took > limit+2*time.Second {
		t.Errorf("ended after %v, want --timeout %v after the first tick", took.Round(time.Millisecond), limit)
	}
	if cause := context.Cause(ctx); !errors.Is(cause, errStalled) || !strings.Contains(cause.Error(), "no block arrived") {
		t.Errorf("ended with %v, want a stall naming no block", cause)
	}
}
