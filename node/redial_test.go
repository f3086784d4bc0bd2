package node

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A peer found by mDNS whose connection ended (the peer closed it, or
// the liveness watch did) is dialed again by Redial, not only the peers
// still connected: mDNS would report it again only a minute later.
func TestRedialReachesFoundPeersNoLongerConnected(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := loopbackNode(t, ctx), loopbackNode(t, ctx)
	if err := a.Host.Connect(ctx, peer.AddrInfo{ID: b.Host.ID(), Addrs: b.Host.Addrs()}); err != nil {
		t.Fatal(err)
	}
	a.sources.set(b.Host.ID(), SourceMDNS)
	// b refuses a while the connection ends, so nothing (a's DHT, say)
	// reconnects them before Redial.
	b.banned.add(a.Host.ID())
	b.Host.Network().ClosePeer(a.Host.ID())
	deadline := time.Now().Add(10 * time.Second)
	for a.Host.Network().Connectedness(b.Host.ID()) == network.Connected {
		if time.Now().After(deadline) {
			t.Fatal("a still connected to b 10s after b closed the connection")
		}
		time.Sleep(10 * time.Millisecond) // poll interval, bounded by the deadline
	}
	b.banned.mu.Lock()
	delete(b.banned.until, a.Host.ID())
	b.banned.mu.Unlock()
	// A dial a's DHT began while b refused it may still be failing: a
	// Redial that joins it fails with it, so a few are allowed. The old
	// Redial never dialed b at all, however often it ran.
	for try := 0; !redialConnected(ctx, t, a, b); try++ {
		if try == 3 {
			t.Fatal("Redial did not dial a peer found by mDNS whose connection had ended")
		}
	}
}

// redialConnected runs a.Redial and reports whether it left a and b
// connected as both see it. a's view alone is not enough: a dial a began
// while b refused it completes on a's side (the initiator finishes the
// handshake first) and b drops it a moment later, and a Redial may hand
// back that doomed connection. On a loaded machine, and under qemu-user,
// that failed three Redials in a row. So this waits for b to accept a
// connection, or for a's connections to b to be gone.
func redialConnected(ctx context.Context, t *testing.T, a, b *Node) bool {
	t.Helper()
	a.Redial(ctx)
	connected := false
	waitFor(t, "connection b accepts, nor end of a's", func() bool {
		connected = a.Host.Network().Connectedness(b.Host.ID()) == network.Connected &&
			b.Host.Network().Connectedness(a.Host.ID()) == network.Connected
		return connected || len(a.Host.Network().ConnsToPeer(b.Host.ID())) == 0
	})
	return connected
}
