package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
)

func parsePeers(addrs []string) ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	for _, a := range addrs {
		info, err := peer.AddrInfoFromString(a)
		if err != nil {
			return nil, fmt.Errorf("invalid peer address %q: %v (want a multiaddr ending in /p2p/PEER-ID)", a, err)
		}
		out = append(out, *info)
	}
	return out, nil
}

// peerKeeper dials static peers and redials them when they drop, with
// backoff, for as long as the node runs. A peer that cannot be reached is
// reported once when it fails and once when it comes back: a daemon (or a
// pull) whose --peer is wrong would otherwise wait in silence.
type peerKeeper struct{ wg sync.WaitGroup }

const (
	redialMin = 500 * time.Millisecond
	redialMax = 30 * time.Second
)

func keepConnected(ctx context.Context, h host.Host, peers []peer.AddrInfo, sources *peerSources, logf func(string, ...any)) *peerKeeper {
	k := &peerKeeper{}
	for _, p := range peers {
		h.Peerstore().AddAddrs(p.ID, p.Addrs, peerstore.PermanentAddrTTL)
		h.ConnManager().Protect(p.ID, "static")
		sources.set(p.ID, SourceStatic)
		k.wg.Add(1)
		go func(p peer.AddrInfo) {
			defer k.wg.Done()
			backoff := redialMin
			failing := false
			for {
				if h.Network().Connectedness(p.ID) != network.Connected {
					err := h.Connect(ctx, p)
					switch {
					case ctx.Err() != nil:
						return
					case err != nil:
						if !failing {
							logf("warning: cannot reach peer %s (retrying): %s", p.ID, dialError(err))
						}
						failing = true
						backoff = min(backoff*2, redialMax)
					default:
						if failing {
							logf("connected to peer %s", p.ID)
						}
						failing = false
						backoff = redialMin
					}
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
			}
		}(p)
	}
	return k
}

func (k *peerKeeper) wait() { k.wg.Wait() }

// ConnectedPeers lists the peers the host is connected to now.
func (n *Node) ConnectedPeers() []peer.ID {
	if n.Host == nil {
		return nil
	}
	return n.Host.Network().Peers()
}

// Connect dials peers now, all at once, and protects them from connection
// trimming. It fails only if none of them could be reached.
func (n *Node) Connect(ctx context.Context, addrs []string) error {
	peers, err := parsePeers(addrs)
	if err != nil {
		return err
	}
	if n.Host == nil {
		return fmt.Errorf("cannot dial %v: the node is offline", addrs)
	}
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		n.Host.ConnManager().Protect(p.ID, "static")
		n.sources.set(p.ID, SourceStatic)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.Host.Connect(ctx, p)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("could not reach any of %v: %w", addrs, errors.Join(errs...))
}

// Redial drops every connection to a peer it can dial back (one with a
// known address) and dials the same peers again. It is
// the cure for a bitswap exchange that has stopped moving: both sides
// forget their per-peer want state on disconnect (a want one side thinks
// is pending and the other has dropped is never sent again otherwise), and
// the wantlist is sent afresh on reconnect. Peers we found (by mDNS, say)
// whose connection has since ended are dialed too: mDNS reports a peer
// again only about once a minute, and one of them may hold what the
// stalled exchange waits for.
func (n *Node) Redial(ctx context.Context) {
	if n.Host == nil {
		return
	}
	peers := map[peer.ID]bool{}
	for _, p := range n.Host.Network().Peers() {
		peers[p] = true
	}
	for _, p := range n.sources.sought() {
		peers[p] = true
	}
	// Past the swarm's dial backoff: a peer that failed a dial a moment
	// ago (a link that flapped) is what this is meant to bring back.
	ctx = network.WithForceDirectDial(ctx, "redial a stalled exchange")
	var wg sync.WaitGroup
	for p := range peers {
		info := n.Host.Peerstore().PeerInfo(p)
		if len(info.Addrs) == 0 {
			continue
		}
		_ = n.Host.Network().ClosePeer(p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = n.Host.Connect(ctx, info)
		}()
	}
	wg.Wait()
}

// dialError is a failed dial as one line of a log (libp2p lists each
// address tried on a line of its own), with a hint where the cause is
// likely: libp2p cannot tell a peer in another private network from a
// broken one, the security handshake just fails.
func dialError(err error) string {
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n  * ", "; ")), " ")
	if strings.Contains(msg, "failed to negotiate security protocol") {
		msg += " (a peer in another private network fails this way: both sides need the same swarm key, or none)"
	}
	return msg
}
