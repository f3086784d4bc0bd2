package node

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
)

// mdnsAddrTTL keeps a discovered peer's addresses well past one mDNS
// record lifetime: the peer is announced only about once per TTL, so a
// first failed dial must be retried from what we kept.
const mdnsAddrTTL = 10 * time.Minute

// multicastInterface reports whether any interface can carry mDNS. The
// loopback interface has no multicast flag.
func multicastInterface() bool {
	ifaces, err := net.Interfaces()
	if err != nil {
		return false
	}
	for _, i := range ifaces {
		if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagMulticast != 0 && i.Flags&net.FlagLoopback == 0 {
			return true
		}
	}
	return false
}

// mdnsDiscovery finds peers on the LAN with Kubo's service name, so Kubo
// nodes with mDNS on find us and we find them, and keeps them connected.
type mdnsDiscovery struct {
	ctx     context.Context
	h       host.Host
	sources *peerSources
	svc     mdns.Service

	mu      sync.Mutex
	dialing map[peer.ID]bool
	wg      sync.WaitGroup
}

// startMDNS must run after the host listens: the service announces the
// addresses it sees at Start.
func startMDNS(ctx context.Context, h host.Host, sources *peerSources) (*mdnsDiscovery, error) {
	d := &mdnsDiscovery{ctx: ctx, h: h, sources: sources, dialing: map[peer.ID]bool{}}
	d.svc = mdns.NewMdnsService(h, mdns.ServiceName, d)
	if err := d.svc.Start(); err != nil {
		return nil, err
	}
	return d, nil
}

// HandlePeerFound implements mdns.Notifee.
func (d *mdnsDiscovery) HandlePeerFound(p peer.AddrInfo) {
	if p.ID == d.h.ID() {
		return
	}
	d.h.Peerstore().AddAddrs(p.ID, p.Addrs, mdnsAddrTTL)
	d.h.ConnManager().Protect(p.ID, "mdns")
	d.sources.set(p.ID, SourceMDNS)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dialing[p.ID] || d.ctx.Err() != nil {
		return
	}
	d.dialing[p.ID] = true
	d.wg.Add(1)
	go d.connect(p.ID)
}

// connect dials a discovered peer with backoff until it connects or its
// addresses expire.
func (d *mdnsDiscovery) connect(id peer.ID) {
	defer d.wg.Done()
	defer func() {
		d.mu.Lock()
		delete(d.dialing, id)
		d.mu.Unlock()
	}()
	backoff := redialMin
	deadline := time.Now().Add(mdnsAddrTTL)
	for time.Now().Before(deadline) {
		addrs := d.h.Peerstore().Addrs(id)
		if len(addrs) == 0 {
			return
		}
		if err := d.h.Connect(d.ctx, peer.AddrInfo{ID: id, Addrs: addrs}); err == nil {
			return
		}
		select {
		case <-d.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, redialMax)
	}
	d.h.Peerstore().UpdateAddrs(id, mdnsAddrTTL, peerstore.TempAddrTTL)
}

func (d *mdnsDiscovery) close() error {
	err := d.svc.Close()
	d.wg.Wait()
	return err
}
