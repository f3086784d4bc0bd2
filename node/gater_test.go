package node

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// The gater is tested on addresses alone: no packet is ever sent to a
// public address, not even from inside a namespace.
func TestLANGaterAllowsOnlyLocalAddresses(t *testing.T) {
	cases := map[string]bool{
		"/ip4/127.0.0.1/tcp/4001":                              true,
		"/ip4/10.1.2.3/tcp/4001":                               true,
		"/ip4/172.16.0.9/udp/4001/quic-v1":                     true,
		"/ip4/192.168.1.7/tcp/4001":                            true,
		"/ip4/169.254.10.1/tcp/4001":                           true,
		"/ip6/::1/tcp/4001":                                    true,
		"/ip6/fd00::1/tcp/4001":                                true,
		"/ip6/fe80::1/tcp/4001":                                true,
		"/ip4/8.8.8.8/tcp/4001":                                false,
		"/ip4/104.131.131.82/udp/4001/quic-v1":                 false,
		"/ip4/172.32.0.1/tcp/4001":                             false,
		"/ip4/100.64.0.1/tcp/4001":                             false,
		"/ip6/2001:db8::1/tcp/4001":                            false,
		"/ip6/::ffff:8.8.8.8/tcp/4001":                         false,
		"/dns4/bootstrap.libp2p.io/tcp/4001":                   false,
		"/dnsaddr/bootstrap.libp2p.io":                         false,
		"/ip4/10.0.0.1/tcp/4001/p2p-circuit":                   false,
		"/ip4/8.8.8.8/tcp/4001/p2p-circuit/ip4/10.0.0.1/tcp/1": false,
	}
	g := gater{lanOnly: true}
	for s, want := range cases {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got := g.InterceptAddrDial("", a); got != want {
			t.Errorf("dial %s: allowed=%v, want %v", s, got, want)
		}
		if got := g.InterceptAccept(conn{a}); got != want {
			t.Errorf("accept from %s: allowed=%v, want %v", s, got, want)
		}
	}
}

type conn struct{ remote ma.Multiaddr }

func (c conn) LocalMultiaddr() ma.Multiaddr  { return c.remote }
func (c conn) RemoteMultiaddr() ma.Multiaddr { return c.remote }

func TestGaterRefusesBannedPeers(t *testing.T) {
	const liar, honest = peer.ID("liar"), peer.ID("honest")
	g := gater{banned: newBanList()}
	g.banned.add(liar)
	a, _ := ma.NewMultiaddr("/ip4/127.0.0.1/tcp/4001")
	if g.InterceptPeerDial(liar) || g.InterceptAddrDial(liar, a) || g.InterceptSecured(network.DirInbound, liar, conn{a}) {
		t.Error("a banned peer may still connect")
	}
	if !g.InterceptPeerDial(honest) || !g.InterceptAddrDial(honest, a) || !g.InterceptSecured(network.DirInbound, honest, conn{a}) {
		t.Error("an honest peer is refused")
	}
	g.banned.until[liar] = time.Now().Add(-time.Second)
	if !g.InterceptPeerDial(liar) {
		t.Error("a ban does not expire")
	}
}
