package node

import (
	"net/netip"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// lanGater keeps a LAN-mode node on the local network: it neither dials
// nor accepts any address but loopback, private (RFC 1918), link-local and
// unique-local ones. Names (/dns…) and relayed addresses are refused, since
// where they lead cannot be known before dialing.
type lanGater struct{}

// IsLocalAddr reports whether a multiaddr stays on the local network.
func IsLocalAddr(a ma.Multiaddr) bool {
	for _, c := range a {
		if c.Protocol().Code == ma.P_CIRCUIT {
			return false
		}
	}
	ip, err := manet.ToIP(a)
	if err != nil {
		return false
	}
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	addr = addr.Unmap()
	return addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast()
}

func (lanGater) InterceptPeerDial(peer.ID) bool { return true }

func (lanGater) InterceptAddrDial(_ peer.ID, a ma.Multiaddr) bool { return IsLocalAddr(a) }

func (lanGater) InterceptAccept(c network.ConnMultiaddrs) bool {
	return IsLocalAddr(c.RemoteMultiaddr())
}

func (lanGater) InterceptSecured(network.Direction, peer.ID, network.ConnMultiaddrs) bool {
	return true
}

func (lanGater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }
