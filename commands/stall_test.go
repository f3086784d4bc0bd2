package commands

import (
	"context"
	"io"
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
