package node

import (
	"context"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Provide announces roots to the DHT in the background: image roots and
// blob roots, never every chunk, since a session that finds a peer for a
// root asks that peer for the children. Failures (no DHT peers yet) are
// expected on a fresh network and ignored; the daemon reprovides.
func (n *Node) Provide(roots []cid.Cid) {
	if !n.Online() {
		return
	}
	n.tasks.Add(1)
	go func() {
		defer n.tasks.Done()
		for _, c := range roots {
			ctx, cancel := context.WithTimeout(n.ctx, time.Minute)
			_ = n.router.Provide(ctx, c, true)
			cancel()
			if n.ctx.Err() != nil {
				return
			}
		}
	}()
}

// FindProviders looks up peers providing c and dials them, reporting each
// one found on the channel, which closes when the search ends.
func (n *Node) FindProviders(ctx context.Context, c cid.Cid) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo)
	if !n.Online() {
		close(out)
		return out
	}
	found := n.router.FindProvidersAsync(ctx, c, 0)
	go func() {
		defer close(out)
		for p := range found {
			if p.ID == n.Host.ID() {
				continue
			}
			n.sources.set(p.ID, SourceDHT)
			if len(p.Addrs) > 0 {
				_ = n.Host.Connect(ctx, p)
			}
			select {
			case out <- p:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// ProvidersOf asks the DHT which peers provide c, this node included if it
// does, and returns up to limit of them when that many are found or ctx
// ends. Unlike FindProviders it dials nobody.
func (n *Node) ProvidersOf(ctx context.Context, c cid.Cid, limit int) []peer.AddrInfo {
	if !n.Online() {
		return nil
	}
	var out []peer.AddrInfo
	for p := range n.router.FindProvidersAsync(ctx, c, limit) {
		out = append(out, p)
	}
	return out
}
