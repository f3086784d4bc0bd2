package node

import (
	"net/netip"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// gater decides which connections a node makes and accepts. In LAN mode
// it neither dials nor accepts any address but loopback, private (RFC
// 1918), link-local and unique-local ones; names (/dns…) and relayed
// addresses are refused, since where they lead cannot be known before
// dialing. In every mode it refuses peers banned for lying.
type gater struct {
	lanOnly bool
	banned  *banList
}

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

func (g gater) InterceptPeerDial(p peer.ID) bool { return !g.banned.has(p) }

func (g gater) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	return (!g.lanOnly || IsLocalAddr(a)) && !g.banned.has(p)
}

func (g gater) InterceptAccept(c network.ConnMultiaddrs) bool {
	return !g.lanOnly || IsLocalAddr(c.RemoteMultiaddr())
}

func (g gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return !g.banned.has(p)
}

func (gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// banDuration is how long a peer caught lying is refused. Long enough that
// a pull never meets it twice, short enough that a peer with a corrupted
// repo that gets repaired is welcome again.
const banDuration = time.Hour

// banList holds peers refused until a deadline.
type banList struct {
	mu    sync.Mutex
	until map[peer.ID]time.Time
}

func newBanList() *banList { return &banList{until: map[peer.ID]time.Time{}} }

func (b *banList) add(p peer.ID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.until[p] = time.Now().Add(banDuration)
}

func (b *banList) has(p peer.ID) bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	deadline, ok := b.until[p]
	if ok && time.Now().After(deadline) {
		delete(b.until, p)
		return false
	}
	return ok
}
