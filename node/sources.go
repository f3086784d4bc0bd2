package node

import (
	"sort"
	"sync"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// How a peer was found.
const (
	SourceStatic  = "static"
	SourceMDNS    = "mdns"
	SourceDHT     = "dht"
	SourceInbound = "inbound"
)

// peerSources remembers how we learnt of each peer we sought out.
type peerSources struct {
	mu sync.Mutex
	m  map[peer.ID]string
}

func newPeerSources() *peerSources { return &peerSources{m: map[peer.ID]string{}} }

// set records a source; a static peer stays static whatever else finds it.
func (s *peerSources) set(p peer.ID, source string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[p] != SourceStatic {
		s.m[p] = source
	}
}

// sought lists the peers we found (statically, by mDNS or the DHT), not
// those that only dialed us.
func (s *peerSources) sought() []peer.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []peer.ID
	for p, src := range s.m {
		if src != SourceInbound {
			out = append(out, p)
		}
	}
	return out
}

func (s *peerSources) get(p peer.ID) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.m[p]
	return src, ok
}

// PeerInfo is a connected peer.
type PeerInfo struct {
	ID     peer.ID
	Addrs  []string
	Source string
	Agent  string
}

// Peers lists the connected peers and how each was found: static (--peer
// or config), mdns, dht (met through the DHT), or inbound (it dialed us).
func (n *Node) Peers() []PeerInfo {
	if n.Host == nil {
		return nil
	}
	var out []PeerInfo
	for _, p := range n.Host.Network().Peers() {
		info := PeerInfo{ID: p, Source: SourceInbound}
		if src, ok := n.sources.get(p); ok {
			info.Source = src
		} else if n.router != nil && n.router.knows(p) {
			info.Source = SourceDHT
		} else if conns := n.Host.Network().ConnsToPeer(p); len(conns) > 0 && conns[0].Stat().Direction == network.DirOutbound {
			info.Source = SourceDHT
		}
		for _, c := range n.Host.Network().ConnsToPeer(p) {
			info.Addrs = append(info.Addrs, c.RemoteMultiaddr().String())
		}
		if av, err := n.Host.Peerstore().Get(p, "AgentVersion"); err == nil {
			info.Agent, _ = av.(string)
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
