package node

import (
	"context"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Provide announces roots to the DHT in the background: image roots and
// blob roots, never every chunk, since a session that finds a peer for a
// root asks that peer for the children. In public mode each goes to both
// DHTs, each announcing at its own pace. A root that cannot be announced
// on a DHT (no peers there yet: a node just started, its peers not yet
// identified) is tried again there until provideRetryFor after the call;
// after that each root left is tried once, and the daemon's reprovide is
// the next chance. The window is the batch's, not each root's: a public
// server with no LAN peers spent 2 minutes on every root, one after
// another, on its LAN DHT.
func (n *Node) Provide(roots []cid.Cid) {
	if !n.Online() {
		return
	}
	deadline := time.Now().Add(provideRetryFor)
	for _, a := range n.router.announcers() {
		n.tasks.Add(1)
		go func() {
			defer n.tasks.Done()
			for _, c := range roots {
				if !n.provideOne(a, c, deadline) {
					return
				}
			}
		}()
	}
}

// provideRetryFor is a var for tests.
var provideRetryFor = 2 * time.Minute

// provideOne announces c through a, retrying with backoff while it fails,
// until deadline. It returns false once the node is closing.
func (n *Node) provideOne(a announcer, c cid.Cid, deadline time.Time) bool {
	wait := time.Second
	for {
		ctx, cancel := context.WithTimeout(n.ctx, time.Minute)
		err := a.Provide(ctx, c, true)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return n.ctx.Err() == nil
		}
		select {
		case <-n.ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, 16*time.Second)
	}
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
