package node

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/imgp2p/imgp2p/store"
)

// Two nodes that each listen on TCP and QUIC, and know both of each
// other's addresses, connect over TCP.
func TestNodesConnectOverTCPWhenBothAreOffered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	both := []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	var nodes [2]*Node
	for i := range nodes {
		repo, err := store.Open(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { repo.Close() })
		n, err := New(ctx, repo, Options{Mode: ModeLAN, Listen: both})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		nodes[i] = n
	}
	a, b := nodes[0].Host, nodes[1].Host
	if len(a.Addrs()) < 2 {
		t.Fatalf("node listens on %v, want a TCP and a QUIC address", a.Addrs())
	}
	if err := b.Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Addrs()}); err != nil {
		t.Fatal(err)
	}
	for _, c := range b.Network().ConnsToPeer(a.ID()) {
		if !isTCP(c.RemoteMultiaddr()) {
			t.Errorf("connected over %s, want TCP", c.RemoteMultiaddr())
		}
	}
}

// A peer with no TCP address is still dialed at once.
func TestRankingWithoutTCPKeepsTheDefault(t *testing.T) {
	quic := ma.StringCast("/ip4/10.0.0.2/udp/4001/quic-v1")
	ranked := preferTCP([]ma.Multiaddr{quic})
	if len(ranked) != 1 || ranked[0].Delay != 0 {
		t.Fatalf("ranked %v, want the QUIC address with no delay", ranked)
	}
	tcp := ma.StringCast("/ip4/10.0.0.2/tcp/4001")
	ranked = preferTCP([]ma.Multiaddr{quic, tcp})
	if len(ranked) != 2 || !ranked[0].Addr.Equal(tcp) || ranked[0].Delay != 0 || ranked[1].Delay < quicAfterTCP {
		t.Fatalf("ranked %v, want TCP at once and QUIC after %v", ranked, quicAfterTCP)
	}
}

// A peer whose only direct address is QUIC, reachable too through a relay
// it reaches over TCP, is dialed directly first, as libp2p's own ranking
// does: the relayed address is not a TCP address to put first.
func TestRelayOverTCPIsNotDialedBeforeDirectQUIC(t *testing.T) {
	quic := ma.StringCast("/ip4/1.2.3.4/udp/4001/quic-v1")
	relay := ma.StringCast("/ip4/5.6.7.8/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit")
	delay := map[string]time.Duration{}
	for _, d := range preferTCP([]ma.Multiaddr{relay, quic}) {
		delay[d.Addr.String()] = d.Delay
	}
	if delay[relay.String()] <= delay[quic.String()] {
		t.Errorf("relay dialed after %v, direct QUIC after %v: want the direct address first", delay[relay.String()], delay[quic.String()])
	}
}
