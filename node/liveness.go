package node

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
)

// A peer that leaves the LAN without closing its connections (a cable
// pulled, Wi-Fi gone, a link down) looks connected for up to 40 s: yamux
// pings every 30 s and gives a ping 10 s. Bitswap waits on it all that
// time for every block it asked of it: a want-block sent to a peer that
// said HAVE goes to no other peer until that one answers DONT_HAVE or
// disconnects (bitswap's simulated DONT_HAVE does not count after a
// HAVE). Another puller holding the block, or a holder that just joined,
// goes unused, and a pull stalls until its stall watch redials (15 s of
// total silence) or yamux gives up.
//
// liveness watches the peers that owe this node blocks (a want-block
// sent, and no block, DONT_HAVE or cancel since). One that sends not a
// byte on any stream for owedQuiet gets a libp2p ping; if it does not
// answer within probeTimeout it is disconnected, so bitswap asks the
// others, and redialed in the background, so it serves again if it
// comes back. A busy peer (a seeder queueing our want behind others')
// answers the ping; a slow link keeps delivering bytes, so it is never
// pinged. Idle peers owe nothing and are never pinged either.
const (
	owedQuiet    = 4 * time.Second
	probeTimeout = 4 * time.Second
	// lostRedialMax caps the backoff redialing a peer dropped as silent:
	// a link that comes back is used again within this long.
	lostRedialMax = 8 * time.Second
)

type liveness struct {
	ctx   context.Context
	logf  func(string, ...any)
	h     host.Host // set by start, once the host exists
	quiet time.Duration
	// probe reports whether p answered within the probe timeout; a ping,
	// except in tests.
	probe func(ctx context.Context, p peer.ID) bool
	// connected reports whether p is still connected; nil (in tests)
	// takes every peer as connected.
	connected func(p peer.ID) bool

	// heard holds an *owingPeer for each peer that owes blocks. A
	// sync.Map because every read from every stream looks here.
	heard sync.Map
	// incoming counts the bitswap bytes read from peers that owe blocks,
	// as they are read: what a transfer's progress is on a slow link,
	// where a 1 MiB block, sent beside the others asked of the same
	// peer, takes many seconds to be whole.
	incoming atomic.Int64

	mu      sync.Mutex
	owed    map[peer.ID]map[string]struct{} // multihashes asked as blocks
	probing map[peer.ID]bool
	wg      sync.WaitGroup
}

// owingPeer is what liveness keeps of a peer that owes blocks.
type owingPeer struct {
	// heard is when it last sent a byte, or began to owe if later: unix
	// nanoseconds.
	heard atomic.Int64
	// counted is its bitswap bytes added to incoming and not yet settled
	// by the message they belong to: all a message without a block may
	// take back, since bytes read before the peer owed were never added.
	counted atomic.Int64
}

func newLiveness(ctx context.Context, logf func(string, ...any)) *liveness {
	return &liveness{ctx: ctx, logf: logf, quiet: owedQuiet, owed: map[peer.ID]map[string]struct{}{}, probing: map[peer.ID]bool{}}
}

// start watches h's peers until the context ends.
func (l *liveness) start(h host.Host) {
	l.h = h
	l.probe = l.ping
	l.connected = func(p peer.ID) bool { return h.Network().Connectedness(p) == network.Connected }
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-l.ctx.Done():
				return
			case now := <-tick.C:
				for _, p := range l.due(now) {
					l.wg.Add(1)
					go func() {
						defer l.wg.Done()
						l.check(p)
					}()
				}
			}
		}
	}()
}

func (l *liveness) wait() { l.wg.Wait() }

// heardFrom notes n bytes from p, read on a stream of proto, if p owes
// blocks.
func (l *liveness) heardFrom(p peer.ID, n int64, proto protocol.ID) {
	if v, ok := l.heard.Load(p); ok {
		o := v.(*owingPeer)
		o.heard.Store(time.Now().UnixNano())
		if strings.HasPrefix(string(proto), bitswapProtocols) {
			o.counted.Add(n)
			l.incoming.Add(n)
		}
	}
}

