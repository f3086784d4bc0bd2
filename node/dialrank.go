package node

import (
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"
)

// quicAfterTCP is how long a dial waits on a peer's TCP addresses before
// it tries the others (QUIC, WebTransport, WebRTC). It is libp2p's own
// delay between transports for public addresses; once a TCP socket has
// connected, the swarm holds further dials back while it upgrades.
const quicAfterTCP = swarm.PublicTCPDelay

// preferTCP ranks a peer's addresses as libp2p's default ranker does,
// except that TCP goes first where the peer has it. The default prefers
// QUIC, and an image moves several times slower through it on the same
// machine: quic-go sends and receives every packet of at most 1452 bytes
// separately (encrypting each on its own), where TCP hands the kernel
// 64 KiB segments that a NIC, or loopback, cuts up for free. A 1 GiB
// one-shot pull from a loopback peer took 11.8–15.7 s over QUIC against
// 6.8–7.7 s over TCP (three alternating runs, both cores otherwise busy).
func preferTCP(addrs []ma.Multiaddr) []network.AddrDelay {
	var tcp, other []ma.Multiaddr
	for _, a := range addrs {
		if isTCP(a) {
			tcp = append(tcp, a)
		} else {
			other = append(other, a)
		}
	}
	if len(tcp) == 0 || len(other) == 0 {
		return swarm.DefaultDialRanker(addrs)
	}
	ranked := swarm.DefaultDialRanker(tcp)
	for _, d := range swarm.DefaultDialRanker(other) {
		d.Delay += quicAfterTCP
		ranked = append(ranked, d)
	}
	return ranked
}

// isTCP says whether a is a plain, direct libp2p TCP address (WebSocket
// runs over TCP too, as may a relayed address, but neither is what the
// ranking is for).
func isTCP(a ma.Multiaddr) bool {
	tcp := false
	for _, c := range a {
		switch c.Protocol().Code {
		case ma.P_TCP:
			tcp = true
		case ma.P_WS, ma.P_WSS, ma.P_QUIC_V1, ma.P_UDP, ma.P_CIRCUIT:
			// A relay reached over TCP is no direct TCP address: put
			// first, it would go ahead of a peer's direct QUIC address,
			// where libp2p's ranking dials relays last.
			return false
		}
	}
	return tcp
}
