package node

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Only peers that owe blocks and have been silent for the quiet time are
// pinged, each once at a time; bytes from a peer, or the last block it
// owed arriving, take it off the list.
func TestLivenessDue(t *testing.T) {
	l := newLiveness(context.Background(), nil)
	l.quiet = time.Minute
	owing, paid, idle := peer.ID("owing"), peer.ID("paid"), peer.ID("idle")
	l.owe(owing, "a")
	l.owe(owing, "b")
	l.owe(paid, "c")
	l.forgive(paid, "c")
	l.forgive(owing, "a") // still owes b
	h := hearing{l}
	h.LogRecvMessageStream(100, "", idle) // owes nothing: not watched

	later := time.Now().Add(2 * time.Minute)
	if got := l.due(time.Now()); len(got) != 0 {
		t.Errorf("due before the quiet time: %v", got)
	}
	if got := l.due(later); len(got) != 1 || got[0] != owing {
		t.Errorf("due after the quiet time: %v, want [%s]", got, owing)
	}
	if got := l.due(later); len(got) != 0 {
		t.Errorf("due again while being probed: %v", got)
	}
	delete(l.probing, owing)

	// A failed read (a ping reset by its timeout) is no answer.
	start := time.Now()
	v, _ := l.heard.Load(owing)
	v.(*atomic.Int64).Store(start.Add(-time.Hour).UnixNano())
	h.LogRecvMessageStream(0, "", owing)
	if !l.silentSince(owing, start) {
		t.Errorf("a read of 0 bytes counted as hearing from the peer")
	}
	h.LogRecvMessageStream(1, "", owing)
	if got := l.due(time.Now().Add(l.quiet / 2)); len(got) != 0 {
		t.Errorf("due right after the peer sent bytes: %v", got)
	}
	l.gone(owing)
	if got := l.due(later); len(got) != 0 {
		t.Errorf("due after disconnecting: %v", got)
	}
}

// A peer that disconnected owes nothing, even if a want reached it after
// bitswap said it was gone: it is forgotten, not pinged.
func TestLivenessForgetsPeersNoLongerConnected(t *testing.T) {
	l := newLiveness(context.Background(), nil)
	l.quiet = time.Minute
	ghost, here := peer.ID("ghost"), peer.ID("here")
	l.connected = func(p peer.ID) bool { return p != ghost }
	l.owe(ghost, "a")
	l.owe(here, "b")
	later := time.Now().Add(2 * time.Minute)
	if got := l.due(later); len(got) != 1 || got[0] != here {
		t.Fatalf("due: %v, want only [%s]", got, here)
	}
	if _, ok := l.owed[ghost]; ok || l.probing[ghost] {
		t.Fatalf("a disconnected peer is still watched (owed %v, probing %v)", l.owed[ghost], l.probing[ghost])
	}
}

// Bitswap bytes from a peer that owes blocks count as incoming as they
// are read, before any block is whole; other protocols' bytes, and a peer
// owing nothing, do not.
func TestLivenessCountsIncomingBlockBytes(t *testing.T) {
	l := newLiveness(context.Background(), nil)
	owing, idle := peer.ID("owing"), peer.ID("idle")
	l.owe(owing, "a")
	h := hearing{l}
	h.LogRecvMessageStream(1000, "/ipfs/bitswap/1.2.0", owing)
	h.LogRecvMessageStream(50, "/ipfs/lan/kad/1.0.0", owing)
	h.LogRecvMessageStream(70, "/ipfs/bitswap/1.2.0", idle)
	if got := l.incoming.Load(); got != 1000 {
		t.Errorf("incoming %d bytes, want the owing peer's 1000 bitswap bytes", got)
	}
}