// bitswapProtocols prefixes every bitswap protocol ID; only those streams
// carry blocks.
const bitswapProtocols = "/ipfs/bitswap"

// owe notes p asked for the block mh; forgive, that it no longer owes it.
func (l *liveness) owe(p peer.ID, mh string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	set, ok := l.owed[p]
	if !ok {
		set = map[string]struct{}{}
		l.owed[p] = set
		o := new(owingPeer)
		o.heard.Store(time.Now().UnixNano())
		l.heard.Store(p, o)
	}
	set[mh] = struct{}{}
}

func (l *liveness) forgive(p peer.ID, mh string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	set, ok := l.owed[p]
	if !ok {
		return
	}
	delete(set, mh)
	if len(set) == 0 {
		delete(l.owed, p)
		l.heard.Delete(p)
	}
}

// gone forgets p: disconnected, it owes nothing.
func (l *liveness) gone(p peer.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.owed, p)
	l.heard.Delete(p)
}

// due lists the peers to ping now: owing blocks, silent for quiet, not
// being pinged already.
func (l *liveness) due(now time.Time) []peer.ID {
	l.mu.Lock()
	var out []peer.ID
	for p := range l.owed {
		if l.probing[p] || !l.silentSince(p, now.Add(-l.quiet)) {
			continue
		}
		l.probing[p] = true
		out = append(out, p)
	}
	l.mu.Unlock()
	if l.connected == nil {
		return out
	}
	// A want sent just as a peer disconnected lands after PeerDisconnected
	// cleared the peer: it owes nothing, and pinging it would only log it
	// as silent and redial it. (Asked outside mu: the swarm's own locks
	// come first.)
	live := out[:0]
	for _, p := range out {
		if l.connected(p) {
			live = append(live, p)
			continue
		}
		l.gone(p)
		l.mu.Lock()
		delete(l.probing, p)
		l.mu.Unlock()
	}
	return live
}

// silentSince reports whether p owes blocks and sent nothing after t.
func (l *liveness) silentSince(p peer.ID, t time.Time) bool {
	v, ok := l.heard.Load(p)
	return ok && v.(*owingPeer).heard.Load() <= t.UnixNano()
}

// check pings p and drops it if it stays silent.
func (l *liveness) check(p peer.ID) {
	defer func() {
		l.mu.Lock()
		delete(l.probing, p)
		l.mu.Unlock()
	}()
	asked := time.Now()
	if l.probe(l.ctx, p) || l.ctx.Err() != nil || !l.silentSince(p, asked) {
		return
	}
	l.logf("peer %s stopped answering (no data for %s, no reply to a ping within %s): disconnected; its blocks are asked of other peers", p, (l.quiet + time.Since(asked)).Round(time.Second), probeTimeout)
	_ = l.h.Network().ClosePeer(p)
	l.redial(p)
}

func (l *liveness) ping(ctx context.Context, p peer.ID) bool {
	ctx, cancel := context.WithTimeout(network.WithNoDial(ctx, "liveness probe"), probeTimeout)
	defer cancel()
	res, ok := <-ping.Ping(ctx, l.h, p)
	return ok && res.Error == nil
}

// redial dials a dropped peer with backoff until it is connected again,
// by us or by it, for as long as its addresses last. mDNS reports a peer
// only about once a minute, too seldom to rely on for one that was gone
// a few seconds.
func (l *liveness) redial(p peer.ID) {
	wait := redialMin
	for deadline := time.Now().Add(mdnsAddrTTL); time.Now().Before(deadline); {
		select {
		case <-l.ctx.Done():
			return
		case <-time.After(wait):
		}
		if l.h.Network().Connectedness(p) == network.Connected {
			return
		}
		addrs := l.h.Peerstore().Addrs(p)
		if len(addrs) == 0 {
			return
		}
		if err := l.h.Connect(l.ctx, peer.AddrInfo{ID: p, Addrs: addrs}); err == nil {
			l.logf("peer %s is back", p)
			return
		}
		wait = min(2*wait, lostRedialMax)
	}
}
